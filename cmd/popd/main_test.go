package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildPopd compiles the real binary once per test.
func buildPopd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "popd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startPopd runs the binary and returns the address it listens on, read
// from its log, and the command; its log goes to t.Log.
func startPopd(t *testing.T, bin string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRe := regexp.MustCompile(`msg=listening addr=(\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log(sc.Text())
			if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case addr := <-found:
		return addr, cmd
	case <-time.After(20 * time.Second):
		t.Fatal("popd did not start listening")
	}
	return "", nil
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
		{[]string{"-config", bad}, "unknown keys: listen-typo"},
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
