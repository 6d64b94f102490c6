package maildir_test

import (
	"testing"

	"popd/internal/maildir"
)

func TestMaildirPath(t *testing.T) {
	for _, tc := range []struct {
		tmpl, name, home, want string
	}{
		{"/srv/mail/%u", "alice", "", "/srv/mail/alice"},
		{"/srv/mail/%d/%n", "bob@example.org", "", "/srv/mail/example.org/bob"},
		{"~/Maildir", "carol", "/home/carol/", "/home/carol/Maildir"},
		{"/m/%%/%u", "dave", "", "/m/%/dave"},
		{"/srv/mail/%d/%n", "dave", "", ""},         // %d without a domain
		{"~/Maildir", "erin", "", ""},               // ~ without a home
		{"/srv/%x", "erin", "", ""},                 // unknown escape
		{"/srv/%", "erin", "", ""},                  // trailing %
		{"/srv/mail/%d/%n", "a@..", "", ""},         // would climb out
		{"/srv/mail/%u", "..", "", ""},              // would climb out
		{"/srv/mail/%n", "x/y@example.org", "", ""}, // a path of its own
	} {
		got, err := maildir.Path(tc.tmpl, tc.name, tc.home)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Path(%q, %q) = %q, want an error", tc.tmpl, tc.name, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Path(%q, %q) = %q, %v; want %q", tc.tmpl, tc.name, got, err, tc.want)
		}
	}
}
