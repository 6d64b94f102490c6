package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// The users' last logins, for the console's LAST LOGIN, kept across
// restarts in the state directory (-state-dir). A login only updates a map
// (publish): the disk is written in the background, every
// lastLoginsEvery when something changed and once more at shutdown, so a
// login never waits for the disk nor fails because of it; a crash loses
// the logins of the last seconds. A write that fails (a full disk, a
// read-only directory) is logged once and tried again at the next tick.
//
// The file, lastlogins, is text: a version line, then a login a line, the
// strings quoted as Go quotes them:
//
//	popd-lastlogins 1
//	"alice" 2025-03-14T11:57:00.123Z "192.0.2.10:51234" "USER"
//
// Its directory is the popd user's; still, what is read from it is
// checked: a line that is not a login as popd writes them is skipped, and
// the file is read up to maxLastLoginsFile.

const (
	lastLoginsName    = "lastlogins"
	lastLoginsHeader  = "popd-lastlogins 1"
	lastLoginsEvery   = 30 * time.Second
	maxLastLoginsFile = 64 << 20
	maxLastLoginLine  = 1024
)

// lastLogin is a user's latest login.
type lastLogin struct {
	At     time.Time
	Remote string // the client's address, as the session saw it
	Method string // "USER", "APOP", "AUTH PLAIN"…
}

// lastLogins is the table, in memory and in dir ("" for memory only).
// Its methods are safe for concurrent use, and on a nil *lastLogins (a
// daemon a test made without one) do nothing.
type lastLogins struct {
	dir   string
	log   *slog.Logger
	known func(user string) bool // whether a user is still in the users file; nil: all are

	mu    sync.Mutex
	m     map[string]lastLogin
	dirty bool // changed since the last write

	writeMu sync.Mutex // one write at a time
	failing bool       // the last write failed, and said so; guarded by writeMu
	every   time.Duration
}

func newLastLogins(dir string, log *slog.Logger, known func(string) bool) *lastLogins {
	return &lastLogins{dir: dir, log: log, known: known, m: map[string]lastLogin{}, every: lastLoginsEvery}
}

// record notes a login. It touches only memory: it is on the login path.
func (l *lastLogins) record(user string, at time.Time, remote, method string) {
	if l == nil || user == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.m[user]; ok && old.At.After(at) {
		return
	}
	l.m[user] = lastLogin{At: at, Remote: remote, Method: method}
	l.dirty = true
}

// get returns user's last login; ok is false when none is known.
func (l *lastLogins) get(user string) (ll lastLogin, ok bool) {
	if l == nil {
		return lastLogin{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ll, ok = l.m[user]
	return ll, ok
}

func (l *lastLogins) path() string { return filepath.Join(l.dir, lastLoginsName) }

// load reads the file, if there is one, into the table. Nothing it finds
// there stops popd: a missing directory or an unreadable file is logged,
// and the logins are then kept from now on.
func (l *lastLogins) load() {
	if l == nil || l.dir == "" {
		return
	}
	if fi, err := os.Stat(l.dir); err != nil || !fi.IsDir() {
		why := "not a directory"
		if err != nil {
			why = unwrapPath(err).Error()
		}
		l.log.Warn("state-dir unusable: last logins are kept in memory only, lost at a restart", "dir", l.dir, "err", why)
		return
	}
	b, err := readBounded(l.path(), maxLastLoginsFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		l.log.Error("last logins not read; starting without them", "file", l.path(), "err", unwrapPath(err))
		return
	}
	got, bad, err := parseLastLogins(b, time.Now())
	if err != nil {
		l.log.Error("last logins not read; starting without them", "file", l.path(), "err", err)
		return
	}
	if bad > 0 {
		l.log.Warn("last logins: skipped bad lines", "file", l.path(), "lines", bad)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for u, ll := range got {
		if old, ok := l.m[u]; !ok || ll.At.After(old.At) {
			l.m[u] = ll
		}
	}
}

// readBounded reads at most max bytes of the regular file path, following
// no link and opening no FIFO.
func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// parseLastLogins reads the file's content; bad counts the lines skipped.
// A file of another version is an error: it is left for the popd that
// wrote it, and rewritten only when a login comes.
func parseLastLogins(b []byte, now time.Time) (out map[string]lastLogin, bad int, err error) {
	out = map[string]lastLogin{}
	first := true
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil // a last line without its newline: a cut file, or not
		}
		if first {
			first = false
			if string(line) != lastLoginsHeader {
				return nil, 0, fmt.Errorf("not a %q file", lastLoginsHeader)
			}
			continue
		}
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		user, ll, ok := parseLastLogin(string(line), now)
		if !ok {
			bad++
			continue
		}
		if old, seen := out[user]; !seen || ll.At.After(old.At) {
			out[user] = ll
		}
	}
	return out, bad, nil
}

// parseLastLogin reads one line: "user" time "remote" "method".
func parseLastLogin(line string, now time.Time) (user string, ll lastLogin, ok bool) {
	if len(line) > maxLastLoginLine {
		return "", ll, false
	}
	quoted := func(max int) (string, bool) {
		q, err := strconv.QuotedPrefix(line)
		if err != nil || q[0] != '"' {
			return "", false
		}
		line = line[len(q):]
		s, err := strconv.Unquote(q)
		return s, err == nil && len(s) <= max && printable(s)
	}
	space := func() bool {
		if !strings.HasPrefix(line, " ") {
			return false
		}
		line = line[1:]
		return true
	}
	var good bool
	if user, good = quoted(255); !good || user == "" || !space() {
		return "", ll, false
	}
	stamp, rest, found := strings.Cut(line, " ")
	if !found {
		return "", ll, false
	}
	line = rest
	at, err := time.Parse(time.RFC3339Nano, stamp)
	// Not before popd was written, nor in the future (a day of clock skew
	// allowed): a time that would sort first or last for ever.
	if err != nil || at.Year() < 2000 || at.After(now.Add(24*time.Hour)) {
		return "", ll, false
	}
	ll.At = at
	if ll.Remote, good = quoted(128); !good || !space() {
		return "", ll, false
	}
	if ll.Method, good = quoted(64); !good || line != "" {
		return "", ll, false
	}
	return user, ll, true
}

// printable: valid UTF-8 without control characters.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// run writes the table every l.every while something changed, until ctx
// is done. The last write, at shutdown, is flush's, once the sessions
// have ended.
func (l *lastLogins) run(ctx context.Context) error {
	if l == nil || l.dir == "" {
		return nil
	}
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.flush()
		}
	}
}

// flush writes the table if it changed since the last write. A failure
// is logged once (and its end once); the table stays to be written, so the
// next flush tries again.
func (l *lastLogins) flush() {
	if l == nil || l.dir == "" {
		return
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	if !l.dirty {
		l.mu.Unlock()
		return
	}
	snap := maps.Clone(l.m)
	l.dirty = false
	l.mu.Unlock()

	err := l.write(snap)
	switch {
	case err != nil:
		l.mu.Lock()
		l.dirty = true
		l.mu.Unlock()
		if !l.failing {
			l.failing = true
			l.log.Error("last logins not written; logins go on, and popd tries again", "file", l.path(), "err", err)
		}
	case l.failing:
		l.failing = false
		l.log.Info("last logins written again", "file", l.path())
	}
}

// write replaces the file atomically: a temporary file in the same
// directory, synced, renamed over it, and the directory synced. Users no
// longer in the users file are left out.
func (l *lastLogins) write(m map[string]lastLogin) (err error) {
	f, err := os.CreateTemp(l.dir, "."+lastLoginsName+".*")
	if err != nil {
		return unwrapPath(err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(formatLastLogins(m, l.known)); err != nil {
		return unwrapPath(err)
	}
	if err := f.Sync(); err != nil {
		return unwrapPath(err)
	}
	if err := f.Close(); err != nil {
		return unwrapPath(err)
	}
	if err := os.Rename(tmp, l.path()); err != nil {
		return unwrapPath(err)
	}
	if d, err := os.Open(l.dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// formatLastLogins is the file's content for m, sorted by user, without
// the users known (if not nil) says are gone.
func formatLastLogins(m map[string]lastLogin, known func(string) bool) []byte {
	var b bytes.Buffer
	b.WriteString(lastLoginsHeader + "\n")
	for _, u := range slices.Sorted(maps.Keys(m)) {
		if known != nil && !known(u) {
			continue
		}
		ll := m[u]
		fmt.Fprintf(&b, "%s %s %s %s\n", strconv.Quote(u), ll.At.UTC().Format(time.RFC3339Nano),
			strconv.Quote(ll.Remote), strconv.Quote(ll.Method))
	}
	return b.Bytes()
}
