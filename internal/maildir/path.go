package maildir

import (
	"fmt"
	"strings"
)

// Path expands a maildrop template for a user: %u is the user name, %n
// its local part (before the last @), %d its domain (empty without @), %%
// a percent sign, and a leading ~ the user's home directory. User names were
// checked by userdb.ValidName, so the result cannot escape the mail root
// through the name.
func Path(template, name, home string) (string, error) {
	local, domain := name, ""
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		local, domain = name[:i], name[i+1:]
	}
	// A second guard behind userdb.ValidName: nothing substituted may be a
	// path of its own or climb out of the mail root.
	for _, part := range []string{name, local, domain} {
		if part == "." || part == ".." || strings.ContainsAny(part, "/\x00") {
			return "", fmt.Errorf("maildir: user name %q cannot be used in a maildir path", name)
		}
	}
	var b strings.Builder
	t := template
	if strings.HasPrefix(t, "~") {
		if home == "" {
			return "", fmt.Errorf("maildir: maildir template %q uses ~ but user %q has no home directory", template, name)
		}
		b.WriteString(strings.TrimSuffix(home, "/"))
		t = t[1:]
	}
	for i := 0; i < len(t); i++ {
		if t[i] != '%' {
			b.WriteByte(t[i])
			continue
		}
		if i+1 == len(t) {
			return "", fmt.Errorf("maildir: maildir template %q ends with %%", template)
		}
		i++
		switch t[i] {
		case 'u':
			b.WriteString(name)
		case 'n':
			b.WriteString(local)
		case 'd':
			if domain == "" {
				return "", fmt.Errorf("maildir: maildir template %q uses %%d but user %q has no domain", template, name)
			}
			b.WriteString(domain)
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("maildir: maildir template %q: unknown %%%c", template, t[i])
		}
	}
	return b.String(), nil
}

// Locate is where the maildrop of user name is: the user's own mail
// location (Dovecot's userdb_mail field) when there is one, else the
// configured one, which is a popd template (see Path) or a Dovecot mail
// location ("maildir:~/Maildir:CONTROL=...", see ParseLocation), so that
// Dovecot's mail_location can be used as it is.
func Locate(template, name, home, mail string) (Location, error) {
	switch {
	case mail != "":
		return ParseLocation(mail, name, home)
	case strings.HasPrefix(strings.ToLower(template), "maildir:"):
		return ParseLocation(template, name, home)
	}
	p, err := Path(template, name, home)
	return Location{Path: p}, err
}
