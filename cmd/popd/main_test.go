package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"popd/internal/testutil/site"
)

// buildPopd compiles the real binary once per test.
func buildPopd(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "popd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// rootArgs lets the tests' popd serve mail as root, when they run as root.
func rootArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"-allow-root"}
	}
	return nil
}

// siteArgs are the flags that serve st on a loopback port with the control
// socket control.
func siteArgs(st *site.Site, control string) []string {
	return append([]string{"-listen", "127.0.0.1:0", "-users", st.Cfg.Users, "-maildir", st.Cfg.Maildir,
		"-control", control, "-state-dir", st.Cfg.StateDir}, rootArgs()...)
}

// startPopd runs the binary and returns the address it listens on, read
// from its log, and the command; its log goes to t.Log.
func startPopd(t *testing.T, bin string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	addr, cmd, _ := startPopdLog(t, bin, args...)
	return addr, cmd
}

// logBuffer keeps a process's log for the test to search.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s + "\n")
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startPopdLog is startPopd that also returns the log.
func startPopdLog(t testing.TB, bin string, args ...string) (string, *exec.Cmd, *logBuffer) {
	t.Helper()
	return startPopdAwait(t, bin, regexp.MustCompile(`msg=listening addr=(\S+)`), args...)
}

// startPopdAwait runs the binary until the test ends, and returns what
// the first group of re matches in the first log line it matches, the
// command and the log.
func startPopdAwait(t testing.TB, bin string, re *regexp.Regexp, args ...string) (string, *exec.Cmd, *logBuffer) {
	t.Helper()
	return startPopdIn(t, t.TempDir(), bin, re, args...)
}

// startPopdIn is startPopdAwait run in dir.
func startPopdIn(t testing.TB, dir, bin string, re *regexp.Regexp, args ...string) (string, *exec.Cmd, *logBuffer) {
	t.Helper()
	log := &logBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.add(sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("popd's log:\n" + log.String())
		}
	})
	select {
	case addr := <-found:
		return addr, cmd, log
	case <-time.After(20 * time.Second):
		t.Fatalf("popd did not log %s", re)
	}
	return "", nil, nil
}

func TestDemoAndSignals(t *testing.T) {
	bin := buildPopd(t)
	addr, cmd := startPopd(t, bin, "-demo", "-listen", "127.0.0.1:0")
	if _, err := os.Stat(filepath.Join(cmd.Dir, "popd-demo", "users")); err != nil {
		t.Fatalf("demo users file: %v", err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	say := func(line, want string) {
		t.Helper()
		if line != "" {
			io.WriteString(conn, line+"\r\n")
		}
		got, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(got, want) {
			t.Fatalf("after %q: got %q, %v; want %q", line, got, err, want)
		}
	}
	say("", "+OK")
	say("USER demo", "+OK")
	say("PASS demo", "+OK maildrop locked and ready, 5 messages")
	say("DELE 1", "+OK")
	// SIGTERM: the session is told, nothing is deleted, popd exits 0.
	cmd.Process.Signal(syscall.SIGTERM)
	say("", "-ERR [SYS/TEMP] shutting down")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("popd exit: %v", err)
	}
	var n int
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(cmd.Dir, "popd-demo", "mail", "demo", sub))
		n += len(ents)
	}
	if n != 5 {
		t.Fatalf("%d demo messages after shutdown, want 5", n)
	}
}

func TestBadFlagsAndConfig(t *testing.T) {
	bin := buildPopd(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("listen = \"127.0.0.1:1\"\nlisten-typo = 3\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-no-such-flag"}, "flag provided but not defined"},
		{[]string{"-config", bad}, `unknown key "listen-typo"`},
		{[]string{"-config", filepath.Join(dir, "missing.toml")}, "no such file"},
		{[]string{"-users", filepath.Join(dir, "nope"), "-listen", "127.0.0.1:0"}, "no such file"},
		{[]string{"-listen", "nonsense"}, "listen"},
		{[]string{"-log-level", "loud"}, "log-level"},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		if err == nil {
			t.Errorf("popd %q exited 0", tc.args)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("popd %q: output %q lacks %q", tc.args, out, tc.want)
		}
	}
}

// TestFileDescriptorLimit: with few file descriptors, accept fails; popd
// backs off, says so, and serves again once connections close.
func TestFileDescriptorLimit(t *testing.T) {
	bin := buildPopd(t)
	dir := t.TempDir()
	sh := fmt.Sprintf("ulimit -n 40 && exec %s -demo -demo-dir %s -listen 127.0.0.1:0 -max-connections-per-ip 1000", bin, filepath.Join(dir, "demo"))
	addr, _, log := startPopdLog(t, "sh", "-c", sh)
	var conns []net.Conn
	for i := 0; i < 60; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "accept failed; backing off") {
		if time.Now().After(deadline) {
			t.Fatal("no back-off logged with 60 connections under ulimit -n 40")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range conns {
		c.Close()
	}
	// Served again.
	waitServed := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && strings.HasPrefix(line, "+OK") {
				return
			}
		}
		if time.Now().After(waitServed) {
			t.Fatal("not serving again after connections closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSIGHUPReloadsConfiguration: edit the -config file, send SIGHUP, and
// new sessions get the new settings; the log names what needs a restart.
func TestSIGHUPReloadsConfiguration(t *testing.T) {
	bin := buildPopd(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "popd.toml")
	write := func(extra string) {
		os.WriteFile(conf, []byte("listen = \"127.0.0.1:0\"\n"+extra), 0o600)
	}
	write("")
	addr, cmd, log := startPopdLog(t, bin, "-demo", "-demo-dir", filepath.Join(dir, "demo"), "-config", conf)
	capa := func() string {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, "CAPA\r\nQUIT\r\n")
		b, _ := io.ReadAll(conn)
		return string(b)
	}
	if strings.Contains(capa(), "EXPIRE") {
		t.Fatal("EXPIRE before it was configured")
	}
	write("expire = \"NEVER\"\nmetrics = \"127.0.0.1:0\"\n")
	cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(capa(), "EXPIRE NEVER") {
		if time.Now().After(deadline) {
			t.Fatalf("no EXPIRE NEVER after SIGHUP; log:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The log comes through a pipe: it may trail the CAPA.
	for !strings.Contains(log.String(), "need a restart") || !strings.Contains(log.String(), "metrics") {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not name metrics as needing a restart:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A broken file changes nothing and says why.
	write("expire = \n")
	cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "configuration not reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no error logged for a broken configuration; log:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(capa(), "EXPIRE NEVER") {
		t.Fatal("a broken configuration undid the good one")
	}
}

// A second popd started on a running one's port says so and exits 1: no
// panic (a bind failure used to close a nil listener set), nothing of the
// first one's touched.
func TestSecondPopdOnSamePort(t *testing.T) {
	bin := buildPopd(t)
	addr, _ := startPopd(t, bin, append([]string{"-demo", "-listen", "127.0.0.1:0"}, rootArgs()...)...)
	dir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"-demo", "-demo-dir", filepath.Join(dir, "second"), "-listen", addr}, rootArgs()...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || strings.Contains(string(out), "panic") {
		t.Fatalf("second popd on %s: %v\n%s", addr, err, out)
	}
	// The holder is named when /proc shows it (root, or the same user).
	if !strings.Contains(string(out), "-listen "+addr+": in use by a running popd") &&
		!strings.Contains(string(out), "address already in use") {
		t.Fatalf("second popd on %s says\n%s", addr, out)
	}
	// The first one still serves.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if l, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(l, "+OK") {
		t.Fatalf("first popd: %q, %v", l, err)
	}
}
