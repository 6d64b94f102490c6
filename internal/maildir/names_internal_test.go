package maildir

import (
	"slices"
	"strings"
	"testing"
)

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// FuzzBaseKey checks that the fast sort keys agree with compareBases, and
// that compareBases is an order.
func FuzzBaseKey(f *testing.F) {
	seeds := []string{
		"1732550000.M123456P789Q3.host", "1732550000.P5Q1.host", "999999999.M1P1.x",
		"01732550000.M1.x", "1732550000.V801I2a3bM123P45.host,S=3,W=4",
		"12345678901234567890123.M1.x", "1234567890123456789.M99999999999999999999.y",
		"abc", "Zeta", "", "1", "1.M", "1.M0", "1.M00", "1.x.M5", "1.aM5.x",
	}
	for i, a := range seeds {
		f.Add(a, seeds[(i+1)%len(seeds)], seeds[(i+5)%len(seeds)])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ka, kb := keyOf(a), keyOf(b)
		cab := compareBases(a, b)
		if k := ka.compare(kb); k != 0 && sign(k) != sign(cab) {
			t.Fatalf("keys %v %v order %q %q as %d, compareBases as %d", ka, kb, a, b, k, cab)
		}
		if sign(compareBases(b, a)) != -sign(cab) {
			t.Fatalf("compareBases(%q, %q) not antisymmetric", a, b)
		}
		if (cab == 0) != (a == b) {
			t.Fatalf("compareBases(%q, %q) = %d", a, b, cab)
		}
		s := []string{a, b, c}
		slices.SortFunc(s, compareBases)
		if compareBases(s[0], s[1]) > 0 || compareBases(s[1], s[2]) > 0 || compareBases(s[0], s[2]) > 0 {
			t.Fatalf("not transitive: %q", s)
		}
	})
}

// FuzzParseCache: a cache file is written by us but lives in the user's
// maildir; whatever it holds must not crash Open.
func FuzzParseCache(f *testing.F) {
	f.Add("popd-sizes 1\n4 6 1.M1P1.h\n2 3 2.M1P1.h\nend 2\n")
	f.Add("popd-sizes 1\nend 0\n")
	f.Add("popd-sizes 1\n2 3 2.M1P1.h\n4 6 1.M1P1.h\nend 2\n")
	f.Fuzz(func(t *testing.T, s string) {
		lines, err := parseCache(s)
		if err != nil {
			return
		}
		for i, l := range lines {
			if l.raw < 0 || l.size < l.raw || l.base == "" || strings.Contains(l.base, "\n") {
				t.Fatalf("bad line %+v", l)
			}
			if i > 0 && compareBases(lines[i-1].base, l.base) >= 0 {
				t.Fatalf("out of order: %q %q", lines[i-1].base, l.base)
			}
		}
		// Applying it to any list must not crash either.
		msgs := []message{newMessage(folderNew, "1.M1P1.h"), newMessage(folderCur, "2.M1P1.h:2,S")}
		keys := []sortKey{{keyOf(msgs[0].base), 0, 0}, {keyOf(msgs[1].base), 0, 1}}
		applyCache(msgs, keys, lines)
	})
}

// FuzzParseLock: a lock file may be written by anyone who can write the
// maildir.
func FuzzParseLock(f *testing.F) {
	f.Add(string(formatLock(lockData{LockInfo: LockInfo{Owner: "x", Host: "h", PID: 1}, token: "t"})))
	f.Add("pid: -1\nhost: \n")
	f.Fuzz(func(t *testing.T, s string) {
		d := parseLock([]byte(s))
		staleness(d, DefaultStaleLock, d.Refreshed)
	})
}

func TestWithFlag(t *testing.T) {
	for _, tc := range []struct {
		flags string
		f     byte
		want  string
	}{
		{"", 'S', "S"},
		{"", 0, ""},
		{"T", 'S', "ST"},
		{"FR", 'S', "FRS"},
		{"SF", 0, "FS"},
		{"S", 'S', "S"},
		{"a", 'S', "Sa"},
	} {
		if got := withFlag(tc.flags, tc.f); got != tc.want {
			t.Errorf("withFlag(%q, %q) = %q, want %q", tc.flags, tc.f, got, tc.want)
		}
	}
}
