package maildir

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Dovecot mail locations ("mail_location" in dovecot.conf, the "mail" field
// of a userdb), as Dovecot 2.3 reads them:
//
//   - https://doc.dovecot.org/2.3/configuration_manual/mail_location/ (format,
//     keys, "::" for a literal ":") and .../mail_location/Maildir/ (LAYOUT,
//     control files);
//   - https://doc.dovecot.org/2.3/configuration_manual/config_file/config_variables/
//     (%variables and their modifiers);
//   - dovecot/core 2.3, src/lib-storage: mail-storage.c
//     mail_storage_set_autodetection (the driver), mailbox-list.c
//     mailbox_list_settings_parse_full, split_next_arg and fix_path (the
//     rest), index/maildir/maildir-storage.c
//     maildir_storage_get_list_settings and list/mailbox-list-maildir.c,
//     list/mailbox-list-fs.c (where INBOX and its control files are).
//
// Checked against Dovecot 2.3.19: CONTROL=/c with the Maildir++ layout puts
// INBOX's dovecot-uidlist in /c/.INBOX, with LAYOUT=fs in /c/INBOX; "::" is a
// ":" of the path; "%%" is "%".

// ErrNoHome is returned (wrapped) when a location or template uses the
// user's home directory (~ or %h) and the user has none.
var ErrNoHome = errors.New("maildir: the user has no home directory")

// Location is a Dovecot mail location as far as popd uses it.
type Location struct {
	// Path is the maildir: the INBOX= path when given, otherwise the root
	// path (for Dovecot, INBOX is the root of a Maildir++ or fs layout).
	Path string
	// Control is the directory holding the maildir's dovecot-uidlist and
	// dovecot-keywords when the location has CONTROL=dir: dir/.INBOX with
	// the Maildir++ layout, dir/INBOX with LAYOUT=fs, as Dovecot puts them.
	// "" when they are in the maildir itself.
	Control string
}

// The keys of a mail location (mailbox_list_settings_parse_full), with
// whether they take a path.
var locationKeys = map[string]bool{
	"INBOX": true, "INDEX": true, "INDEXPVT": true, "INDEXCACHE": true,
	"CONTROL": true, "ALT": true, "LAYOUT": true, "SUBSCRIPTIONS": true,
	"DIRNAME": true, "MAILBOXDIR": true, "VOLATILEDIR": true,
	"LISTINDEX": true, "FULLDIRNAME": true,
	"BROKENCHAR": false, "ALTNOCHECK": false, "ITERINDEX": false,
	"NO-NOSELECT": false, "NO-FS-VALIDATION": false,
}

// ParseLocation parses a Dovecot mail location for user name with home home:
//
//	maildir:PATH[:KEY=VALUE...]
//
// The driver is matched without regard to case; anything but maildir
// (mbox:, sdbox:, mdbox:, auto:, or no driver at all) is an error, as popd
// serves Maildir only. The location is expanded first (see Expand), then
// cut at ":" ("::" being a ":" of the path, a final ":" ignored); in PATH
// and in each VALUE one trailing "/" is dropped and a leading "~" or "~/"
// is the home directory ("~user" is an error). Every key Dovecot 2.3 knows
// is accepted (INDEX, CONTROL, LAYOUT, VOLATILEDIR, ...), an unknown one is
// an error; only INBOX, CONTROL and LAYOUT matter here. LAYOUT must be
// Maildir++ (the default) or fs; DIRNAME, FULLDIRNAME and MAILBOXDIR, which
// move INBOX or its control files elsewhere, are refused. Path and Control
// must be absolute and free of control characters.
//
// Like Dovecot, a LAYOUT spelled other than "maildir++" or "fs" exactly (say
// "Maildir++") puts INBOX in PATH/.INBOX (or PATH/INBOX) rather than PATH.
func ParseLocation(loc, name, home string) (Location, error) {
	fail := func(format string, a ...any) (Location, error) {
		return Location{}, fmt.Errorf("maildir: mail location %q: %s", loc, fmt.Sprintf(format, a...))
	}
	// mail_storage_set_autodetection: [A-Za-z0-9_]+ then ":".
	i := strings.IndexFunc(loc, func(r rune) bool { return r != '_' && !isAlnum(r) })
	if i <= 0 || loc[i] != ':' {
		if strings.HasPrefix(loc, `"`) || strings.HasPrefix(loc, "'") {
			return fail("quotes are taken literally; write it without them")
		}
		return fail(`no mail storage driver; popd needs "maildir:PATH" (it does not autodetect)`)
	}
	if driver := loc[:i]; !strings.EqualFold(driver, "maildir") {
		return fail("driver %q: popd serves Maildir only", driver)
	}
	data, err := expand(loc[i+1:], name, home)
	if err != nil {
		return Location{}, fmt.Errorf("maildir: mail location %q: %w", loc, err)
	}
	args := splitLocation(data)
	root, err := tilde(args[0], home)
	if err != nil {
		return Location{}, fmt.Errorf("maildir: mail location %q: %w", loc, err)
	}
	if k, _, ok := strings.Cut(root, "="); root == "" || ok && locationKeys[k] {
		return fail("no mail root directory")
	}
	set := make(map[string]string)
	for _, a := range args[1:] {
		if a == "UTF-8" {
			continue
		}
		k, v, _ := strings.Cut(a, "=")
		isPath, known := locationKeys[k]
		switch {
		case !known:
			return fail("unknown setting %q", k)
		case k == "BROKENCHAR" && len(v) != 1:
			return fail("BROKENCHAR must be a single character")
		case isPath:
			if set[k], err = tilde(v, home); err != nil {
				return Location{}, fmt.Errorf("maildir: mail location %q: %s: %w", loc, k, err)
			}
		}
	}
	for _, k := range []string{"DIRNAME", "FULLDIRNAME", "MAILBOXDIR"} {
		if set[k] != "" {
			return fail("%s is not supported by popd", k)
		}
	}
	layout, ok := set["LAYOUT"]
	if !ok {
		layout = "maildir++"
	}
	sub := "/INBOX" // a mailbox of the fs layout
	switch strings.ToLower(layout) {
	case "maildir++":
		sub = "/.INBOX"
	case "fs":
	default:
		return fail("LAYOUT=%s: popd supports the Maildir++ and fs layouts", layout)
	}
	l := Location{Path: root}
	if inbox, ok := set["INBOX"]; ok {
		l.Path = inbox
	} else if layout != "maildir++" && layout != "fs" {
		// maildir_storage_get_list_settings compares case-sensitively: only
		// then is INBOX the root; otherwise it is an ordinary mailbox.
		l.Path = strings.TrimSuffix(root, "/") + sub
	}
	if c, ok := set["CONTROL"]; ok {
		if c == "" {
			return fail("CONTROL is empty")
		}
		l.Control = strings.TrimSuffix(c, "/") + sub
	}
	for _, c := range []struct{ what, p string }{{"maildir", l.Path}, {"control directory", l.Control}} {
		switch what, p := c.what, c.p; {
		case p == "" && what == "control directory":
		case !strings.HasPrefix(p, "/"):
			return fail("the %s %q is not an absolute path", what, p)
		case strings.ContainsFunc(p, unicode.IsControl):
			return fail("the %s has a control character", what)
		}
	}
	return l, nil
}

// splitLocation cuts a location (after its driver) at ":" as Dovecot's
// split_next_arg does: an empty piece joins its neighbours with a ":"
// ("::" is a literal ":"), and a ":" at the very end is dropped.
func splitLocation(s string) []string {
	parts := strings.Split(s, ":")
	var args []string
	for i := 0; i < len(parts); {
		a := parts[i]
		i++
		for i < len(parts) && parts[i] == "" {
			i++
			if i == len(parts) {
				break
			}
			a += ":" + parts[i]
			i++
		}
		args = append(args, a)
	}
	return args
}

// tilde is Dovecot's fix_path: one trailing "/" goes, then a leading "~"
// or "~/" is the home directory.
func tilde(p, home string) (string, error) {
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if !strings.HasPrefix(p, "~") {
		return p, nil
	}
	if len(p) > 1 && p[1] != '/' {
		return "", fmt.Errorf("%q: ~user is not supported", p)
	}
	if home == "" {
		return "", noHome("~")
	}
	h := strings.TrimSuffix(home, "/")
	if p == "~" && h == "" {
		return "/", nil
	}
	return h + p[1:], nil
}

// noHome is ErrNoHome for one use of the home directory.
type noHome string

func (e noHome) Error() string        { return string(e) + ": the user has no home directory" }
func (e noHome) Is(target error) bool { return target == ErrNoHome }

// Expand expands Dovecot's %variables in s for user name with home home:
//
//	%u %{user}      the user name
//	%n %{username}  its local part (before the @)
//	%d %{domain}    its domain (after the @; an error without one)
//	%h %{home}      home (an error wrapping ErrNoHome when home is "")
//	%%              a percent sign
//
// with the modifiers L (lower case) and U (upper case), as in "%Ld/%Ln",
// which change ASCII letters only, as Dovecot's do. Other variables,
// modifiers, and widths or offsets ("%1n", "%2.1Mu") are errors. A ~ is
// left as it is (ParseLocation expands it per path). The values of %u, %n
// and %d come from Path, with its checks on the name.
func Expand(s, name, home string) (string, error) {
	r, err := expand(s, name, home)
	if err != nil {
		return "", fmt.Errorf("maildir: %q: %w", s, err)
	}
	return r, nil
}

// expand is Expand with errors for its callers to put in context.
func expand(s, name, home string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		start := i
		i++
		var mods []byte
		for i < len(s) && strings.IndexByte("LUEXRHNMDT", s[i]) >= 0 {
			mods = append(mods, s[i])
			i++
		}
		if i == len(s) {
			return "", fmt.Errorf("%q at the end", s[start:])
		}
		key := s[i : i+1]
		if s[i] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%q: no closing }", s[start:])
			}
			key = s[i+1 : i+end]
			i += end
		}
		seq := s[start : i+1]
		if key == "" {
			return "", fmt.Errorf("%q: no variable", seq)
		}
		if strings.IndexByte("-.0123456789", key[0]) >= 0 {
			return "", fmt.Errorf("%q: widths and offsets are not supported", seq)
		}
		var v string
		switch key {
		case "u", "user", "n", "username", "d", "domain":
			k := nameVars[key]
			if k == "%d" && !strings.Contains(name, "@") {
				return "", fmt.Errorf("%s: user %q has no domain", seq, name)
			}
			var err error
			if v, err = Path(k, name, ""); err != nil {
				return "", err
			}
		case "h", "home":
			if home == "" {
				return "", noHome(seq)
			}
			v = home
		case "%":
			v = "%"
		default:
			return "", fmt.Errorf("%q: unknown variable (popd knows %%u %%n %%d %%h)", seq)
		}
		for _, m := range mods {
			switch m {
			case 'L':
				v = mapASCII(v, 'A', 'Z', 'a'-'A')
			case 'U':
				v = mapASCII(v, 'a', 'z', 'A'-'a')
			default:
				return "", fmt.Errorf("%q: modifier %c is not supported (popd knows L and U)", seq, m)
			}
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// nameVars maps the variables made from the user name to Path's.
var nameVars = map[string]string{
	"u": "%u", "user": "%u", "n": "%n", "username": "%n", "d": "%d", "domain": "%d",
}

// mapASCII adds delta to the bytes of s between lo and hi.
func mapASCII(s string, lo, hi byte, delta int) string {
	b := []byte(s)
	for i, c := range b {
		if lo <= c && c <= hi {
			b[i] = byte(int(c) + delta)
		}
	}
	return string(b)
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
