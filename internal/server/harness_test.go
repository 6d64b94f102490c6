package server

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/userdb"
)

// env is a running popd on a loopback port, with a users file and Maildirs
// in a temporary directory.
type env struct {
	t       testing.TB
	dir     string
	cfg     config.Config
	users   *userdb.File
	srv     *Server
	addr    string
	tlsAddr string // the implicit-TLS listener, when cfg.ListenTLS is set
	cancel  context.CancelFunc
	done    chan struct{}
	writes  *atomic.Int64 // Write calls the server made on its connections
	// controlPath is the control socket, once startControl has run.
	controlPath string
}

// countingListener counts the server's writes to its clients, to check that
// pipelined responses are coalesced.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, writes: l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// testLog sends the server's log lines to t.Log, so a failing test shows
// the server's side; lines after the test has ended are dropped.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	over bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.over {
		l.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// account is a test user: name, password and Maildir. The password is
// stored with the default scheme (bcrypt) unless scheme says otherwise.
type account struct{ name, pass, scheme string }

// newEnv starts popd for the given accounts (each gets a Maildir under
// dir/mail/NAME). mod, if not nil, adjusts the configuration.
func newEnv(t testing.TB, accounts []account, mod func(*config.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	var lines strings.Builder
	for _, a := range accounts {
		hash, err := userdb.Hash(a.scheme, a.pass)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&lines, "%s:%s::::%s::\n", a.name, hash, filepath.Join(dir, "home", a.name))
	}
	usersPath := filepath.Join(dir, "users")
	if err := os.WriteFile(usersPath, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Users = usersPath
	cfg.Maildir = filepath.Join(dir, "mail", "%u")
	cfg.AuthFailureDelay.Duration = 50 * time.Millisecond
	cfg.Listen = "127.0.0.1:0"
	if mod != nil {
		mod(&cfg)
	}
	tl := &testLog{t: t}
	log := slog.New(slog.NewTextHandler(tl, &slog.HandlerOptions{Level: slog.LevelDebug}))
	switch t.(type) {
	case *testing.F, *testing.B:
		log = slog.New(slog.DiscardHandler) // millions of sessions
	}
	users, err := userdb.Open(usersPath, log)
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	writes := new(atomic.Int64)
	srv, err := New(cfg, users, log)
	if err != nil {
		t.Fatal(err)
	}
	ln := srv.wrapProxy(&countingListener{Listener: tcp, writes: writes})
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{writes: writes, t: t, dir: dir, cfg: cfg, users: users, srv: srv,
		addr: ln.Addr().String(), cancel: cancel, done: make(chan struct{})}
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		users.Watch(ctx)
	}()
	var tlsDone chan struct{}
	if cfg.ListenTLS != "" {
		tl, err := net.Listen("tcp", cfg.ListenTLS)
		if err != nil {
			t.Fatal(err)
		}
		e.tlsAddr = tl.Addr().String()
		tlsDone = make(chan struct{})
		go func() {
			defer close(tlsDone)
			e.srv.ServeTLS(ctx, tl)
		}()
	}
	go func() {
		defer close(e.done)
		e.srv.Serve(ctx, ln)
		if tlsDone != nil {
			<-tlsDone
		}
		<-watching
	}()
	t.Cleanup(func() {
		e.stop()
		tl.mu.Lock()
		tl.over = true
		tl.mu.Unlock()
	})
	return e
}

// stop shuts the server down and waits for it.
func (e *env) stop() {
	e.cancel()
	<-e.done
}

// maildir is the Maildir of user name.
func (e *env) maildir(name string) string { return filepath.Join(e.dir, "mail", name) }

// deliver puts a message into name's new/ the way an MTA does (tmp/, then
// rename) and returns its file name. Names sort in delivery order.
func (e *env) deliver(name, content string) string {
	e.t.Helper()
	md := e.maildir(name)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			e.t.Fatal(err)
		}
	}
	seq := deliverySeq.Add(1)
	file := fmt.Sprintf("%d.M%06dP%d.testhost", 1700000000+seq, seq, os.Getpid())
	tmp := filepath.Join(md, "tmp", file)
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(md, "new", file)); err != nil {
		e.t.Fatal(err)
	}
	return file
}

var deliverySeq atomic.Int64

// files lists the message files in name's new/ and cur/ as "new/x", "cur/y".
func (e *env) files(name string) []string {
	e.t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(e.maildir(name), sub))
		if err != nil && !os.IsNotExist(err) {
			e.t.Fatal(err)
		}
		for _, de := range ents {
			out = append(out, sub+"/"+de.Name())
		}
	}
	return out
}

// client is a POP3 client that speaks line by line, for transcripts.
type client struct {
	t        testing.TB
	conn     net.Conn
	r        *bufio.Reader
	greeting string
}

func (e *env) dial() *client {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	c := &client{t: e.t, conn: conn, r: bufio.NewReader(conn)}
	c.greeting = c.expect("+OK")
	return c
}

// dialGreeting connects and returns the greeting line.
func (e *env) dialGreeting() string {
	e.t.Helper()
	c := e.dial()
	return c.greeting
}

// login dials and logs in as a.
func (e *env) login(a account) *client {
	e.t.Helper()
	c := e.dial()
	c.ok("USER " + a.name)
	c.ok("PASS " + a.pass)
	return c
}

func (c *client) send(line string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
}

// line reads one response line (without CRLF); it fails the test on a
// timeout or a line not ending in CRLF.
func (c *client) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading response: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("response line not CRLF-terminated: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// expect reads a line and checks its prefix.
func (c *client) expect(prefix string) string {
	c.t.Helper()
	l := c.line()
	if !strings.HasPrefix(l, prefix) {
		c.t.Fatalf("got %q, want prefix %q", l, prefix)
	}
	return l
}

// ok sends a command and expects +OK.
func (c *client) ok(cmd string) string {
	c.t.Helper()
	c.send(cmd)
	return c.expect("+OK")
}

// err sends a command and expects exactly the -ERR line want.
func (c *client) err(cmd, want string) {
	c.t.Helper()
	c.send(cmd)
	if l := c.line(); l != want {
		c.t.Fatalf("%s: got %q, want %q", cmd, l, want)
	}
}

// multi reads a multi-line response body up to the terminating ".",
// returning the raw bytes between (still byte-stuffed, with CRLFs).
func (c *client) multi() string {
	c.t.Helper()
	var b strings.Builder
	for {
		c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading multi-line response: %v", err)
		}
		if l == ".\r\n" {
			return b.String()
		}
		b.WriteString(l)
	}
}

// unstuff removes POP3 byte-stuffing from a multi-line body.
func unstuff(s string) string {
	lines := strings.SplitAfter(s, "\r\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, ".")
	}
	return strings.Join(lines, "")
}

// closed reports whether the server closed the connection (EOF) within d.
func (c *client) closed(d time.Duration) bool {
	c.conn.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := c.r.ReadByte(); err != nil {
			return !os.IsTimeout(err)
		}
	}
}

// chanPublisher hands the server's events to a test.
type chanPublisher chan control.Event

func (c chanPublisher) Publish(e control.Event) {
	select {
	case c <- e:
	default: // a test that stopped listening must not block the server
	}
}

// sessionEvents makes the server publish its events to the returned
// channel from now on.
func (s *Server) sessionEvents() <-chan control.Event {
	ch := make(chanPublisher, 1000)
	s.SetPublisher(ch)
	return ch
}
