package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil"
)

// TestDashboardEndToEnd starts popd (demo) and the popadm dashboard for real
// in tmux, logs in with a POP3 client, sees its row appear, kicks it from
// the dashboard, and checks that the client was disconnected and nothing
// was deleted.
func TestDashboardEndToEnd(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed; .ci/run should have installed it")
		}
		t.Skip("tmux not installed")
	}
	dir := t.TempDir()
	bin := func(name string) string {
		out := filepath.Join(dir, name)
		if b, err := exec.Command("go", "build", "-o", out, "popd/cmd/"+name).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, b)
		}
		return out
	}
	popd, popadm := bin("popd"), bin("popadm")

	// popd -demo in dir; its address from the log.
	d := exec.Command(popd, "-demo", "-listen", "127.0.0.1:0")
	d.Dir = dir
	stderr, _ := d.StderrPipe()
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait() })
	addrc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(20 * time.Second):
		t.Fatal("popd did not start")
	}

	// The dashboard, in tmux, started from the demo's directory.
	session := fmt.Sprintf("popd-e2e-%d", os.Getpid())
	tm := func(args ...string) string {
		out, err := exec.Command(tmux, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tm("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", dir,
		"env", "TERM=xterm-256color", popadm)
	t.Cleanup(func() { exec.Command(tmux, "kill-session", "-t", session).Run() })
	screen := func() string { return tm("capture-pane", "-p", "-t", session) }
	waitScreen := func(what string, ok func(string) bool) {
		t.Helper()
		var s string
		defer func() {
			if t.Failed() {
				t.Logf("the screen:\n%s", s)
			}
		}()
		testutil.Eventually(t, 15*time.Second, "waiting for "+what, func() bool { s = screen(); return ok(s) })
	}
	waitScreen("the dashboard", func(s string) bool { return strings.Contains(s, "Sessions") })

	// A POP3 client logs in and marks a message for deletion.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(cmd, want string) string {
		t.Helper()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if cmd != "" {
			io.WriteString(conn, cmd+"\r\n")
		}
		l, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(l, want) {
			t.Fatalf("after %q: got %q, %v; want %q", cmd, l, err, want)
		}
		return l
	}
	say("", "+OK")
	say("USER demo", "+OK")
	say("PASS demo", "+OK")
	say("DELE 1", "+OK")

	// Its row appears; kick it: K, move from Cancel to the action, enter.
	waitScreen("the session's row", func(s string) bool {
		return strings.Contains(s, "demo") && strings.Contains(s, "transaction")
	})
	tm("send-keys", "-t", session, "K")
	waitScreen("the confirmation", func(s string) bool { return strings.Contains(s, "Cancel") })
	tm("send-keys", "-t", session, "Tab")
	tm("send-keys", "-t", session, "Enter")

	say("", "-ERR [SYS/TEMP] session ended by the administrator")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("the kicked client is still connected")
	}
	waitScreen("the row to go", func(s string) bool { return !strings.Contains(s, "transaction") })
	var n int
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(dir, "popd-demo", "mail", "demo", sub))
		n += len(ents)
	}
	if n != 5 {
		t.Fatalf("%d demo messages after the kick, want 5 (nothing deleted)", n)
	}
	tm("send-keys", "-t", session, "q")
}
