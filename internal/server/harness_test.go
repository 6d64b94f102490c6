package server

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/event"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
	"popd/internal/userdb"
)

// env is a running popd on a loopback port, with a users file and Maildirs
// in a temporary directory.
type env struct {
	*site.Site
	t       testing.TB
	dir     string
	cfg     config.Config
	users   *userdb.File
	srv     *Server
	addr    string
	tlsAddr string                            // the implicit-TLS listener, when cfg.ListenTLS is set
	stop    func()                            // shuts the server down and waits for it
	events  *atomic.Pointer[chan event.Event] // shared by copies of env (the fuzzer makes some)
	writes  *atomic.Int64                     // Write calls the server made on its connections
	logs    *testutil.Buffer                  // what the server logged
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

// account is a test user: name, password and Maildir. The password is
// stored with the default scheme (bcrypt) unless scheme says otherwise.
type account struct{ name, pass, scheme string }

// newEnv starts popd for the given accounts (each gets a Maildir under
// dir/mail/NAME). mod, if not nil, adjusts the configuration.
func newEnv(t testing.TB, accounts []account, mod func(*config.Config)) *env {
	t.Helper()
	accts := make([]site.Account, len(accounts))
	for i, a := range accounts {
		accts[i] = site.Account{Name: a.name, Pass: a.pass, Scheme: a.scheme}
	}
	st := site.New(t, accts)
	dir, cfg, usersPath := st.Dir, st.Cfg, st.Cfg.Users
	if mod != nil {
		mod(&cfg)
	}
	log, logs := testutil.Logger(t)
	users, err := userdb.Open(usersPath, log)
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	writes := new(atomic.Int64)
	e := &env{Site: st, events: new(atomic.Pointer[chan event.Event]), writes: writes, logs: logs, t: t, dir: dir, cfg: cfg, users: users, addr: tcp.Addr().String()}
	srv, err := New(cfg, Options{Users: users, Logger: log, Publish: e.publish, TrackChanges: true}) // as popd runs
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() { users.Watch(ctx) })
	if cfg.ListenTLS != "" {
		tl, err := net.Listen("tcp", cfg.ListenTLS)
		if err != nil {
			t.Fatal(err)
		}
		e.tlsAddr = tl.Addr().String()
		run(func() { srv.ServeTLS(tl) })
	}
	run(func() { srv.Serve(&countingListener{Listener: tcp, writes: writes}) })
	e.stop = sync.OnceFunc(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		wg.Wait()
	})
	t.Cleanup(e.stop)
	return e
}

// deliver puts a message into name's new/ (see site.Site.Deliver).
func (e *env) deliver(name, content string) string { return e.Deliver(e.t, name, content) }

// files lists name's message files (see site.Site.Files).
func (e *env) files(name string) []string { return e.Files(e.t, name) }

// maildir is the Maildir of user name.
func (e *env) maildir(name string) string { return e.Maildir(name) }

func (e *env) dial() *testutil.POP3 {
	e.t.Helper()
	return testutil.DialPOP3(e.t, e.addr)
}

// dialGreeting connects and returns the greeting line.
func (e *env) dialGreeting() string {
	e.t.Helper()
	return e.dial().Greeting
}

// login dials and logs in as a.
func (e *env) login(a account) *testutil.POP3 {
	e.t.Helper()
	c := e.dial()
	c.OK("USER " + a.name)
	c.OK("PASS " + a.pass)
	return c
}

// unstuff removes POP3 byte-stuffing from a multi-line body.
func unstuff(s string) string {
	lines := strings.SplitAfter(s, "\r\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, ".")
	}
	return strings.Join(lines, "")
}

// sessionEvents returns the server's events from now on.
func (e *env) sessionEvents() <-chan event.Event {
	ch := make(chan event.Event, 1000)
	e.events.Store(&ch)
	return ch
}

// publish hands the server's events to the test that asked for them; a
// test that stopped listening must not block the server.
func (e *env) publish(ev event.Event) {
	if ch := e.events.Load(); ch != nil {
		select {
		case *ch <- ev:
		default:
		}
	}
}
