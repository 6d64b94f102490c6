package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// startDemo builds popd and popadm, runs "popd -demo" in a temporary
// directory until the test ends, and returns the directory, popd's POP3
// address and popadm's path.
func startDemo(t *testing.T) (dir, addr, popadm string) {
	t.Helper()
	dir = t.TempDir()
	popadm = buildBin(t, dir, "popadm")
	p := &demoPopd{t: t, bin: buildBin(t, dir, "popd"), dir: dir}
	p.start()
	return dir, p.addr, popadm
}

// e2eClient is a POP3 client from a loopback address of its own.
type e2eClient struct {
	t    *testing.T
	src  string
	conn net.Conn
	r    *bufio.Reader
}

func dialE2E(t *testing.T, addr, src string) *e2eClient {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("connecting from %s: %v", src, err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &e2eClient{t: t, src: src, conn: conn, r: bufio.NewReader(conn)}
	c.say("", "+OK")
	return c
}

func (c *e2eClient) say(cmd, want string) {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if cmd != "" {
		io.WriteString(c.conn, cmd+"\r\n")
	}
	l, err := c.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, want) {
		c.t.Fatalf("%s: after %q: got %q, %v; want %q", c.src, cmd, l, err, want)
	}
}

// TestDashboardTagKickEndToEnd: in the real dashboard against a real
// popd, three sessions tagged with space go in one dialog (K, one
// confirmation for the three) and one request: those three are told and
// closed, the other two go on.
func TestDashboardTagKickEndToEnd(t *testing.T) {
	dir, addr, popadm := startDemo(t)
	p := startPane(t, dir, 120, 40, popadm)
	p.waitText("the dashboard", "Sessions")

	// Five clients, each from an address of its own, in this order: the
	// table lists them by session id, so in the same order.
	var cs []*e2eClient
	for i := 1; i <= 5; i++ {
		cs = append(cs, dialE2E(t, addr, fmt.Sprintf("127.0.0.%d", i)))
	}
	cs[0].say("USER demo", "+OK")
	cs[0].say("PASS demo", "+OK")
	p.waitFor("the five sessions", func(s string) bool {
		return strings.Contains(s, "127.0.0.5:") && strings.Contains(s, "transaction")
	})

	p.keys("g", "Space", "Space", "Space")
	p.waitText("three tagged", "3 tagged")
	p.keys("K")
	p.waitFor("one dialog for the three", func(s string) bool {
		return strings.Contains(s, "Kick 3 tagged sessions?") && strings.Contains(s, "Cancel")
	})
	p.keys("Tab", "Enter")
	p.waitText("the outcome", "kicked 3 tagged sessions")

	for _, c := range cs[:3] {
		c.say("", "-ERR [SYS/TEMP] session ended by the administrator")
		c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.r.ReadByte(); err == nil {
			t.Fatalf("%s: still connected after the kick", c.src)
		}
	}
	for _, c := range cs[3:] {
		c.say("CAPA", "+OK")
	}
	p.waitFor("the three rows to go", func(s string) bool {
		return !strings.Contains(s, "127.0.0.1:") && !strings.Contains(s, "127.0.0.3:") &&
			strings.Contains(s, "127.0.0.4:") && strings.Contains(s, "127.0.0.5:")
	})
	p.keys("q")
}
