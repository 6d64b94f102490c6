package userdb

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary files to the parser: it must not panic, must give
// the bytes back exactly when nothing is edited, must only ever load valid
// names, and an edit of one line must leave every other line alone.
func FuzzParse(f *testing.F) {
	f.Add([]byte(editFixture))
	f.Add([]byte("alice:{PLAIN}a\r\nbob:$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1:1:2:g:/h:/s:x=y z\n"))
	f.Add([]byte("a:{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc\n"))
	f.Add([]byte("a:{BLF-CRYPT}" + dummyHash + "\n#c\n\n:x\nb\n"))
	f.Add([]byte("a:$5$rounds=1000$x$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC\n"))
	f.Add([]byte("\r\r\n\n:::::::::\n{}:{}\nx:{\nx:{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, lines := parse(data, discard)
		if !bytes.Equal(joinLines(lines), data) {
			t.Fatalf("lines do not give the file back")
		}
		if len(tab.users) != len(tab.sorted) {
			t.Fatalf("%d users, %d sorted", len(tab.users), len(tab.sorted))
		}
		for name, u := range tab.users {
			if ValidName(name) != nil || u.Name != name || u.sec == nil {
				t.Fatalf("bad user %q", name)
			}
			if lines[u.line-1].name != name {
				t.Fatalf("user %q: line %d names %q", name, u.line, lines[u.line-1].name)
			}
			if u.Disabled != disabled(u.Fields) {
				t.Fatal("Disabled inconsistent")
			}
		}
		// Rewrite the extra fields of the first user: only its line changes,
		// and it still parses as the same user.
		if len(tab.sorted) == 0 {
			return
		}
		u := tab.sorted[0]
		i := u.line - 1
		edited := append([]line(nil), lines...)
		edited[i].text = setField(edited[i].text, 7, "popd_disabled")
		tab2, lines2 := parse(joinLines(edited), discard)
		if len(lines2) != len(lines) {
			t.Fatalf("edit changed the number of lines: %d -> %d", len(lines), len(lines2))
		}
		for j := range lines {
			if j != i && lines[j] != lines2[j] {
				t.Fatalf("edit of line %d changed line %d", i+1, j+1)
			}
		}
		u2 := tab2.users[u.Name]
		// (A userdb_home among the old extra fields overrode the home
		// column; without it the column counts.)
		sameHome := u2 != nil && (u2.Home == u.Home || strings.Contains(u.Extra, FieldHome))
		if u2 == nil || !u2.Disabled || u2.Scheme != u.Scheme || !sameHome || strings.TrimSpace(u2.Extra) != "popd_disabled" {
			t.Fatalf("edited user: %#v", u2)
		}
	})
}

// FuzzParseSecret: the password-field parser never panics, and what it
// accepts it accepts consistently.
func FuzzParseSecret(f *testing.F) {
	for _, v := range shaCryptVectors {
		f.Add(v.hash)
	}
	f.Add("{BLF-CRYPT}" + dummyHash)
	f.Add("{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc")
	f.Add("{PLAIN}x")
	f.Add(rfc7677Field)
	f.Add("{x}")
	f.Fuzz(func(t *testing.T, field string) {
		s := parseSecret(field)
		if s.ok == (s.why != "") {
			t.Fatalf("ok=%v why=%q", s.ok, s.why)
		}
		if s.ok && s.sha != nil {
			// Parsing is exact: the hash prints back as it was read.
			body := field[strings.Index(field, "$"):]
			if s.sha.String() != body {
				t.Fatalf("%q printed back as %q", body, s.sha.String())
			}
		}
		// (No verify here: a fuzzed ARGON2ID or bcrypt cost could be
		// legitimately expensive.)
	})
}
