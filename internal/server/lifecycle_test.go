package server

import (
	"context"
	"encoding/base64"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/event"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
	"popd/internal/userdb"
)

// slowUser's password is checked with a BLF-CRYPT cost-11 hash (a sixth of
// a second, seconds under -race), so that a kick can land while the
// backend is still checking it.
var slowUser = account{"slow", "slow horse", ""}

const slowHash = "{BLF-CRYPT}$2y$11$XpSK6i8TIE4uAqjjzL2OcOs3T4ekjE9tErl.ybFCQZ6AdZj646TZ2"

// lifecycle is a server on loopback, like env, that also keeps its log and
// tells when a connection was accepted.
type lifecycle struct {
	*site.Site
	t        *testing.T
	srv      *Server
	addr     string
	log      *testutil.Buffer
	events   chan event.Event
	accepted chan net.Conn
	served   chan error
}

func startLifecycle(t *testing.T, accounts []account, mod func(*config.Config)) *lifecycle {
	t.Helper()
	var accts []site.Account
	for _, a := range accounts {
		if a != slowUser {
			accts = append(accts, site.Account{Name: a.name, Pass: a.pass, Scheme: a.scheme})
		}
	}
	st := site.New(t, accts)
	cfg := st.Cfg
	f, err := os.OpenFile(cfg.Users, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("slow:" + slowHash + "::::" + st.Dir + "/home/slow::\n")
	f.Close()
	if mod != nil {
		mod(&cfg)
	}
	log, buf := testutil.Logger(t)
	users, err := userdb.Open(cfg.Users, log)
	if err != nil {
		t.Fatal(err)
	}
	l := &lifecycle{Site: st, t: t, log: buf, events: make(chan event.Event, 1000),
		accepted: make(chan net.Conn, 100), served: make(chan error, 1)}
	l.srv, err = New(cfg, Options{Users: users, Logger: log, Publish: func(e event.Event) {
		select {
		case l.events <- e:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	l.addr = tcp.Addr().String()
	go func() { l.served <- l.srv.Serve(&notifyListener{tcp, l.accepted}) }()
	t.Cleanup(func() { l.shutdown(time.Minute) })
	return l
}

// shutdown shuts the server down within d and waits for Serve to return.
func (l *lifecycle) shutdown(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	<-l.served
	l.served <- ErrServerClosed // for a second call
	return err
}

// notifyListener tells of every connection it accepts.
type notifyListener struct {
	net.Listener
	accepted chan net.Conn
}

func (l *notifyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted <- c
	}
	return c, err
}

func (l *lifecycle) dial() *testutil.POP3 { return testutil.DialPOP3(l.t, l.addr) }

// sessionIn waits for a session (other than those in not) whose last
// command is verb and returns its ID: the command is then running.
func (l *lifecycle) sessionIn(verb string, not ...string) string {
	l.t.Helper()
	var id string
	testutil.Eventually(l.t, 20*time.Second, "no session running "+verb, func() bool {
		for _, s := range l.srv.Sessions() {
			if s.LastCommand == verb && !slices.Contains(not, s.ID) {
				id = s.ID
				return true
			}
		}
		return false
	})
	return id
}

// until returns the events up to and including session id's end.
func (l *lifecycle) until(id string) []event.Event {
	l.t.Helper()
	var out []event.Event
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case e := <-l.events:
			if e.Session != id {
				continue
			}
			out = append(out, e)
			if e.Type == event.SessionClosed {
				return out
			}
		case <-timeout:
			l.t.Fatalf("session %s did not end; events so far %+v", id, out)
		}
	}
}

// slowOK sends cmd and expects +OK, waiting as long as a slow password
// check may take on a busy machine.
func slowOK(t *testing.T, c *testutil.POP3, cmd string) {
	t.Helper()
	c.Send(cmd)
	c.Conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	if line, err := c.R.ReadString('\n'); !strings.HasPrefix(line, "+OK") {
		t.Fatalf("%s: got %q (%v), want +OK", cmd, line, err)
	}
}

// expectKicked checks that the client is told reason and disconnected.
func expectKicked(t *testing.T, c *testutil.POP3, reason string) {
	t.Helper()
	expectKickedAfter(t, c, reason, nextLine(c))
}

// nextLine reads a line, waiting as long as a slow password check may take.
func nextLine(c *testutil.POP3) string {
	c.Conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	line, _ := c.R.ReadString('\n')
	return line
}

// expectKickedAfter is expectKicked for a client whose next line was line.
func expectKickedAfter(t *testing.T, c *testutil.POP3, reason, line string) {
	t.Helper()
	if want := "-ERR [SYS/TEMP] " + reason + "\r\n"; line != want {
		t.Fatalf("after the kick the client read %q, want %q", line, want)
	}
	if !c.Closed(time.Minute) {
		t.Fatal("kicked session still open")
	}
}

// A login waiting out its failure delay ends at once when it is kicked or
// the server shuts down, and the client is told why.
func TestKickDuringPenaltyWait(t *testing.T) {
	long := func(c *config.Config) {
		c.AuthFailureDelay.Duration = time.Hour
		c.AuthPenaltyMax.Duration = time.Hour
	}
	l := startLifecycle(t, []account{alice}, long)
	c := l.dial()
	c.OK("USER alice")
	c.Send("PASS wrong")
	id := l.sessionIn("PASS")
	if _, ok := l.srv.Kick(id, "session ended by the administrator"); !ok {
		t.Fatal("no session to kick")
	}
	expectKicked(t, c, "session ended by the administrator")
	if evs := l.until(id); evs[len(evs)-1].Reason != "stopped" {
		t.Fatalf("events: %+v", evs)
	}

	c = l.dial()
	c.OK("USER alice")
	c.Send("PASS wrong")
	l.sessionIn("PASS", id)
	if err := l.shutdown(time.Minute); err != nil {
		t.Fatalf("Shutdown waited for the hour-long failure delay: %v", err)
	}
	expectKicked(t, c, "shutting down")
}

// A kick that arrives during a login ends the session: whether the
// session is inside a SASL exchange, checking a password, or checking
// one inside a SASL exchange, it never reaches TRANSACTION, and the
// client is told why.
func TestKickDuringLogin(t *testing.T) {
	plain := base64.StdEncoding.EncodeToString([]byte("\x00slow\x00slow horse"))
	for _, tc := range []struct {
		name  string
		login func(c *testutil.POP3) (verb string)
		right bool // the password is right: the maildrop may have been opened
	}{
		{"SASL exchange", func(c *testutil.POP3) string {
			c.Send("AUTH PLAIN")
			c.Expect("+ ")
			return "AUTH" // the client never answers the challenge
		}, false},
		{"password check", func(c *testutil.POP3) string {
			c.OK("USER slow")
			c.Send("PASS slow horse")
			return "PASS"
		}, true},
		{"SASL password check", func(c *testutil.POP3) string {
			c.Send("AUTH PLAIN " + plain)
			return "AUTH"
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := startLifecycle(t, []account{slowUser}, nil)
			l.Deliver(t, "slow", "Subject: keep me\n\n")
			var c *testutil.POP3
			var id, first string
			var tried []string
			for {
				c = l.dial()
				id = l.sessionIn(tc.login(c), tried...)
				if _, ok := l.srv.Kick(id, "session ended by the administrator"); !ok {
					t.Fatal("no session to kick")
				}
				first = nextLine(c)
				// On a machine busy enough, the check may be over before
				// the kick comes: then try again.
				if !tc.right || !strings.HasPrefix(first, "+OK") || len(tried) == 4 {
					break
				}
				t.Logf("the kick came after the login; again")
				l.until(id)
				tried = append(tried, id)
			}
			expectKickedAfter(t, c, "session ended by the administrator", first)
			for _, e := range l.until(id) {
				if e.Type == event.Login {
					t.Fatalf("a kicked session logged in: %+v", e)
				}
			}
			// The maildrop is neither touched nor left locked.
			if n := len(l.Files(t, "slow")); n != 1 {
				t.Fatalf("%d messages after the kick", n)
			}
			if tc.right {
				c = l.dial()
				c.OK("USER slow")
				slowOK(t, c, "PASS slow horse")
				c.OK("QUIT")
			}
		})
	}
}

// A connection accepted before Shutdown but not yet a session (here: its
// PROXY header has not arrived) is closed by Shutdown, not left to its
// header timeout.
func TestShutdownClosesConnectionsNotYetSessions(t *testing.T) {
	l := startLifecycle(t, []account{alice}, func(c *config.Config) { c.ProxyFrom = "127.0.0.1/32" })
	conn, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("PROXY TCP4 203.0.113.9 ")) // the rest never comes
	<-l.accepted
	if err := l.shutdown(time.Minute); err != nil {
		t.Fatal(err)
	}
	if log := l.log.String(); strings.Contains(log, "PROXY header refused") {
		t.Fatalf("Shutdown waited for the header timeout:\n%s", log)
	}
	if !testutil.NewPOP3(t, conn).Closed(10 * time.Second) {
		t.Fatal("connection still open after Shutdown")
	}
}

// Shutdown returns only once every session's goroutine has ended, even
// when its grace period is over before they do.
func TestShutdownJoinsEverySession(t *testing.T) {
	l := startLifecycle(t, []account{alice, slowUser}, nil)
	l.Deliver(t, "alice", "Subject: keep me\n\n")
	c := l.dial()
	c.OK("USER alice")
	c.OK("PASS correct horse")
	c.OK("DELE 1")
	for range 10 { // within the 20 connections per address
		l.dial().OK("CAPA")
	}
	// One is checking a password, which no Stop interrupts.
	c = l.dial()
	c.OK("USER slow")
	c.Send("PASS slow horse")
	l.sessionIn("PASS")
	l.shutdown(0) // the grace period is over at once
	if n := len(l.srv.Sessions()); n != 0 {
		t.Fatalf("Shutdown returned with %d sessions still running", n)
	}
	if n := len(l.Files(t, "alice")); n != 1 {
		t.Fatal("shutdown deleted mail")
	}
}
