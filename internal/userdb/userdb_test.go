package userdb

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"Alice.Smith", true},
		{"alice@example.org", true},
		{"a-b_c+d", true},
		{"jürgen", true},
		{"ñandú@ejemplo.es", true},
		{"用户", true},
		{"a..b", true},
		{"a.", true},
		{"007", true},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("é", 127), true}, // 254 bytes

		{"", false},
		{strings.Repeat("a", 256), false},
		{strings.Repeat("é", 128), false}, // 256 bytes
		{".", false},
		{"..", false},
		{".hidden", false},
		{"../x", false},
		{"/", false},
		{"/etc/passwd", false},
		{"a/b", false},
		{`a\b`, false},
		{"a:b", false},
		{"a\x00b", false},
		{"\x01", false},
		{"a\tb", false},
		{"a\nb", false},
		{"a\rb", false},
		{"a\x7fb", false},
		{"a b", false},
		{"a\xffb", false}, // not UTF-8
		{"a%b", false},
		{"a*", false},
		{"a\u200bb", false}, // zero-width space: format character
		{"a\u2028b", false}, // line separator
		// The parts of user@domain become path components in maildir
		// templates (%n, %d): none may climb out of the mail root.
		{"a@..", false},
		{"a@.", false},
		{"a@.example.org", false},
		{"..@example.org", false},
		{"a@", false},
		{"@b", false},
		{"a@@b", false},
		{"a@b@c", false},
		{"first.last@example.org", true},
		{"x..y", true}, // dots inside a component are harmless
	}
	for _, tt := range tests {
		err := ValidName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, not ErrInvalidName", tt.name, err)
		}
	}
}

func TestParse(t *testing.T) {
	content := strings.Join([]string{
		"# users for popd and dovecot",
		"",
		"   ",
		"alice:{PLAIN}alicepw",
		"bob:{plain}bobpw:1000:1000:Bob Builder:/home/bob:/bin/sh:userdb_mail=maildir:/var/mail/bob quota_rule=*:storage=1G",
		"carol:{CLEAR}carolpw::::::nologin reason=gone",
		"dave:{CLEARTEXT}davepw:::::: popd_disabled",
		"erin:{PLAIN}erinpw::::::popd_disabled=no",
		"frank:{PLAIN}frankpw::::::popd_disabled=YES",
		"alice:{PLAIN}second-alice-loses",
		"nocolon",
		"../evil:{PLAIN}x",
		":{PLAIN}noname",
		"bad name:{PLAIN}x",
		"gina:",
		"#commented:{PLAIN}x",
		"hank:{PLAIN}hankpw:1:2:G:/h:/s:a=b:c d",
	}, "\n") + "\n"
	f, logs := open(t, content)

	type want struct {
		scheme                string
		uid, gid, gecos, home string
		shell, extra          string
		fields                map[string]string
		disabled, usable      bool
	}
	wants := map[string]want{
		"alice": {scheme: "PLAIN", usable: true},
		"bob": {scheme: "PLAIN", uid: "1000", gid: "1000", gecos: "Bob Builder", home: "/home/bob", shell: "/bin/sh",
			extra:  "userdb_mail=maildir:/var/mail/bob quota_rule=*:storage=1G",
			fields: map[string]string{"userdb_mail": "maildir:/var/mail/bob", "quota_rule": "*:storage=1G"}, usable: true},
		"carol": {scheme: "PLAIN", extra: "nologin reason=gone", fields: map[string]string{"nologin": "", "reason": "gone"}, disabled: true, usable: true},
		"dave":  {scheme: "PLAIN", extra: " popd_disabled", fields: map[string]string{"popd_disabled": ""}, disabled: true, usable: true},
		"erin":  {scheme: "PLAIN", extra: "popd_disabled=no", fields: map[string]string{"popd_disabled": "no"}, usable: true},
		"frank": {scheme: "PLAIN", extra: "popd_disabled=YES", fields: map[string]string{"popd_disabled": "YES"}, disabled: true, usable: true},
		"gina":  {scheme: ""},
		"hank": {scheme: "PLAIN", uid: "1", gid: "2", gecos: "G", home: "/h", shell: "/s", extra: "a=b:c d",
			fields: map[string]string{"a": "b:c", "d": ""}, usable: true},
	}
	users := f.Users()
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	if got, want := strings.Join(names, ","), "alice,bob,carol,dave,erin,frank,gina,hank"; got != want {
		t.Fatalf("Users() = %s, want %s", got, want)
	}
	for _, u := range users {
		w := wants[u.Name]
		got := want{u.Scheme, u.UID, u.GID, u.Gecos, u.Home, u.Shell, u.Extra, u.Fields, u.Disabled, u.Usable()}
		if fmt.Sprint(got) != fmt.Sprint(w) || !maps.Equal(got.fields, w.fields) {
			t.Errorf("%s:\n got %+v\nwant %+v", u.Name, got, w)
		}
	}
	if u, _ := f.Lookup("alice"); u.line != 4 {
		t.Errorf("alice from line %d, want the first entry, line 4", u.line)
	}
	if _, err := f.Verify("alice", "alicepw"); err != nil {
		t.Errorf("first alice entry should win: %v", err)
	}
	for _, s := range []string{"line=11", "line=12", "line=14", "duplicate user", "user=alice line=10 first=4", "user=gina line=15"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("log lacks %q", s)
		}
	}
	// Line 13 (no name), 16 (comment) and the blank ones are skipped silently.
	for _, s := range []string{"line=13", "line=16", "line=2 ", "line=3 ", "noname", "nocolon", "evil", "pw"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("log has %q", s)
		}
	}
}

func TestParseCRLF(t *testing.T) {
	f, _ := open(t, "# comment\r\nalice:{PLAIN}pw\r\nbob:{PLAIN}pw2:1:2::/home/bob::nologin\r\n\r\n")
	u, ok := f.Lookup("alice")
	if !ok {
		t.Fatal("no alice")
	}
	if p, _ := u.Plaintext(); p != "pw" {
		t.Errorf("alice's password %q, want pw (no CR)", p)
	}
	u, _ = f.Lookup("bob")
	if u.Home != "/home/bob" || u.Extra != "nologin" || !u.Disabled {
		t.Errorf("bob = %#v, extra %q", u, u.Extra)
	}
	if _, err := f.Verify("alice", "pw"); err != nil {
		t.Error(err)
	}
}

func TestLookupCopies(t *testing.T) {
	f, _ := open(t, "alice:{PLAIN}pw::::::a=b\n")
	u, _ := f.Lookup("alice")
	u.Fields["a"] = "changed"
	u.Name = "x"
	u2, _ := f.Lookup("alice")
	if u2.Fields["a"] != "b" {
		t.Error("changing a returned User changed the File")
	}
	us := f.Users()
	us[0].Fields["a"] = "changed"
	if u3, _ := f.Lookup("alice"); u3.Fields["a"] != "b" {
		t.Error("changing Users() changed the File")
	}
}

func TestUserNeverShowsSecret(t *testing.T) {
	f, _ := open(t, "alice:{PLAIN}s3cr3t-pw\nbob:{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1\n")
	for _, name := range []string{"alice", "bob"} {
		u, _ := f.Lookup(name)
		var sb strings.Builder
		fmt.Fprintf(&sb, "%v %+v %#v %s %q", u, u, u, u, u)
		fmt.Fprintf(&sb, "%v %+v", []User{u}, &u)
		slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "user", u)
		slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "user", u)
		out := sb.String()
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, "svn8Uo") || strings.Contains(out, "saltstring") {
			t.Errorf("secret shown: %s", out)
		}
		if !strings.Contains(out, name) {
			t.Errorf("name not shown: %s", out)
		}
	}
}
