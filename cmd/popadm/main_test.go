package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
	"popd/internal/testutil"
	"popd/internal/userdb"
)

// result is what one popadm run did.
type result struct {
	stdout, stderr string
	code           int
}

// popadm runs the command line in-process, with stdin as standard input
// and prompts answered from answers (failing when there are none left).
func popadm(t *testing.T, ctx context.Context, stdin string, answers []string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{ctx: ctx, stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		prompt: func(_ context.Context, prompt string) (string, error) {
			if len(answers) == 0 {
				return "", errors.New("no terminal in tests")
			}
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}}
	code := e.run(args)
	return result{out.String(), errOut.String(), code}
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	return popadm(t, t.Context(), "", nil, args...)
}

func (r result) want(t *testing.T, code int, stdout string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d; stdout %q, stderr %q", r.code, code, r.stdout, r.stderr)
	}
	if stdout != "" && !regexp.MustCompile(stdout).MatchString(r.stdout) {
		t.Errorf("stdout %q does not match %q", r.stdout, stdout)
	}
}

func start(t *testing.T) (*controltest.Daemon, string) {
	d := controltest.NewDaemon()
	return d, controltest.Start(t, d).Path
}

func TestUsage(t *testing.T) {
	t.Setenv("POPD_CONTROL", filepath.Join(t.TempDir(), "none.sock"))
	for _, tt := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"nope"}, 2},
		{[]string{"-nope"}, 2},
		{[]string{"-h"}, 0},
		{[]string{"help"}, 0},
		{[]string{"who", "extra"}, 2},
		{[]string{"who", "-h"}, 0},
		{[]string{"kick"}, 2},
		{[]string{"kick", "1", "--user", "alice"}, 2},
		{[]string{"user"}, 2},
		{[]string{"user", "frobnicate"}, 2},
		{[]string{"user", "add"}, 2},
		{[]string{"user", "del", "alice", "--purge-mail", "-users", "x"}, 2},
		{[]string{"penalty"}, 2},
		{[]string{"penalty", "add", "x"}, 2},
		{[]string{"unlock"}, 2},
		{[]string{"stats", "--bogus"}, 2},
	} {
		r := run(t, tt.args...)
		if r.code != tt.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tt.args, r.code, tt.code, r.stderr)
		}
		if tt.code == 2 && !strings.Contains(r.stderr, "usage: popadm") {
			t.Errorf("%q: no usage in %q", tt.args, r.stderr)
		}
	}
}

func TestNoDaemon(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	r := run(t, "-control", path, "who")
	r.want(t, 1, "^$")
	if r.stderr != "popadm: popd is not running? no control socket at "+path+"\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	// POPD_CONTROL is the default, and -control after the command works too.
	t.Setenv("POPD_CONTROL", path)
	if r := run(t, "stats"); !strings.Contains(r.stderr, path) {
		t.Errorf("POPD_CONTROL ignored: %q", r.stderr)
	}
	if r := run(t, "stats", "-control", path+"x"); !strings.Contains(r.stderr, path+"x") {
		t.Errorf("-control after the command ignored: %q", r.stderr)
	}
}

func TestWho(t *testing.T) {
	d, path := start(t)
	run(t, "-control", path, "who").want(t, 0, "^no sessions\n$")
	sessions := []control.Session{
		{ID: "7", User: "alice", Remote: "192.0.2.1:50123", State: "TRANSACTION", TLS: true, LastCommand: "RETR\x1b[2J",
			Retrieved: 2, Octets: 3 << 20, Since: time.Now().Add(-192 * time.Second), Idle: 4 * time.Second},
		{ID: "8", Remote: "[2001:db8::1]:40000", State: "AUTHORIZATION", Since: time.Now().Add(-2 * time.Hour)},
	}
	for _, s := range sessions {
		d.AddSession(s)
	}
	r := run(t, "-control", path, "who")
	r.want(t, 0, "")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", r.stdout)
	}
	for _, re := range []string{
		`^ID +USER +CLIENT +TLS +STATE +LAST +RETR +SENT +AGE +IDLE$`,
		`^7 +alice +192\.0\.2\.1:50123 +yes +TRANSACTION +RETR\?\[2J +2 +3\.00M +3m1[23]s +4s$`,
		`^8 +- +\[2001:db8::1\]:40000 +no +AUTHORIZATION +- +0 +0B +2h00m +0s$`,
	} {
		if !slicesMatch(lines, re) {
			t.Errorf("no line matches %s in:\n%s", re, r.stdout)
		}
	}
	// The columns line up.
	if i := strings.Index(lines[0], "CLIENT"); lines[1][i-1] != ' ' || lines[1][i] == ' ' {
		t.Errorf("columns not aligned:\n%s", r.stdout)
	}

	r = run(t, "who", "--json", "-control", path)
	r.want(t, 0, `^\[\n`)
	var got []control.Session
	// Oldest first (TestWhoSorted).
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 2 || got[0].ID != "8" || got[1].Octets != 3<<20 {
		t.Errorf("json: %+v, %v", got, err)
	}
}

func slicesMatch(lines []string, re string) bool {
	for _, l := range lines {
		if regexp.MustCompile(re).MatchString(l) {
			return true
		}
	}
	return false
}

func TestKick(t *testing.T) {
	d, path := start(t)
	d.AddSession(control.Session{ID: "7", User: "alice"})
	d.AddSession(control.Session{ID: "8", User: "bob"})
	d.AddSession(control.Session{ID: "9", User: "bob"})
	run(t, "-control", path, "kick", "7").want(t, 0, "^kicked session 7\n$")
	run(t, "-control", path, "kick", "--user", "bob").want(t, 0, "^kicked 2 sessions of bob\n$")
	d.AddSession(control.Session{ID: "10", User: "carol"})
	run(t, "-control", path, "kick", "--user", "carol").want(t, 0, "^kicked 1 session of carol\n$")
	r := run(t, "-control", path, "kick", "42")
	r.want(t, 1, "^$")
	if r.stderr != "popadm: no session 42\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	if calls := d.Calls(); len(calls) != 4 || !strings.HasPrefix(calls[0], "kick 7 by uid ") {
		t.Errorf("calls %q", calls)
	}
}

func TestUserCommands(t *testing.T) {
	d, path := start(t)
	c := "-control=" + path
	popadm(t, t.Context(), "s3cret pw\n", nil, c, "user", "add", "alice", "--password-stdin").want(t, 0, "^added user alice\n$")
	if pw, _ := d.Password("alice"); pw != "s3cret pw" {
		t.Errorf("password %q", pw)
	}
	// From the terminal: asked twice.
	popadm(t, t.Context(), "", []string{"tty pw", "tty pw"}, c, "user", "add", "bob").want(t, 0, "^added user bob\n$")
	if pw, _ := d.Password("bob"); pw != "tty pw" {
		t.Errorf("bob's password %q", pw)
	}
	for _, answers := range [][]string{{"a", "b"}, {"", ""}, nil} {
		r := popadm(t, t.Context(), "", answers, c, "user", "add", "carol")
		r.want(t, 1, "^$")
		t.Log(r.stderr)
	}
	for _, stdin := range []string{"", "\n", "\r\n"} {
		popadm(t, t.Context(), stdin, nil, c, "user", "add", "carol", "--password-stdin").want(t, 1, "^$")
	}
	if _, ok := d.Password("carol"); ok {
		t.Error("carol added with a bad password")
	}
	r := popadm(t, t.Context(), "x\n", nil, c, "user", "add", "alice", "--password-stdin")
	if r.code != 1 || r.stderr != "popadm: user \"alice\" already exists\n" {
		t.Errorf("existing user: %d %q", r.code, r.stderr)
	}

	popadm(t, t.Context(), "new\r\n", nil, c, "user", "passwd", "alice", "--password-stdin").want(t, 0, "^changed the password of alice\n$")
	if pw, _ := d.Password("alice"); pw != "new" {
		t.Errorf("new password %q", pw)
	}
	run(t, c, "user", "disable", "alice").want(t, 0, "^disabled user alice\n$")
	r = run(t, c, "user", "list")
	r.want(t, 0, `(?m)^NAME +SCHEME +STATUS +MSGS +SIZE +LOCKED +LAST LOGIN\nalice +BLF-CRYPT +disabled +0 +0B +no +never\nbob +BLF-CRYPT +enabled `)
	run(t, c, "user", "enable", "alice").want(t, 0, "^enabled user alice\n$")
	r = run(t, c, "user", "list", "--json")
	var us []control.User
	if err := json.Unmarshal([]byte(r.stdout), &us); err != nil || len(us) != 2 || us[0].Name != "alice" || us[0].Disabled {
		t.Errorf("json: %+v, %v", us, err)
	}
	run(t, c, "user", "del", "bob", "--purge-mail").want(t, 0, "^deleted user bob and their mail\n$")
	run(t, c, "user", "del", "bob").want(t, 1, "^$")

	want := []string{"user_add alice", "user_add bob", "user_passwd alice", "user_disable alice true",
		"user_disable alice false", "user_del bob purge=true"}
	calls := d.Calls()
	if len(calls) != len(want) {
		t.Fatalf("calls %q", calls)
	}
	for i, w := range want {
		if !strings.HasPrefix(calls[i], w+" by uid ") {
			t.Errorf("call %d: %q, want %q", i, calls[i], w)
		}
	}
}

// Without popd, -users edits the file, creating it for the first user.
func TestUsersFile(t *testing.T) {
	t.Setenv("POPD_CONTROL", filepath.Join(t.TempDir(), "none.sock")) // never used
	file := filepath.Join(t.TempDir(), "users")
	popadm(t, t.Context(), "alice pw\n", nil, "user", "add", "-users", file, "alice", "--password-stdin").want(t, 0, "^added user alice\n$")
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file: %v, %v", fi, err)
	}
	popadm(t, t.Context(), "", []string{"bob pw", "bob pw"}, "user", "add", "bob", "-users", file).want(t, 0, "")
	verify := func(name, pw string) error {
		f, err := userdb.Open(file, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Verify(name, pw)
		return err
	}
	if err := verify("alice", "alice pw"); err != nil {
		t.Errorf("alice: %v", err)
	}
	if err := verify("bob", "bob pw"); err != nil {
		t.Errorf("bob: %v", err)
	}

	// The file's errors read as popd's own.
	r := popadm(t, t.Context(), "x\n", nil, "user", "add", "alice", "-users", file, "--password-stdin")
	if r.code != 1 || r.stderr != "popadm: user already exists\n" {
		t.Errorf("existing user: %d %q", r.code, r.stderr)
	}
	popadm(t, t.Context(), "x\n", nil, "user", "add", "a:b", "-users", file, "--password-stdin").want(t, 1, "")

	popadm(t, t.Context(), "alice new\n", nil, "user", "passwd", "alice", "-users", file, "--password-stdin").want(t, 0, "")
	if err := verify("alice", "alice new"); err != nil {
		t.Errorf("alice's new password: %v", err)
	}
	run(t, "user", "disable", "bob", "-users", file).want(t, 0, "^disabled user bob\n$")
	if err := verify("bob", "bob pw"); !errors.Is(err, userdb.ErrDisabled) {
		t.Errorf("disabled bob: %v", err)
	}
	run(t, "user", "list", "-users", file).want(t, 0, `^NAME +SCHEME +STATUS\nalice +BLF-CRYPT +enabled\nbob +BLF-CRYPT +disabled\n$`)
	run(t, "user", "enable", "bob", "-users", file).want(t, 0, "")
	run(t, "user", "del", "bob", "-users", file).want(t, 0, "")
	run(t, "user", "del", "bob", "-users", file).want(t, 1, "")
	r = run(t, "user", "list", "--json", "-users", file)
	var us []control.User
	if err := json.Unmarshal([]byte(r.stdout), &us); err != nil || len(us) != 1 || us[0].Name != "alice" {
		t.Errorf("json: %+v, %v (%q)", us, err, r.stdout)
	}

	// Only "add" creates the file.
	missing := filepath.Join(t.TempDir(), "missing")
	run(t, "user", "list", "-users", missing).want(t, 1, "")
	if _, err := os.Stat(missing); err == nil {
		t.Error("list created the file")
	}
}

func TestLocksPenaltiesStatsReload(t *testing.T) {
	d, path := start(t)
	c := "-control=" + path
	run(t, c, "locks").want(t, 0, "^no locks\n$")
	run(t, c, "penalties").want(t, 0, "^no penalties\n$")
	d.AddLock(control.Lock{User: "alice", Session: "7", Owner: "popd", Host: "mx1", PID: 42,
		Since: time.Now().Add(-time.Hour), Refreshed: time.Now().Add(-30 * time.Second)})
	d.AddPenalty(control.Penalty{Source: "198.51.100.0/24", Failures: 5, Last: time.Now().Add(-time.Minute), Delay: 2 * time.Second})
	d.SetStats(control.Stats{Version: "1.2.3", Uptime: 26 * time.Hour, Logins: 120, LoginsPerMin: 1.5, Failures: 4, BytesSent: 1536})

	run(t, c, "locks").want(t, 0, `^USER +HOLDER +AGE +REFRESHED +STALE\nalice +session 7 +1h00m +3[01]s ago +no\n$`)
	r := run(t, c, "locks", "--json")
	var ls []control.Lock
	if json.Unmarshal([]byte(r.stdout), &ls); len(ls) != 1 || ls[0].PID != 42 {
		t.Errorf("locks json: %q", r.stdout)
	}
	run(t, c, "penalties").want(t, 0, `^SOURCE +FAILURES +LAST +DELAY +USERS\n198\.51\.100\.0/24 +5 +1m00s ago +2s +-\n$`)
	run(t, c, "penalties", "--json").want(t, 0, `"source": "198.51.100.0/24"`)
	run(t, c, "stats").want(t, 0, `(?m)^version +1\.2\.3\nuptime +1d02h\nsessions +0\nlogins +120 \(1\.5/min\)\nfailed logins +4 \(0/min\)\nsent +1\.50K\n$`)
	r = run(t, c, "stats", "--json")
	var st control.Stats
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Logins != 120 || st.Uptime != 26*time.Hour {
		t.Errorf("stats json: %+v, %v", st, err)
	}

	run(t, c, "unlock", "alice").want(t, 0, "^unlocked the maildrop of alice\n$")
	run(t, c, "unlock", "alice").want(t, 1, "^$")
	run(t, c, "penalty", "clear", "198.51.100.0/24").want(t, 0, "^cleared the penalty of 198.51.100.0/24\n$")
	run(t, c, "reload").want(t, 0, "^reloaded\n$")
	d.FailReload(errors.New("userdb: users: permission denied"))
	r = run(t, c, "reload")
	if r.code != 1 || r.stderr != "popadm: userdb: users: permission denied\n" {
		t.Errorf("failed reload: %d %q", r.code, r.stderr)
	}
}

func TestEvents(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		d, path := start(t)
		ctx, cancel := context.WithCancel(t.Context())
		var out, errOut testutil.Buffer
		e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
		args := []string{"-control", path, "events"}
		if asJSON {
			args = append(args, "--json")
		}
		done := make(chan int)
		go func() { done <- e.run(args) }()

		// Once subscribed, actions come back as events.
		d.AddSession(control.Session{ID: "7", User: "alice"})
		testutil.Eventually(t, 10*time.Second, "no session.kicked event", func() bool {
			if strings.Contains(out.String(), "session.kicked") {
				return true
			}
			run(t, "-control", path, "kick", "7")
			d.AddSession(control.Session{ID: "7", User: "alice"})
			return false
		})
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d: %s", code, errOut.String())
		}
		got := out.String()
		line := strings.SplitN(got, "\n", 2)[0]
		if asJSON {
			var ev control.Event
			if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type != event.Kicked || ev.Session != "7" {
				t.Errorf("json event %q: %v", line, err)
			}
		} else if !regexp.MustCompile(`^\d\d:\d\d:\d\d  session\.kicked +user=alice session=7 by="uid \d+.*"$`).MatchString(line) {
			t.Errorf("event line %q", line)
		}
	}
}

// When popd goes away, events ends with an error.
func TestEventsDaemonGone(t *testing.T) {
	d := controltest.NewDaemon()
	dir := t.TempDir()
	cfg := control.ServerConfig{Path: filepath.Join(dir, "c.sock")}
	ln, err := control.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(cfg, d)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- srv.Serve(ctx, ln) }()

	done := make(chan result)
	go func() { done <- popadm(t, t.Context(), "", nil, "-control", cfg.Path, "events") }()
	time.Sleep(100 * time.Millisecond)
	stop()
	<-served
	select {
	case r := <-done:
		if r.code != 1 || r.stderr != "popadm: popd closed the connection\n" {
			t.Errorf("exit %d, %q", r.code, r.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("events did not end")
	}
}
