package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/testutil"
)

var plainBob = account{Name: "bob", Pass: "pw", Scheme: "PLAIN"}

// listUsersByName lists the users by name.
func listUsersByName(t *testing.T, c *control.Client) map[string]control.User {
	t.Helper()
	us, err := c.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]control.User{}
	for _, u := range us {
		out[u.Name] = u
	}
	return out
}

// Bug 4: LAST LOGIN said "never" for everyone after a restart. A login is
// kept in memory only (no file appears at once: the disk is not on the
// login path), written at shutdown, and read by the next popd on the same
// state directory.
func TestLastLoginSurvivesRestart(t *testing.T) {
	state := t.TempDir()
	mod := func(c *config.Config) { c.StateDir = state }
	e := newEnv(t, []account{alice, plainBob}, mod)
	before := time.Now()
	c := e.login(alice)
	c.OK("QUIT")
	after := time.Now()
	file := filepath.Join(state, lastLoginsName)
	if _, err := os.Stat(file); err == nil {
		t.Fatal("the login wrote the state file at once: the disk is on the login path")
	}
	if u := listUsersByName(t, e.control())["alice"]; u.LastLogin.IsZero() {
		t.Fatal("no last login for alice while popd runs")
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no state file after shutdown: %v", err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600 (it names clients' addresses)", fi.Mode().Perm())
	}
	if !strings.HasPrefix(string(b), lastLoginsHeader+"\n\"alice\" ") {
		t.Fatalf("state file:\n%s", b)
	}

	e2 := newEnv(t, []account{alice, plainBob}, mod)
	ctl := e2.control()
	us := listUsersByName(t, ctl)
	if got := us["alice"].LastLogin; got.Before(before) || got.After(after) {
		t.Fatalf("after a restart alice's last login is %v, want between %v and %v", got, before, after)
	}
	if got := us["bob"].LastLogin; !got.IsZero() {
		t.Fatalf("bob never logged in, but his last login is %v", got)
	}
	d, err := ctl.UserDetails(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.LastLoginFrom, "127.0.0.1:") || d.LastLoginMethod != "USER" || !d.LastLogin.Equal(us["alice"].LastLogin) {
		t.Fatalf("alice's details after a restart: %+v", d)
	}
	if log := e2.log.String(); strings.Contains(log, "last logins") || strings.Contains(log, "state-dir") {
		t.Fatalf("popd complained about its state:\n%s", log)
	}
}

// A state file someone else wrote, or that a crash cut, never stops popd:
// the lines that are not logins as popd writes them are skipped.
func TestLastLoginsHostileFile(t *testing.T) {
	state := t.TempDir()
	good := `"bob" 2025-03-14T11:57:00Z "192.0.2.10:51234" "APOP"`
	lines := []string{
		lastLoginsHeader,
		"# a comment",
		"",
		good,
		`"alice" not-a-time "192.0.2.1:1" "USER"`,
		`"alice" 2999-01-01T00:00:00Z "192.0.2.1:1" "USER"`, // the future
		`"alice" 1970-01-01T00:00:00Z "192.0.2.1:1" "USER"`, // before popd
		`alice 2025-03-14T11:57:00Z "192.0.2.1:1" "USER"`,   // unquoted
		`"" 2025-03-14T11:57:00Z "192.0.2.1:1" "USER"`,      // no name
		`"al\x1bice" 2025-03-14T11:57:00Z "192.0.2.1:1" "USER"`,
		`"alice" 2025-03-14T11:57:00Z "192.0.2.1:1" "USER" extra`,
		`"alice" 2025-03-14T11:57:00Z "` + strings.Repeat("x", 2000) + `" "USER"`,
		"\x00\xff\xfe binary",
		`"alice" 2025-03-14T11:57:00Z "192.0.2.1:1`, // cut, without its newline
	}
	if err := os.WriteFile(filepath.Join(state, lastLoginsName), []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, []account{alice, plainBob}, func(c *config.Config) { c.StateDir = state })
	us := listUsersByName(t, e.control())
	if want := time.Date(2025, 3, 14, 11, 57, 0, 0, time.UTC); !us["bob"].LastLogin.Equal(want) {
		t.Errorf("bob's last login %v, want %v (the good line)", us["bob"].LastLogin, want)
	}
	if !us["alice"].LastLogin.IsZero() {
		t.Errorf("alice's last login %v, from a bad line", us["alice"].LastLogin)
	}
	if !strings.Contains(e.log.String(), "skipped bad lines") || !strings.Contains(e.log.String(), "lines=10") {
		t.Errorf("the log does not count the 10 bad lines:\n%s", e.log)
	}
	// The next write is clean: bob's line, and alice's new one.
	e.login(alice).OK("QUIT")
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(state, lastLoginsName))
	got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(got) != 3 || got[0] != lastLoginsHeader || !strings.HasPrefix(got[1], `"alice" `) || got[2] != good {
		t.Fatalf("rewritten state file:\n%s", b)
	}
}

// Not a file to read: another version, a link, a FIFO. popd starts (a
// FIFO must not block it), says so, and keeps logins from now on.
func TestLastLoginsNotAFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
		say  string
	}{
		{"version", func(p string) error { return os.WriteFile(p, []byte("popd-lastlogins 2\n\"bob\" x\n"), 0o600) }, `not a \"popd-lastlogins 1\" file`},
		{"symlink", func(p string) error { return os.Symlink("/etc/passwd", p) }, "too many levels of symbolic links"},
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			if err := tc.make(filepath.Join(state, lastLoginsName)); err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, []account{alice, plainBob}, func(c *config.Config) { c.StateDir = state })
			if !strings.Contains(e.log.String(), "last logins not read") || !strings.Contains(e.log.String(), tc.say) {
				t.Errorf("the log does not say why the file was not read (%q):\n%s", tc.say, e.log)
			}
			e.login(alice).OK("QUIT")
			if u := listUsersByName(t, e.control())["alice"]; u.LastLogin.IsZero() {
				t.Error("no last login for alice")
			}
		})
	}
}

// A state directory popd cannot write (here: its parent is a file, which
// binds root too) costs the last logins at a restart, nothing else:
// logins work, the console sees them, and the failed write is logged.
func TestLastLoginsUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, []account{alice, plainBob}, func(c *config.Config) { c.StateDir = filepath.Join(file, "state") })
	for range 3 {
		e.login(alice).OK("QUIT")
	}
	if u := listUsersByName(t, e.control())["alice"]; u.LastLogin.IsZero() {
		t.Error("no last login for alice")
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	log := e.log.String()
	if !strings.Contains(log, "state-dir unusable") || strings.Count(log, "last logins not written") != 1 {
		t.Fatalf("want one warning at start and one failed write at shutdown:\n%s", log)
	}
}

// A write that fails is said once, tried again at each flush, and its end
// is said too; a flush with nothing new writes nothing.
func TestLastLoginsRetry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state") // not there yet
	log, buf := testutil.Logger(t)
	l := newLastLogins(dir, log, func(u string) bool { return u != "gone" })
	at := time.Now().Truncate(time.Second)
	l.record("alice", at, "192.0.2.1:1", "USER")
	l.record("gone", at, "192.0.2.1:2", "USER")
	l.record("alice", at.Add(-time.Hour), "192.0.2.1:3", "USER") // older: ignored
	for range 3 {
		l.flush()
	}
	if n := strings.Count(buf.String(), "last logins not written"); n != 1 {
		t.Fatalf("failed writes logged %d times:\n%s", n, buf)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	l.flush()
	if !strings.Contains(buf.String(), "last logins written again") {
		t.Fatalf("the recovery is not logged:\n%s", buf)
	}
	path := filepath.Join(dir, lastLoginsName)
	b, err := os.ReadFile(path)
	want := lastLoginsHeader + "\n" + `"alice" ` + at.UTC().Format(time.RFC3339Nano) + ` "192.0.2.1:1" "USER"` + "\n"
	if err != nil || string(b) != want {
		t.Fatalf("state file %v:\n%s\nwant:\n%s", err, b, want)
	}
	os.Remove(path)
	l.flush()
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a flush with nothing new wrote the file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}

	// A fresh table reads what was written, to the nanosecond.
	l.record("bob", at.Add(time.Nanosecond), "[2001:db8::1]:995", "AUTH PLAIN")
	l.flush()
	l2 := newLastLogins(dir, log, nil)
	l2.load()
	if ll, ok := l2.get("bob"); !ok || !ll.At.Equal(at.Add(time.Nanosecond)) || ll.Remote != "[2001:db8::1]:995" || ll.Method != "AUTH PLAIN" {
		t.Fatalf("read back: %+v %v", ll, ok)
	}
}

func TestCheckStateDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	run := func(stateDir string) (problems, notes string) {
		var ps, ns []config.Problem
		add := func(to *[]config.Problem) func(key, format string, a ...any) {
			return func(key, format string, a ...any) {
				*to = append(*to, config.Problem{Key: key, Msg: fmt.Sprintf(format, a...)})
			}
		}
		checkStateDir(config.Config{Static: config.Static{StateDir: stateDir}}, add(&ps), add(&ns))
		return texts(ps), texts(ns)
	}
	if p, n := run(filepath.Join(dir, "missing")); p != "" || !strings.Contains(n, "does not exist: last logins are kept in memory only") {
		t.Errorf("missing: problems %q notes %q", p, n)
	}
	if p, _ := run(file); !strings.Contains(p, "is not a directory") {
		t.Errorf("a file: problems %q", p)
	}
	os.WriteFile(filepath.Join(dir, lastLoginsName), []byte(lastLoginsHeader+"\n\"a\" 2025-01-01T00:00:00Z \"\" \"USER\"\nbad\n"), 0o600)
	if p, n := run(dir); !strings.Contains(n, "last logins of 1 users") || !strings.Contains(p, "1 bad lines") {
		t.Errorf("a state file: problems %q notes %q", p, n)
	}
	if p, n := run(""); p != "" || n != "" {
		t.Errorf("no state-dir: problems %q notes %q", p, n)
	}
}

func FuzzParseLastLogins(f *testing.F) {
	f.Add([]byte(lastLoginsHeader + "\n\"alice\" 2025-03-14T11:57:00.123Z \"192.0.2.10:51234\" \"USER\"\n"))
	f.Add([]byte(lastLoginsHeader + "\n\"\\u00e9\" 2025-03-14T11:57:00Z \"\" \"AUTH PLAIN\""))
	f.Add([]byte("popd-lastlogins 2\n"))
	f.Add([]byte(lastLoginsHeader + "\n\"a\" 2025-03-14T11:57:00Z \"x\" \"y\" \"z\"\n\xff"))
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := parseLastLogins(b, now)
		if err != nil {
			return
		}
		for u, ll := range m {
			if !printable(u) || u == "" || ll.At.After(now.Add(24*time.Hour)) {
				t.Fatalf("accepted %q %+v", u, ll)
			}
		}
		// What was read, written again, reads the same.
		again, bad, err := parseLastLogins(formatLastLogins(m, nil), now)
		if err != nil || bad != 0 || len(again) != len(m) {
			t.Fatalf("written again: %v, %d bad, %d of %d", err, bad, len(again), len(m))
		}
		for u, ll := range m {
			if a := again[u]; !a.At.Equal(ll.At) || a.Remote != ll.Remote || a.Method != ll.Method {
				t.Fatalf("%q: %+v, written again %+v", u, ll, a)
			}
		}
	})
}
