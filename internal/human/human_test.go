package human

import (
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ got, want string }{
		{Duration(-time.Second), "0s"},
		{Duration(42 * time.Second), "42s"},
		{Duration(3*time.Minute + 7*time.Second), "3m07s"},
		{Duration(2*time.Hour + 5*time.Minute), "2h05m"},
		{Duration(76 * time.Hour), "3d04h"},
		{Ago(now, time.Time{}), "never"},
		{Ago(now, now.Add(-42*time.Second)), "42s ago"},
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
