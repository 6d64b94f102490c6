package userdb

import (
	"log/slog"
	"slices"
	"strings"
)

// line is one line of the file, kept so that edits can rewrite the file with
// every other line exactly as it was.
type line struct {
	text string // without the line ending
	eol  string // "\n", "\r\n", or "" for a last line without one
	name string // the user this line defines (also for duplicates), or ""
}

// table is an immutable snapshot of the file.
type table struct {
	raw    []byte           // the file's content
	users  map[string]*User // the first entry for each name
	sorted []*User          // users sorted by name
}

// splitLines cuts data into lines; joining text+eol of all of them gives
// data back exactly.
func splitLines(data []byte) []line {
	var lines []line
	s := string(data)
	for s != "" {
		text, rest, found := strings.Cut(s, "\n")
		l := line{text: text}
		if found {
			l.eol = "\n"
		}
		if t, ok := strings.CutSuffix(text, "\r"); ok {
			l.text, l.eol = t, "\r"+l.eol
		}
		lines = append(lines, l)
		s = rest
	}
	return lines
}

func joinLines(lines []line) []byte {
	n := 0
	for _, l := range lines {
		n += len(l.text) + len(l.eol)
	}
	b := make([]byte, 0, n)
	for _, l := range lines {
		b = append(b, l.text...)
		b = append(b, l.eol...)
	}
	return b
}

// parseLine parses one line. It returns nil and "" for a line to skip
// silently (blank, comment, no user name), nil and a reason for a bad line,
// the user and a reason for a user whose userdb_mail or userdb_home cannot
// be used (a bad line too), and the user otherwise. The reason never
// contains any of the line's text but the name and the value of those two
// fields: a bad line may be a password pasted in the wrong place.
func parseLine(text string) (*User, string) {
	// Dovecot skips empty lines, comments and lines with an empty user name.
	if text == "" || text[0] == '#' || text[0] == ':' || strings.TrimSpace(text) == "" {
		return nil, ""
	}
	f := strings.SplitN(text, ":", 8)
	if err := ValidName(f[0]); err != nil {
		return nil, "invalid user name"
	}
	if len(f) < 2 {
		return nil, "no password field"
	}
	u := &User{Name: f[0]}
	for i, p := range []*string{&u.UID, &u.GID, &u.Gecos, &u.Home, &u.Shell, &u.Extra} {
		if i+2 < len(f) {
			*p = f[i+2]
		}
	}
	u.Fields = parseFields(u.Extra)
	u.Disabled = disabled(u.Fields)
	u.sec = parseSecret(f[1])
	u.Scheme = u.sec.scheme
	return u, u.applyUserdb()
}

// parse builds the table for data and the lines for editing it, logging each
// bad line, refused user and duplicate with its line number. The logs name
// the user (when the name is valid) but never show a password or hash.
func parse(data []byte, log *slog.Logger) (*table, []line) {
	lines := splitLines(data)
	t := &table{raw: data, users: make(map[string]*User)}
	refused := make(map[string]int) // users left out for their userdb fields, by line
	for i := range lines {
		n := i + 1
		u, bad := parseLine(lines[i].text)
		if u == nil {
			if bad != "" {
				log.Warn("userdb: ignoring bad line", "line", n, "reason", bad)
			}
			continue
		}
		lines[i].name = u.Name
		first, dup := refused[u.Name]
		if f, ok := t.users[u.Name]; ok {
			first, dup = f.line, true
		}
		if dup {
			log.Warn("userdb: ignoring duplicate user; the first entry wins", "user", u.Name, "line", n, "first", first)
			continue
		}
		if bad != "" {
			// Left out, but the name stays taken: Dovecot, which does not
			// check these fields when it loads the file, uses this line.
			log.Warn("userdb: ignoring user: cannot use its userdb fields", "user", u.Name, "line", n, "reason", bad)
			refused[u.Name] = n
			continue
		}
		u.line = n
		if !u.sec.ok {
			log.Warn("userdb: user refused: cannot check the password", "user", u.Name, "line", n, "scheme", u.Scheme, "reason", u.sec.why)
		}
		t.users[u.Name] = u
		t.sorted = append(t.sorted, u)
	}
	slices.SortFunc(t.sorted, func(a, b *User) int { return strings.Compare(a.Name, b.Name) })
	return t, lines
}
