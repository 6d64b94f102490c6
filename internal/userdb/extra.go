package userdb

import (
	"errors"
	"strings"
	"unicode"

	"popd/internal/maildir"
)

// Dovecot's userdb extra fields that popd reads. See User.Mail and User.Home.
const (
	// FieldMail is the user's mail location (Dovecot's mail_location).
	FieldMail = "userdb_mail"
	// FieldHome is the user's home directory; it overrides the home field.
	FieldHome = "userdb_home"
)

// dovecotWords returns the extra fields as Dovecot 2.3 reads them
// (src/auth/db-passwd-file.c, passwd_file_add): split at spaces only, no
// quoting. An eighth field that is empty while a ninth is not is the old
// format, "...:shell::maildir:~/Maildir", where the rest of the line is the
// mail location; extra is then ":maildir:~/Maildir".
func dovecotWords(extra string) []string {
	if rest, ok := strings.CutPrefix(extra, ":"); ok {
		if rest == "" || rest[0] == ':' {
			return nil
		}
		extra = FieldMail + "=" + rest
	}
	var words []string
	for _, w := range strings.Split(extra, " ") {
		if w != "" {
			words = append(words, w)
		}
	}
	return words
}

// applyUserdb sets u.Home and u.Mail from the userdb_home and userdb_mail
// extra fields (the last of each wins, as in Dovecot), or returns why they
// cannot be used. Dovecot's auth process expands %variables in these
// fields before it knows the home directory, so there %h is empty: popd
// refuses it rather than guess (Dovecot's documentation says to use ~/).
// The reason may quote the field's value and the user name, nothing else.
func (u *User) applyUserdb() string {
	var mail, home string
	var hasMail, hasHome bool
	for _, w := range dovecotWords(u.Extra) {
		switch k, v, _ := strings.Cut(w, "="); k {
		case FieldMail:
			mail, hasMail = v, true
		case FieldHome:
			home, hasHome = v, true
		}
	}
	const noHome = ": %h is empty when Dovecot expands userdb fields; use ~/ in userdb_mail"
	if hasHome {
		h, err := maildir.Expand(home, u.Name, "")
		switch {
		case errors.Is(err, maildir.ErrNoHome):
			return FieldHome + noHome
		case err != nil:
			return FieldHome + ": " + err.Error()
		case h != "" && !strings.HasPrefix(h, "/"):
			return FieldHome + ": not an absolute path"
		case strings.ContainsFunc(h, unicode.IsControl):
			return FieldHome + ": has a control character"
		}
		u.Home = h // "" too: Dovecot then has no home either
	}
	if hasMail && mail != "" {
		// Dovecot expands the field once, in its auth process; ParseLocation
		// does the same expansion, and so finds the same maildir, as long
		// as %h is not used.
		if _, err := maildir.Expand(mail, u.Name, ""); errors.Is(err, maildir.ErrNoHome) {
			return FieldMail + noHome
		}
		if _, err := maildir.ParseLocation(mail, u.Name, u.Home); err != nil {
			return FieldMail + ": " + err.Error()
		}
		u.Mail = mail
	}
	return ""
}

// setDisabledField returns extra for SetDisabled: without its
// "popd_disabled" words, and without its "nologin" words too when enabling,
// then with "popd_disabled" added when disabling. A word goes with the
// spaces in front of it; every other byte is kept. Words are cut as
// parseFields cuts them, so that the result is Disabled, or not, as asked.
func setDisabledField(extra string, disable bool) string {
	extra = dropWords(extra, func(k string) bool {
		return k == FieldDisabled || !disable && k == FieldNologin
	})
	switch {
	case !disable:
		return extra
	case strings.TrimFunc(extra, func(r rune) bool { return r == ':' || unicode.IsSpace(r) }) == "":
		// Nothing, or an empty old-format field: a word after ":" would
		// read as an empty userdb_mail to Dovecot.
		return FieldDisabled
	case strings.TrimRightFunc(extra, unicode.IsSpace) != extra:
		return extra + FieldDisabled
	}
	return extra + " " + FieldDisabled
}

// dropWords returns extra without the words whose key drop matches, each
// with the spaces in front of it (the first word kept keeps the spaces in
// front of the first word); "" when no word is left.
func dropWords(extra string, drop func(key string) bool) string {
	var b strings.Builder
	lead0, s := "", extra
	for i := 0; ; i++ {
		n := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
		lead := s[:n]
		s = s[n:]
		if s == "" {
			if b.Len() > 0 {
				b.WriteString(lead) // the spaces at the end
			}
			return b.String()
		}
		if i == 0 {
			lead0 = lead
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		word := s[:end]
		s = s[end:]
		if k, _, _ := strings.Cut(word, "="); drop(k) {
			continue
		}
		if b.Len() == 0 {
			lead = lead0
		}
		b.WriteString(lead)
		b.WriteString(word)
	}
}
