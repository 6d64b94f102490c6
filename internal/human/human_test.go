package human

import (
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestFormats(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ got, want string }{
		{Duration(-time.Second), "0s"},
		{Duration(42 * time.Second), "42s"},
		{Duration(3*time.Minute + 7*time.Second), "3m07s"},
		{Duration(2*time.Hour + 5*time.Minute), "2h05m"},
		{Duration(76 * time.Hour), "3d04h"},
		{Setting(5 * time.Minute), "5m"},
		{Setting(90 * time.Minute), "1h30m"},
		{Setting(2 * time.Hour), "2h"},
		{Setting(30 * time.Second), "30s"},
		{Setting(1500 * time.Millisecond), "1.5s"},
		{Ago(now, time.Time{}), "never"},
		{Ago(now, now.Add(-42*time.Second)), "42s ago"},
		{Since(now, time.Time{}), "-"},
		{Since(now, now.Add(-3*time.Minute)), "3m00s"},
		{Bytes(512), "512B"},
		{Bytes(1229), "1.20K"},
		{Bytes(34 << 20), "34.0M"},
		{Bytes(1 << 60), "1024.0P"},
		{Rate(0), "0"},
		{Rate(4.5), "4.5"},
		{Rate(12.4), "12"},
		{Count(1, "session"), "1 session"},
		{Count(0, "session"), "0 sessions"},
		{Count(2, "mailbox|mailboxes"), "2 mailboxes"},
		{YesNo(true), "yes"},
		{YesNo(false), "no"},
		{Clean("alice"), "alice"},
		{Clean("a\x1b[2Jb\x7f\u009bc"), "a?[2Jb??c"},
		{Clean("bad\xffutf8"), "bad?utf8"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// The characters Clean replaces, by class: each must come out as "?",
// whatever surrounds it.
var unsafeByClass = map[string][]rune{
	"C0":        {0x00, 0x07, 0x08, 0x0a, 0x0d, 0x1b, 0x1f},
	"DEL, C1":   {0x7f, 0x80, 0x85, 0x9b, 0x9d, 0x9f},
	"bidi":      {0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c},
	"format":    {0x00ad, 0x180e, 0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0xfff9, 0xe0001, 0xe0041},
	"separator": {0x2028, 0x2029},
	"invalid":   {utf8.RuneError},
}

func TestCleanEveryClass(t *testing.T) {
	for class, rs := range unsafeByClass {
		for _, r := range rs {
			in := "ab" + string(r) + "cd"
			if got := Clean(in); got != "ab?cd" {
				t.Errorf("%s U+%04X: Clean(%q) = %q, want %q", class, r, in, got, "ab?cd")
			}
		}
	}
	// A name that reads "gpj.exe" reversed, as a POP3 client might send it.
	if got := Clean("alice\u202egpj.exe\u202c"); got != "alice?gpj.exe?" {
		t.Errorf("bidi override: %q", got)
	}
	if got := Clean("bad\xe2\x80utf8"); got != "bad??utf8" { // each invalid byte
		t.Errorf("truncated sequence: %q", got)
	}
}

// Clean leaves printable text of every script alone, combining marks and
// emoji included, and replaces exactly the runes of categories Cc, Cf, Zl
// and Zp.
func TestCleanKeepsText(t *testing.T) {
	for _, s := range []string{"alice", "José Müller", "ünïcödé", "日本語のユーザー", "עברית", "العربية",
		"Ελληνικά", "e\u0301", "👍🏽", "a b", "x\u00a0y", "\U0001F600", "carol@example.org"} {
		if got := Clean(s); got != s {
			t.Errorf("Clean(%q) = %q", s, got)
		}
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xd800 && r <= 0xdfff { // surrogates: not in valid UTF-8
			continue
		}
		want := unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError
		if Unsafe(r) != (want && r != utf8.RuneError) {
			t.Fatalf("Unsafe(U+%04X) = %v", r, Unsafe(r))
		}
		if got := Clean(string(r)) != string(r); got != want {
			t.Fatalf("U+%04X: replaced %v, want %v", r, got, want)
		}
	}
}

func TestNatural(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"9", "10", -1}, {"10", "9", 1}, {"7", "7", 0},
		{"k3f9-9", "k3f9-10", -1}, {"k3f9-10", "k3f9-9", 1},
		{"k3f8-99", "k3f9-1", -1}, // an earlier boot's tag first
		{"alice", "bob", -1}, {"user2", "user10", -1},
	} {
		if got := Natural(tc.a, tc.b); got != tc.want {
			t.Errorf("Natural(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
