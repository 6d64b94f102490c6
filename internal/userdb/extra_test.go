package userdb

import (
	"slices"
	"strings"
	"testing"

	"popd/internal/maildir"
)

func TestUserdbFields(t *testing.T) {
	lines := []string{
		/* 1 */ "a:{PLAIN}pa:1000:1000::/home/a::userdb_mail=maildir:/x/%u userdb_home=/home/x",
		/* 2 */ "b:{PLAIN}pb:1000:1000::/home/b:::maildir:~/Maildir:LAYOUT=fs", // old format
		/* 3 */ "c@example.org:{PLAIN}pc:1:1::/home/c::userdb_home=/var/vmail/%d/%n userdb_mail=maildir:~/Maildir:CONTROL=/var/control/%d/%n",
		/* 4 */ "d:{PLAIN}pd:1:1::/home/d::userdb_home= quota_rule=*:storage=1G",
		/* 5 */ "e:{PLAIN}pe:1:1::/home/e::userdb_mail=maildir:/a  userdb_mail=maildir:/b userdb_uid=5 mail=mbox:~/mail nologin",
		/* 6 */ "f:{PLAIN}pf:1:1::/home/f:::maildir:~/M nologin", // old format and more words
		/* 7 */ "g:{PLAIN}pg:1:1::/home/g:::", // an empty old-format field
		/* 8 */ "h:{PLAIN}ph:1:1::/home/h::userdb_mail userdb_home",
		/* 9 */ "i:{PLAIN}pi:1:1::/home/i::userdb_mail=maildir:~/a::b:INDEX=MEMORY",
		// Refused, with the reason logged.
		/* 10 */ "r1:{PLAIN}p:1:1::/home/r::userdb_mail=mbox:~/mail:INBOX=/var/mail/%u",
		/* 11 */ `r2:{PLAIN}p:1:1::/home/r::userdb_mail="maildir:~/Maildir"`,
		/* 12 */ "r3:{PLAIN}p:1:1::/home/r::userdb_mail=maildir:%h/Maildir",
		/* 13 */ "r4:{PLAIN}p:1:1::/home/r::userdb_home=%h/x",
		/* 14 */ "r5:{PLAIN}p:1:1::/home/r::userdb_home=home/r5",
		/* 15 */ "r6:{PLAIN}p:1:1::::userdb_mail=maildir:~/Maildir",
		/* 16 */ "r7:{PLAIN}p:1:1::/home/r::userdb_mail=maildir:/m/%x",
		/* 17 */ "r8:{PLAIN}p:1:1::/home/r::userdb_mail=maildir:/m/%d/%n",
		/* 18 */ "r9:{PLAIN}p:1:1::/home/r::userdb_mail=maildir:/m\tx",
		/* 19 */ "r10:{PLAIN}p:1:1::/home/r::userdb_mail=sdbox:~/dbox",
		/* 20 */ "r11:{PLAIN}p:1:1::/home/r::userdb_mail=maildir:/m:LAYOUT=index",
		/* 21 */ "r1:{PLAIN}second:1:1::/home/r::userdb_mail=maildir:~/Maildir", // the refused first line keeps the name
	}
	f, logs := open(t, strings.Join(lines, "\n")+"\n")
	type want struct {
		home, mail, path, control string
		disabled                  bool
	}
	wants := map[string]want{
		"a":             {home: "/home/x", mail: "maildir:/x/%u", path: "/x/a"},
		"b":             {home: "/home/b", mail: "maildir:~/Maildir:LAYOUT=fs", path: "/home/b/Maildir"},
		"c@example.org": {home: "/var/vmail/example.org/c", mail: "maildir:~/Maildir:CONTROL=/var/control/%d/%n", path: "/var/vmail/example.org/c/Maildir", control: "/var/control/example.org/c/.INBOX"},
		"d":             {home: ""},
		"e":             {home: "/home/e", mail: "maildir:/b", path: "/b", disabled: true},
		"f":             {home: "/home/f", mail: "maildir:~/M", path: "/home/f/M", disabled: true},
		"g":             {home: "/home/g"},
		"h":             {home: ""},
		"i":             {home: "/home/i", mail: "maildir:~/a::b:INDEX=MEMORY", path: "/home/i/a:b"},
	}
	var names []string
	for _, u := range f.Users() {
		names = append(names, u.Name)
		w, ok := wants[u.Name]
		if !ok {
			continue
		}
		got := want{home: u.Home, mail: u.Mail, disabled: u.Disabled}
		if u.Mail != "" {
			loc, err := maildir.ParseLocation(u.Mail, u.Name, u.Home)
			if err != nil {
				t.Errorf("%s: %v", u.Name, err)
			}
			got.path, got.control = loc.Path, loc.Control
		}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", u.Name, got, w)
		}
	}
	if got, want := strings.Join(names, ","), "a,b,c@example.org,d,e,f,g,h,i"; got != want {
		t.Errorf("users %s, want %s", got, want)
	}
	for _, s := range []string{
		"user=r1 line=10", "Maildir only",
		"user=r2 line=11", "quotes",
		"user=r3 line=12", "userdb_mail: %h is empty",
		"user=r4 line=13", "userdb_home: %h is empty",
		"user=r5 line=14", "userdb_home: not an absolute path",
		"user=r6 line=15", "no home directory",
		"user=r7 line=16", "unknown variable",
		"user=r8 line=17", "no domain",
		"user=r9 line=18", "control character",
		"user=r10 line=19",
		"user=r11 line=20", "LAYOUT=index",
		"user=r1 line=21 first=10",
	} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("log lacks %q", s)
		}
	}
	if strings.Contains(logs.String(), "second") {
		t.Error("a password is in the log")
	}
	if _, err := f.Verify("r1", "second"); err != ErrUnknownUser {
		t.Errorf("Verify(r1) = %v, want ErrUnknownUser", err)
	}
	if u, err := f.Verify("a", "pa"); err != nil || u.Home != "/home/x" || u.Mail != "maildir:/x/%u" {
		t.Errorf("Verify(a) = %#v (home %q, mail %q), %v", u, u.Home, u.Mail, err)
	}
}

func TestDovecotWords(t *testing.T) {
	for _, tc := range []struct {
		extra string
		want  []string
	}{
		{"", nil},
		{"a=b  c\td", []string{"a=b", "c\td"}}, // spaces only, as Dovecot splits
		{":maildir:~/M:LAYOUT=fs x=y", []string{"userdb_mail=maildir:~/M:LAYOUT=fs", "x=y"}},
		{":", nil},
		{"::maildir:~/M", nil}, // an empty ninth field: nothing at all
		{`userdb_mail="maildir:~/a b"`, []string{`userdb_mail="maildir:~/a`, `b"`}}, // no quoting
	} {
		if got := dovecotWords(tc.extra); !slices.Equal(got, tc.want) {
			t.Errorf("dovecotWords(%q) = %q, want %q", tc.extra, got, tc.want)
		}
	}
}

func TestSetDisabledField(t *testing.T) {
	for _, tc := range []struct {
		extra, disabled, enabled string
	}{
		{"", "popd_disabled", ""},
		{"userdb_mail=maildir:~/Maildir", "userdb_mail=maildir:~/Maildir popd_disabled", "userdb_mail=maildir:~/Maildir"},
		{"a=b   userdb_mail=maildir:~/M\tq=r", "a=b   userdb_mail=maildir:~/M\tq=r popd_disabled", "a=b   userdb_mail=maildir:~/M\tq=r"},
		{"x ", "x popd_disabled", "x "},
		{"nologin popd_disabled=yes reason=x", "nologin reason=x popd_disabled", "reason=x"},
		{"a  nologin\tb", "a  nologin\tb popd_disabled", "a\tb"},
		{" popd_disabled", "popd_disabled", ""},
		{"popd_disabled=no userdb_home=/h", "userdb_home=/h popd_disabled", "userdb_home=/h"},
		{":maildir:~/M", ":maildir:~/M popd_disabled", ":maildir:~/M"},
		{":", "popd_disabled", ":"},
		{": ", "popd_disabled", ": "},
	} {
		if got := setDisabledField(tc.extra, true); got != tc.disabled {
			t.Errorf("disable %q = %q, want %q", tc.extra, got, tc.disabled)
		} else if u, _ := parseLine("u:p:::::" + ":" + got); u == nil || !u.Disabled {
			t.Errorf("disable %q: %q is not disabled", tc.extra, got)
		}
		if got := setDisabledField(tc.extra, false); got != tc.enabled {
			t.Errorf("enable %q = %q, want %q", tc.extra, got, tc.enabled)
		} else if u, _ := parseLine("u:p:::::" + ":" + got); u == nil || u.Disabled {
			t.Errorf("enable %q: %q is disabled", tc.extra, got)
		}
	}
}

// TestEditsKeepUserdbFields: every edit keeps the extra fields byte for
// byte, and what is read back has the same mail location and home.
func TestEditsKeepUserdbFields(t *testing.T) {
	const (
		alice = "alice:{PLAIN}a:1000:1000:Alice:/home/alice:/bin/false:userdb_mail=maildir:~/Maildir:CONTROL=/c/%u  userdb_home=/srv/%u quota_rule=*:storage=1G\tx=y"
		bob   = "bob:{PLAIN}b:1000:1000::/home/bob:::maildir:~/Mail::box:LAYOUT=fs"
	)
	f, _ := open(t, "# users\n"+alice+"\n"+bob+"\n")
	p := f.Path()
	extraOf := func(name string) string {
		t.Helper()
		for _, l := range strings.Split(readString(t, p), "\n") {
			if strings.HasPrefix(l, name+":") {
				return strings.SplitN(l, ":", 8)[7]
			}
		}
		t.Fatalf("no line for %s", name)
		return ""
	}
	check := func(what string) {
		t.Helper()
		g, err := Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string][2]string{
			"alice": {"/srv/alice", "maildir:~/Maildir:CONTROL=/c/%u"},
			"bob":   {"/home/bob", "maildir:~/Mail::box:LAYOUT=fs"},
		} {
			u, ok := g.Lookup(name)
			if !ok || u.Home != want[0] || u.Mail != want[1] {
				t.Errorf("%s: %s: home %q, mail %q; want %q", what, name, u.Home, u.Mail, want)
			}
		}
	}
	aliceExtra, bobExtra := extraOf("alice"), extraOf("bob")

	if err := f.SetPassword("alice", "new pw"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetPassword("bob", "new pw"); err != nil {
		t.Fatal(err)
	}
	if extraOf("alice") != aliceExtra || extraOf("bob") != bobExtra {
		t.Errorf("SetPassword changed the extra fields: %q, %q", extraOf("alice"), extraOf("bob"))
	}
	check("after SetPassword")

	for _, name := range []string{"alice", "bob"} {
		if err := f.SetDisabled(name, true); err != nil {
			t.Fatal(err)
		}
	}
	if got := extraOf("alice"); got != aliceExtra+" popd_disabled" {
		t.Errorf("alice disabled: %q", got)
	}
	if got := extraOf("bob"); got != bobExtra+" popd_disabled" {
		t.Errorf("bob disabled: %q", got)
	}
	check("disabled")
	for _, name := range []string{"alice", "bob"} {
		if err := f.SetDisabled(name, false); err != nil {
			t.Fatal(err)
		}
	}
	if extraOf("alice") != aliceExtra || extraOf("bob") != bobExtra {
		t.Errorf("disable and enable changed the extra fields: %q, %q", extraOf("alice"), extraOf("bob"))
	}
	check("enabled again")

	if err := f.Add("carol", "carol pw"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete("carol"); err != nil {
		t.Fatal(err)
	}
	if extraOf("alice") != aliceExtra || extraOf("bob") != bobExtra {
		t.Error("Add and Delete changed the extra fields")
	}
	check("after Add and Delete")
}
