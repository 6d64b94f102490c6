package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDashboardEndToEnd starts popd (demo) and the popadm dashboard for real
// in tmux, logs in with a POP3 client, sees its row appear, kicks it from
// the dashboard, and checks that the client was disconnected and nothing
// was deleted.
func TestDashboardEndToEnd(t *testing.T) {
	dir, addr, popadm := startDemo(t)

	// The dashboard, in tmux, started from the demo's directory.
	p := startPane(t, dir, 120, 40, popadm)
	p.waitText("the dashboard", "Sessions")

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
	p.waitFor("the session's row", func(s string) bool {
		return strings.Contains(s, "demo") && strings.Contains(s, "transaction")
	})
	p.keys("K")
	p.waitFor("the confirmation", func(s string) bool { return strings.Contains(s, "Cancel") })
	p.keys("Tab", "Enter")

	say("", "-ERR [SYS/TEMP] session ended by the administrator")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("the kicked client is still connected")
	}
	p.waitFor("the row to go", func(s string) bool { return !strings.Contains(s, "transaction") })
	var n int
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(dir, "popd-demo", "mail", "demo", sub))
		n += len(ents)
	}
	if n != 5 {
		t.Fatalf("%d demo messages after the kick, want 5 (nothing deleted)", n)
	}
	p.keys("q")
}
