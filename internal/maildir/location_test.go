package maildir_test

import (
	"errors"
	"strings"
	"testing"

	"popd/internal/maildir"
)

func TestParseLocation(t *testing.T) {
	const home = "/home/bob"
	for _, tc := range []struct {
		loc, name, home string
		path, control   string // path "" = an error is wanted
		errHas          string // part of the error
	}{
		// From Dovecot 2.3's documentation.
		{loc: "maildir:~/Maildir", path: "/home/bob/Maildir"},
		{loc: "maildir:~/Maildir:LAYOUT=fs", path: "/home/bob/Maildir"},
		{loc: "maildir:%h/Maildir:LAYOUT=fs", path: "/home/bob/Maildir"},
		{loc: "maildir:/home/%u/Maildir", name: "alice", home: "-", path: "/home/alice/Maildir"},
		{loc: "maildir:~/Maildir:INDEX=/var/indexes/%u", path: "/home/bob/Maildir"},
		{loc: "maildir:~/Maildir:INDEX=MEMORY", path: "/home/bob/Maildir"},
		{loc: "maildir:~/Maildir:INBOX=~/Maildir/.INBOX", path: "/home/bob/Maildir/.INBOX"},
		{loc: "maildir:/var/vmail/%d/%n:CONTROL=/var/vmail/control/%d/%n:INDEX=/var/index/%d/%n", name: "bob@example.org",
			path: "/var/vmail/example.org/bob", control: "/var/vmail/control/example.org/bob/.INBOX"},
		{loc: "maildir:~/Maildir:LAYOUT=fs:CONTROL=~/control/", path: "/home/bob/Maildir", control: "/home/bob/control/INBOX"},
		{loc: "maildir:~/Maildir:INBOX=/var/inbox/%u:CONTROL=/c/%u", path: "/var/inbox/bob", control: "/c/bob/.INBOX"},
		{loc: "maildir:/var/mail/%Ld/%Ln", name: "Bob@Example.ORG", path: "/var/mail/example.org/bob"},
		{loc: "maildir:/var/mail/%Uu", name: "bob", path: "/var/mail/BOB"},
		{loc: "maildir:%{home}/M/%{user}/%{username}/%{domain}", name: "b@x.org", path: "/home/bob/M/b@x.org/b/x.org"},
		{loc: "maildir:~/Maildir:UTF-8:ITERINDEX:INDEX=/i/%u:NO-NOSELECT:VOLATILEDIR=/tmp/%u:BROKENCHAR=%%:ALTNOCHECK:LISTINDEX=x:SUBSCRIPTIONS=subs",
			path: "/home/bob/Maildir"},
		// "::" is a ":" of the path; a final ":" is ignored; one trailing
		// "/" goes; the driver is matched without case; %% is "%".
		{loc: "maildir:/srv/a::b/%u:CONTROL=/c::d", path: "/srv/a:b/bob", control: "/c:d/.INBOX"},
		{loc: "maildir:/srv/mail/%u/:", path: "/srv/mail/bob"},
		{loc: "MailDir:~", path: "/home/bob"},
		{loc: "maildir:~/", home: "/home/bob/", path: "/home/bob"},
		{loc: "maildir:/m/100%%/%u", path: "/m/100%/bob"},
		{loc: "maildir:%h/M", home: "/home/100%u", path: "/home/100%u/M"}, // expanded once
		// Dovecot compares LAYOUT case-sensitively when it decides that
		// INBOX is the root: other spellings make it an ordinary mailbox.
		{loc: "maildir:~/M:LAYOUT=Maildir++", path: "/home/bob/M/.INBOX"},
		{loc: "maildir:~/M:LAYOUT=FS:CONTROL=/c", path: "/home/bob/M/INBOX", control: "/c/INBOX"},
		{loc: "maildir:~/M:LAYOUT=maildir++", path: "/home/bob/M"},

		// Errors.
		{loc: "mbox:~/mail:INBOX=/var/mail/%u", errHas: "Maildir only"},
		{loc: "sdbox:~/dbox", errHas: "Maildir only"},
		{loc: "mdbox:~/mdbox", errHas: "Maildir only"},
		{loc: "auto:~/Maildir", errHas: "Maildir only"},
		{loc: "~/Maildir", errHas: "no mail storage driver"},
		{loc: "/var/mail/%u", errHas: "no mail storage driver"},
		{loc: `"maildir:~/Maildir"`, errHas: "quotes"},
		{loc: "maildir:", errHas: "no mail root"},
		{loc: "maildir:INBOX=/var/mail/%u", errHas: "no mail root"},
		{loc: "maildir:~/Maildir", home: "-", errHas: "no home"},
		{loc: "maildir:%h/Maildir", home: "-", errHas: "no home"},
		{loc: "maildir:/m:CONTROL=~/c", home: "-", errHas: "CONTROL"},
		{loc: "maildir:~alice/Maildir", errHas: "~user"},
		{loc: "maildir:Maildir", errHas: "not an absolute path"},
		{loc: "maildir:/m:INBOX=inbox", errHas: "not an absolute path"},
		{loc: "maildir:/m/%d/%n", name: "bob", errHas: "no domain"},
		{loc: "maildir:/m/%x", errHas: "unknown variable"},
		{loc: "maildir:/m/%{service}", errHas: "unknown variable"},
		{loc: "maildir:/m/%{}", errHas: "no variable"},
		{loc: "maildir:/m/%{user", errHas: "no closing"},
		{loc: "maildir:/m/%", errHas: "at the end"},
		{loc: "maildir:/m/%L", errHas: "at the end"},
		{loc: "maildir:/m/%1n/%n", errHas: "widths"},
		{loc: "maildir:/m/%2.256Hu", errHas: "widths"},
		{loc: "maildir:/m/%Mu", errHas: "modifier M"},
		{loc: "maildir:/m:FOO=bar", errHas: `unknown setting "FOO"`},
		{loc: "maildir:/m:index=/i", errHas: "unknown setting"},
		{loc: "maildir:/m:LAYOUT=index", errHas: "LAYOUT=index"},
		{loc: "maildir:/m:LAYOUT=imapdir", errHas: "LAYOUT=imapdir"},
		{loc: "maildir:/m:LAYOUT=", errHas: "LAYOUT="},
		{loc: "maildir:/m:DIRNAME=mail", errHas: "DIRNAME"},
		{loc: "maildir:/m:FULLDIRNAME=mail", errHas: "FULLDIRNAME"},
		{loc: "maildir:/m:MAILBOXDIR=boxes", errHas: "MAILBOXDIR"},
		{loc: "maildir:/m:CONTROL=", errHas: "CONTROL is empty"},
		{loc: "maildir:/m:BROKENCHAR=ab", errHas: "BROKENCHAR"},
		{loc: "maildir:/m/%u", name: "..", errHas: "cannot be used"},
		{loc: "maildir:/m/%n", name: "x/y@example.org", errHas: "cannot be used"},
		{loc: "maildir:/m/a\tb", errHas: "control character"},
	} {
		name, h := tc.name, tc.home
		if name == "" {
			name = "bob"
		}
		switch h {
		case "":
			h = home
		case "-":
			h = ""
		}
		got, err := maildir.ParseLocation(tc.loc, name, h)
		if tc.path == "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.HasPrefix(err.Error(), "maildir: ") {
				t.Errorf("ParseLocation(%q, %q) = %+v, %v; want an error with %q", tc.loc, name, got, err, tc.errHas)
			}
			continue
		}
		if want := (maildir.Location{Path: tc.path, Control: tc.control}); err != nil || got != want {
			t.Errorf("ParseLocation(%q, %q, %q) = %+v, %v; want %+v", tc.loc, name, h, got, err, want)
		}
	}
}

func TestParseLocationNoHome(t *testing.T) {
	for _, loc := range []string{"maildir:~/Maildir", "maildir:%h/Maildir", "maildir:/m:INDEX=~/i"} {
		if _, err := maildir.ParseLocation(loc, "bob", ""); !errors.Is(err, maildir.ErrNoHome) {
			t.Errorf("ParseLocation(%q) without a home: %v, want ErrNoHome", loc, err)
		}
	}
	if _, err := maildir.ParseLocation("maildir:/m/%x", "bob", ""); errors.Is(err, maildir.ErrNoHome) {
		t.Errorf("an unknown variable is not ErrNoHome: %v", err)
	}
}

func TestExpandLocation(t *testing.T) {
	got, err := maildir.Expand("~/%Ln/%{domain}/%%/%h", "Bob@x.org", "/h")
	if want := "~/bob/x.org/%//h"; err != nil || got != want {
		t.Errorf("Expand = %q, %v; want %q", got, err, want)
	}
	if _, err := maildir.Expand("/m/%{home}", "bob", ""); !errors.Is(err, maildir.ErrNoHome) {
		t.Errorf("Expand %%{home} without a home: %v", err)
	}
}

// FuzzParseLocation: no panic, and what is accepted is absolute, free of
// control characters, and does not come from a name that climbs out.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{
		"maildir:~/Maildir", "maildir:/var/vmail/%d/%n:CONTROL=/var/vmail/control/%d/%n:INDEX=/var/index/%d/%n",
		"maildir:%h/Maildir:LAYOUT=fs", "maildir:/a::b::::c:", "maildir:%{user}%L{home}%U%", "MAILDIR:~x",
	} {
		f.Add(s, "bob@example.org", "/home/bob")
	}
	f.Fuzz(func(t *testing.T, loc, name, home string) {
		l, err := maildir.ParseLocation(loc, name, home)
		if err != nil {
			return
		}
		for _, p := range []string{l.Path, l.Control} {
			if p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\n\t")) {
				t.Fatalf("ParseLocation(%q, %q, %q) = %+v", loc, name, home, l)
			}
		}
		if l.Path == "" {
			t.Fatalf("ParseLocation(%q, %q, %q): no path", loc, name, home)
		}
	})
}
