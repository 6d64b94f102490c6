package userdb

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors returned by this package. Callers compare with errors.Is; the
// returned errors may wrap these with more detail (never a password or hash).
var (
	// ErrUnknownUser: no user of that name in the file.
	ErrUnknownUser = errors.New("userdb: unknown user")
	// ErrBadPassword: the password does not match.
	ErrBadPassword = errors.New("userdb: wrong password")
	// ErrUnsupportedScheme: the user's password field has a scheme popd
	// does not support, a malformed hash, or no password at all; such a user
	// can never log in. Hash returns it for a scheme it cannot write.
	ErrUnsupportedScheme = errors.New("userdb: unsupported password scheme")
	// ErrDisabled: the password was right but the user is disabled (see
	// User.Disabled).
	ErrDisabled = errors.New("userdb: user is disabled")
	// ErrInvalidName: the name fails ValidName.
	ErrInvalidName = errors.New("userdb: invalid user name")
	// ErrUserExists: Add was asked for a user who is already in the file.
	ErrUserExists = errors.New("userdb: user already exists")
	// ErrInvalidPassword: a new password that cannot be stored (see Hash).
	ErrInvalidPassword = errors.New("userdb: invalid new password")
)

// Extra-field keys that disable a user for popd. See User.Disabled.
const (
	// FieldNologin is Dovecot's passdb extra field that refuses a login.
	FieldNologin = "nologin"
	// FieldDisabled is popd's own; Dovecot ignores it. SetDisabled writes it.
	FieldDisabled = "popd_disabled"
)

// User is one entry of the passwd-file:
//
//	name:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields
//
// A User is a copy; changing it changes nothing in the File.
type User struct {
	// Name is the user name as written in the file, compared exactly (case
	// matters).
	Name string
	// Scheme is the password scheme: "BLF-CRYPT", "SHA512-CRYPT",
	// "SHA256-CRYPT", "ARGON2ID", "SCRAM-SHA-256" or "PLAIN" (also for
	// CLEAR and CLEARTEXT) when supported; otherwise the scheme as written (between the braces),
	// "CRYPT" for an unrecognised hash without a {SCHEME} prefix or with
	// {CRYPT}, or "" when the password field is empty. See Usable.
	Scheme string
	// UID, GID, Gecos and Shell are the passwd(5) fields, as written, ""
	// when absent.
	UID, GID, Gecos, Shell string
	// Home is the home directory: the userdb_home extra field when there
	// is one (with %u, %n, %d and %% expanded, as Dovecot expands it; ""
	// when it is empty), otherwise the passwd(5) home field as written.
	Home string
	// Mail is the userdb_mail extra field (or the old format's mail
	// location, see doc.go), as written: the user's own Dovecot mail
	// location, "" when there is none. It was checked when the file was
	// loaded; maildir.ParseLocation(u.Mail, u.Name, u.Home) gives the
	// maildir Dovecot uses.
	Mail string
	// Extra is the raw extra_fields: the rest of the line after the seventh
	// ":" (it may itself contain ":").
	Extra string
	// Fields is Extra parsed: space-separated "key=value" words; a bare
	// word maps to "". Later words override earlier ones. Nil when Extra is
	// empty.
	Fields map[string]string
	// Disabled is true when Fields has "nologin" (with any value, as
	// Dovecot reads it), or "popd_disabled" with any value other than
	// "no", "n", "false" or "0" (case-insensitive). Verify refuses a
	// disabled user with ErrDisabled once the password is right.
	// Dovecot's "nopassword" is never honoured: popd always wants a password.
	Disabled bool

	line int     // 1-based line number in the file
	sec  *secret // never nil in a User from a File
}

// Usable reports whether popd can check the user's password: a supported
// scheme and a well-formed hash. Verify refuses other users with
// ErrUnsupportedScheme whatever the password.
func (u User) Usable() bool { return u.sec != nil && u.sec.ok }

// Plaintext returns the password itself when it is stored in the PLAIN
// scheme, for mechanisms that need the shared secret (APOP, CRAM-MD5).
func (u User) Plaintext() (string, bool) {
	if u.sec == nil || !u.sec.ok || u.sec.scheme != SchemePlain {
		return "", false
	}
	return u.sec.plain, true
}

// String returns the name; it never shows the password.
func (u User) String() string { return u.Name }

// GoString keeps %#v from printing the password.
func (u User) GoString() string {
	return fmt.Sprintf("userdb.User{Name:%q, Scheme:%q, Disabled:%v}", u.Name, u.Scheme, u.Disabled)
}

// LogValue keeps slog from printing the password.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", u.Name), slog.String("scheme", u.Scheme), slog.Bool("disabled", u.Disabled))
}

// clone returns u with its own copy of Fields.
func (u User) clone() User {
	u.Fields = maps.Clone(u.Fields)
	return u
}

// parseFields splits extra_fields into a map.
func parseFields(extra string) map[string]string {
	words := strings.Fields(extra)
	if len(words) == 0 {
		return nil
	}
	m := make(map[string]string, len(words))
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		m[k] = v
	}
	return m
}

// disabled applies the rule documented on User.Disabled.
func disabled(fields map[string]string) bool {
	if _, ok := fields[FieldNologin]; ok {
		return true
	}
	v, ok := fields[FieldDisabled]
	if !ok {
		return false
	}
	switch strings.ToLower(v) {
	case "no", "n", "false", "0":
		return false
	}
	return true
}

// MaxNameLen is the longest user name ValidName accepts, in bytes.
const MaxNameLen = 255

// ValidName reports whether name may be a user name, and so may be used to
// build a path. It returns an error wrapping ErrInvalidName unless name is
// 1 to 255 bytes of valid UTF-8 made only of letters (any script), combining
// marks, digits and "-", "_", ".", "+", "@", and does not start with ".".
// That rules out "/", "\", ":", NUL, control characters, spaces, ".", ".."
// and hidden names. Callers use it before any filesystem access.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidName, MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidName)
	case name[0] == '.':
		return fmt.Errorf("%w: starts with a dot", ErrInvalidName)
	}
	for _, r := range name {
		switch {
		case r < 0x80 && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'):
		case r == '-', r == '_', r == '.', r == '+', r == '@':
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)):
		default:
			return fmt.Errorf("%w: character %U not allowed", ErrInvalidName, r)
		}
	}
	// Maildir templates use the local part (%n) and the domain (%d) as
	// path components too: neither may be empty, ".." or start with a dot
	// ("a@.." would otherwise climb out of the mail root).
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		local, domain := name[:i], name[i+1:]
		for _, part := range []string{local, domain} {
			if part == "" || part[0] == '.' || strings.Contains(part, "@") {
				return fmt.Errorf("%w: local part and domain must be non-empty, without a leading dot or a second @", ErrInvalidName)
			}
		}
	}
	return nil
}
