package pop3test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"popd/internal/pop3"
)

// Timeout bounds a whole test session: a server that stops answering fails
// the test instead of hanging it.
const Timeout = 10 * time.Second

// The addresses a session under test believes it talks between
// (RFC 5737 documentation addresses).
var (
	ClientAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 49152}
	ServerAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 110), Port: 110}
)

var sessionIDs atomic.Int64

// Client is the client end of a session under test. Its methods fail the
// test at the first surprise, so a test reads as a transcript:
//
//	c := pop3test.Start(t, cfg)
//	c.Do("USER alice", "+OK send PASS\r\n")
//	c.Do("STAT", "+OK 2 38\r\n")
type Client struct {
	// Session is the server side; Greeting is its first line, without CRLF.
	Session  *pop3.Session
	Greeting string

	t    testing.TB
	raw  net.Conn // the socket
	conn net.Conn // raw, or TLS over it after StartTLS
	r    *bufio.Reader
	last string // the last line sent, for failure messages
	done chan struct{}
}

// Start runs a session with cfg on a fresh connection and reads its
// greeting. The session runs in a goroutine that the test's cleanup joins.
func Start(t testing.TB, cfg *pop3.Config) *Client {
	t.Helper()
	return StartConn(t, cfg, pop3.ConnInfo{})
}

// StartConn is Start for a connection described by info; its SessionID,
// RemoteAddr and LocalAddr, when empty, are filled in as Start does.
func StartConn(t testing.TB, cfg *pop3.Config, info pop3.ConnInfo) *Client {
	t.Helper()
	srv, cli, err := Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if info.SessionID == "" {
		info.SessionID = fmt.Sprint("t", sessionIDs.Add(1))
	}
	if info.RemoteAddr == nil {
		info.RemoteAddr = ClientAddr
	}
	if info.LocalAddr == nil {
		info.LocalAddr = ServerAddr
	}
	c := &Client{
		Session: pop3.NewSession(srv, cfg, info),
		t:       t,
		raw:     cli,
		conn:    cli,
		r:       bufio.NewReader(cli),
		done:    make(chan struct{}),
	}
	go func() {
		defer close(c.done)
		c.Session.Serve(context.Background())
	}()
	t.Cleanup(func() {
		cli.Close()
		c.Wait()
	})
	cli.SetDeadline(time.Now().Add(Timeout))
	c.Greeting = strings.TrimSuffix(c.readLine(), "\r\n")
	if !strings.HasPrefix(c.Greeting, "+OK ") {
		t.Fatalf("greeting %q", c.Greeting)
	}
	return c
}

// Wait waits for the session's Serve to return.
func (c *Client) Wait() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(Timeout):
		c.t.Errorf("session %s did not end", c.Session.Info().ID)
	}
}

// Conn is the connection as the client now speaks it: TLS after StartTLS.
func (c *Client) Conn() net.Conn { return c.conn }

// Send writes line and a CRLF. A line may hold several commands separated
// by CRLF: they go in one write, pipelined (RFC 2449 §6.6).
func (c *Client) Send(line string) {
	c.t.Helper()
	c.last = line
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatalf("sending %q: %v", short(line), err)
	}
}

// Expect reads as many lines as want has and fails unless they are want,
// byte for byte.
func (c *Client) Expect(want string) {
	c.t.Helper()
	if !strings.HasSuffix(want, "\n") {
		c.t.Fatalf("Expect(%q): a response ends in CRLF", want)
	}
	var got strings.Builder
	for range strings.Count(want, "\n") {
		got.WriteString(c.readLine())
		if !strings.HasPrefix(want, got.String()) {
			break
		}
	}
	if got.String() != want {
		c.t.Fatalf("after %q:\n got %q\nwant %q", short(c.last), short(got.String()), short(want))
	}
}

// Do sends line and expects want.
func (c *Client) Do(line, want string) {
	c.t.Helper()
	c.Send(line)
	c.Expect(want)
}

// readLine reads one line including its LF.
func (c *Client) readLine() string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("after %q: reading a response: %v (got %q)", short(c.last), err, short(l))
	}
	return l
}

// Login logs in with USER and PASS; the maildrop holds n messages.
func (c *Client) Login(user, pass string, n int) {
	c.t.Helper()
	c.Do("USER "+user, "+OK send PASS\r\n")
	c.Do("PASS "+pass, fmt.Sprintf("+OK maildrop locked and ready, %d messages\r\n", n))
}

// StartTLS sends STLS (RFC 2595 §4) and makes the TLS handshake with cfg.
func (c *Client) StartTLS(cfg *tls.Config) {
	c.t.Helper()
	c.Do("STLS", "+OK begin TLS negotiation\r\n")
	c.Handshake(cfg)
}

// Handshake makes a TLS handshake with cfg; from then on the client speaks
// TLS.
func (c *Client) Handshake(cfg *tls.Config) {
	c.t.Helper()
	tc := tls.Client(c.raw, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.r.Reset(tc)
}

// CloseWrite half-closes the connection: the server reads end of file.
func (c *Client) CloseWrite() {
	c.t.Helper()
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok {
		c.t.Fatalf("%T cannot half-close", c.conn)
	}
	if err := cw.CloseWrite(); err != nil {
		c.t.Fatalf("half-closing: %v", err)
	}
}

// ReadAll reads what the server sends until it closes the connection.
func (c *Client) ReadAll() string {
	c.t.Helper()
	var b strings.Builder
	_, err := io.Copy(&b, c.r)
	// A server that closes with unread input resets the connection once
	// the client has read everything that was sent.
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("after %q: reading to the end: %v (got %q)", short(c.last), err, short(b.String()))
	}
	return b.String()
}

// ExpectClosed fails unless the server closes the connection without
// sending anything more.
func (c *Client) ExpectClosed() {
	c.t.Helper()
	if rest := c.ReadAll(); rest != "" {
		c.t.Fatalf("after %q: got %q, want the connection closed", short(c.last), short(rest))
	}
}

// Hangup half-closes the connection and fails unless the server then
// ends the session without another word.
func (c *Client) Hangup() {
	c.t.Helper()
	c.CloseWrite()
	c.ExpectClosed()
}

// short shortens s for a failure message.
func short(s string) string {
	if len(s) <= 300 {
		return s
	}
	return fmt.Sprintf("%s…(%d octets)…%s", s[:200], len(s)-250, s[len(s)-50:])
}

// Logger returns a logger that writes to t.Log, so that a failing test
// shows the server's side. Sessions must end before the test does.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
