package testutil

import (
	"bufio"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// POP3 is a client that speaks line by line, so that tests read like the
// RFCs' example transcripts. Every read and write has a deadline.
type POP3 struct {
	T        testing.TB
	Conn     net.Conn
	R        *bufio.Reader
	Greeting string
}

// DialPOP3 connects to addr over TCP and reads the +OK greeting.
func DialPOP3(t testing.TB, addr string) *POP3 {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := NewPOP3(t, conn)
	c.Greeting = c.Expect("+OK")
	return c
}

// NewPOP3 speaks over conn, which is already past the greeting (or whose
// greeting the test reads itself).
func NewPOP3(t testing.TB, conn net.Conn) *POP3 {
	return &POP3{T: t, Conn: conn, R: bufio.NewReader(conn)}
}

// Send writes one command line.
func (c *POP3) Send(line string) {
	c.T.Helper()
	c.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Conn.Write([]byte(line + "\r\n")); err != nil {
		c.T.Fatalf("sending %q: %v", line, err)
	}
}

// Line reads one response line (without CRLF); it fails the test on a
// timeout or a line not ending in CRLF.
func (c *POP3) Line() string {
	c.T.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.R.ReadString('\n')
	if err != nil {
		c.T.Fatalf("reading response: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.T.Fatalf("response line not CRLF-terminated: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// Expect reads a line and checks its prefix.
func (c *POP3) Expect(prefix string) string {
	c.T.Helper()
	l := c.Line()
	if !strings.HasPrefix(l, prefix) {
		c.T.Fatalf("got %q, want prefix %q", l, prefix)
	}
	return l
}

// OK sends a command and expects +OK.
func (c *POP3) OK(cmd string) string {
	c.T.Helper()
	c.Send(cmd)
	return c.Expect("+OK")
}

// Err sends a command and expects exactly the -ERR line want.
func (c *POP3) Err(cmd, want string) {
	c.T.Helper()
	c.Send(cmd)
	if l := c.Line(); l != want {
		c.T.Fatalf("%s: got %q, want %q", cmd, l, want)
	}
}

// Multi reads a multi-line response body up to the terminating ".",
// returning the raw bytes between (still byte-stuffed, with CRLFs).
func (c *POP3) Multi() string {
	c.T.Helper()
	var b strings.Builder
	for {
		c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := c.R.ReadString('\n')
		if err != nil {
			c.T.Fatalf("reading multi-line response: %v", err)
		}
		if l == ".\r\n" {
			return b.String()
		}
		b.WriteString(l)
	}
}

// Closed reports whether the server closed the connection (EOF) within d.
func (c *POP3) Closed(d time.Duration) bool {
	c.Conn.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := c.R.ReadByte(); err != nil {
			return !os.IsTimeout(err)
		}
	}
}
