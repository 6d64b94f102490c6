package pop3_test

import (
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/pop3"
	"popd/internal/pop3/pop3test"
)

// events records what a session tells Config.OnEvent.
type events struct {
	mu   sync.Mutex
	list []pop3.Event
}

func (e *events) add(ev pop3.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) get() []pop3.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.list
}

// RFC 1939 §7: the APOP digest covers the greeting's timestamp, a fresh
// one on every connection.
func TestAPOP(t *testing.T) {
	b := newBackend()
	cfg := newConfig(t, b)
	cfg.Hostname = "pop.example"
	c := pop3test.Start(t, cfg)
	other := pop3test.Start(t, cfg)
	greeting := regexp.MustCompile(`^\+OK POP3 server ready (<[0-9]+\.[A-Z2-7]{16}@pop\.example>)$`)
	m := greeting.FindStringSubmatch(c.Greeting)
	if m == nil {
		t.Fatalf("greeting %q", c.Greeting)
	}
	if other.Greeting == c.Greeting {
		t.Errorf("two sessions greeted with the same timestamp %q", c.Greeting)
	}
	other.Do("APOP alice "+pop3test.APOPDigest(m[1], "tanstaaf"), authFailed) // not its timestamp
	c.Do("APOP alice "+strings.ToUpper(pop3test.APOPDigest(m[1], "tanstaaf")), locked3)
	c.Do("QUIT", "+OK bye, 3 messages left\r\n")
	c.ExpectClosed()
	if l := b.Logins(); len(l) != 1 || l[0].User != "alice" || l[0].Method != "APOP" {
		t.Errorf("logins %+v", l)
	}
}

func TestGreeting(t *testing.T) {
	b := newBackend()
	c := pop3test.Start(t, newConfig(t, b))
	if !regexp.MustCompile(`^\+OK POP3 server ready <[^<>@ ]+@localhost>$`).MatchString(c.Greeting) {
		t.Errorf("greeting %q", c.Greeting)
	}
	b = newBackend()
	b.APOP = false
	if c = pop3test.Start(t, newConfig(t, b)); c.Greeting != "+OK POP3 server ready" {
		t.Errorf("greeting without APOP %q", c.Greeting)
	}
}

// RFC 1939 §6: UPDATE removes the messages marked as deleted, and the
// maildrop marks those retrieved (RETR, not TOP) as seen.
func TestUpdate(t *testing.T) {
	b := newBackend()
	alice := b.Users["alice"].Mailbox
	c := pop3test.Start(t, newConfig(t, b))
	c.Login("alice", "correct horse", 3)
	c.Do("RETR 1", multi("+OK 19 octets", "Subject: 1", "", "one"))
	c.Do("RETR 2", multi("+OK 28 octets", "Subject: 2", "", "..dot", "b2", "b3"))
	c.Do("TOP 3 0", multi("+OK top of message follows"))
	c.Do("DELE 1", "+OK message 1 deleted\r\n")
	c.Do("QUIT", "+OK bye, 2 messages left\r\n")
	c.ExpectClosed()
	c.Wait()
	if got, want := alice.Updates(), []pop3test.Update{{Deleted: []int{0}, Retrieved: []int{1}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("updates %+v, want %+v", got, want)
	}
	if alice.Locked() {
		t.Error("maildrop still locked")
	}
	c = pop3test.Start(t, newConfig(t, b))
	c.Login("alice", "correct horse", 2)
	c.Do("UIDL", multi("+OK unique-id listing follows", "1 uid-2", "2 uid-3"))
	if m := alice.Messages(); !m[0].Seen || m[1].Seen {
		t.Errorf("seen flags %v %v, want true false", m[0].Seen, m[1].Seen)
	}
}

// RFC 1939 §8: the maildrop stays locked from the login to the end of the
// session.
func TestLockHeldUntilSessionEnds(t *testing.T) {
	b := newBackend()
	first := pop3test.Start(t, newConfig(t, b))
	first.Login("alice", "correct horse", 3)
	second := pop3test.Start(t, newConfig(t, b))
	second.Do("USER alice\r\nPASS correct horse", sendPass+inUse)
	second.Do("AUTH PLAIN "+plain("", "alice", "correct horse"), inUse)
	first.Do("QUIT", "+OK bye, 3 messages left\r\n")
	first.ExpectClosed()
	second.Login("alice", "correct horse", 3)
}

// RFC 2595 §4: whatever the client pipelined after STLS is never run, in
// clear or in TLS (CVE-2011-0411); after the handshake the session is as
// new, knows it is encrypted, and tells the Backend so.
func TestSTLS(t *testing.T) {
	b := newBackend()
	cfg := newConfig(t, b)
	cfg.RequireTLS = true
	_, clientTLS := pop3test.TLSConfigs()
	c := pop3test.Start(t, cfg)
	c.Do("STLS\r\nUSER alice", "+OK begin TLS negotiation\r\n")
	c.Handshake(clientTLS)
	c.Do("PASS correct horse", "-ERR send USER first\r\n")
	if !c.Session.Info().TLS {
		t.Error("Info().TLS is false after STLS")
	}
	c.Login("alice", "correct horse", 3)
	if l := b.Logins(); len(l) != 1 || !l[0].Conn.TLS {
		t.Errorf("the Backend saw %+v", l)
	}
}

// A session that ends without QUIT, however it ends, updates nothing and
// releases the maildrop; the client is told why when the server ends it.
func TestEndWithoutQuit(t *testing.T) {
	states := []struct{ name, send, want string }{
		{"authorization", "NOOP", wrongState},
		{"after USER", "USER alice", sendPass},
		{"in AUTH", "AUTH PLAIN", "+ \r\n"},
		{"transaction", "USER alice\r\nPASS correct horse\r\nDELE 1", sendPass + locked3 + "+OK message 1 deleted\r\n"},
	}
	ends := []struct {
		name   string
		config func(*pop3.Config)
		end    func(*pop3test.Client)
		reason string
	}{
		{"hangup", nil, (*pop3test.Client).Hangup, "client closed the connection"},
		{"stop", nil, func(c *pop3test.Client) {
			c.Session.Stop("shutting down")
			c.Expect("-ERR [SYS/TEMP] shutting down\r\n")
		}, "stopped"},
		{"idle", func(cfg *pop3.Config) { cfg.IdleTimeout = 200 * time.Millisecond }, func(c *pop3test.Client) {
			c.Expect("-ERR autologout: idle for too long\r\n")
		}, "autologout"},
		{"login timeout", func(cfg *pop3.Config) {
			cfg.LoginTimeout = 300 * time.Millisecond
			cfg.IdleTimeout = 600 * time.Millisecond
		}, nil, ""},
	}
	for _, st := range states {
		for _, e := range ends {
			t.Run(st.name+"/"+e.name, func(t *testing.T) {
				t.Parallel()
				b := newBackend()
				var ev events
				cfg := newConfig(t, b)
				cfg.OnEvent = ev.add
				if e.config != nil {
					e.config(cfg)
				}
				c := pop3test.Start(t, cfg)
				c.Do(st.send, st.want)
				reason := e.reason
				switch {
				case e.end != nil:
					e.end(c)
				case st.name == "transaction": // RFC 1939 §3: the idle timer from now on
					c.Expect("-ERR autologout: idle for too long\r\n")
					reason = "autologout"
				default:
					c.Expect("-ERR login timed out\r\n")
					reason = "login timeout"
				}
				c.ExpectClosed()
				c.Wait()
				alice := b.Users["alice"].Mailbox
				if alice.Locked() || len(alice.Updates()) > 0 {
					t.Errorf("locked %v, updates %v", alice.Locked(), alice.Updates())
				}
				list := ev.get()
				if last := list[len(list)-1]; last.Type != "session.closed" || last.Reason != reason {
					t.Errorf("last event %+v, want session.closed for %q", last, reason)
				}
			})
		}
	}
}

// Config.OnEvent hears of every login, failed or not, and of the end of
// the session, with what it did.
func TestEvents(t *testing.T) {
	b := newBackend()
	var ev events
	cfg := newConfig(t, b)
	cfg.OnEvent = ev.add
	c := pop3test.Start(t, cfg)
	c.Do("AUTH PLAIN\r\n"+plain("", strings.Repeat("x", 300), "pw"), "+ \r\n"+authFailed)
	c.Do("USER alice\r\nPASS wrong", sendPass+authFailed)
	c.Login("alice", "correct horse", 3)
	c.Do("RETR 1\r\nTOP 2 0\r\nDELE 3", multi("+OK 19 octets", "Subject: 1", "", "one")+
		multi("+OK top of message follows", "Subject: 2", "")+"+OK message 3 deleted\r\n")
	c.Do("QUIT", "+OK bye, 2 messages left\r\n")
	c.ExpectClosed()
	c.Wait()
	id, remote := c.Session.Info().ID, pop3test.ClientAddr.String()
	want := []pop3.Event{
		{Type: "login.failed", Session: id, User: strings.Repeat("x", 255) + "…", Remote: remote, Reason: "AUTH", Method: "AUTH PLAIN"},
		{Type: "login.failed", Session: id, User: "alice", Remote: remote, Reason: "AUTH", Method: "USER"},
		{Type: "login", Session: id, User: "alice", Remote: remote, Reason: "USER", Method: "USER"},
		{Type: "session.closed", Session: id, User: "alice", Remote: remote, Reason: "quit", Retrieved: 2, Deleted: 1, Octets: 19 + 14},
	}
	got := ev.get()
	for i := range got {
		// How long: the login's check, the session's whole length.
		if got[i].Duration <= 0 || got[i].Type == "session.closed" && got[i].Duration < got[2].Duration {
			t.Errorf("event %d: duration %v", i, got[i].Duration)
		}
		got[i].Duration = 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n got %+v\nwant %+v", got, want)
	}
}

// Info is a snapshot for the live registry: the verb of the last command,
// never its arguments.
func TestInfo(t *testing.T) {
	c := pop3test.Start(t, newConfig(t, newBackend()))
	info := c.Session.Info()
	if info.State != pop3.StateAuthorization || info.User != "" || info.Since.IsZero() {
		t.Errorf("new session %+v", info)
	}
	c.Login("alice", "correct horse", 3)
	if got := c.Session.Info().LastCommand; got != "PASS" {
		t.Errorf("LastCommand %q after PASS", got)
	}
	c.Do("RETR 2", multi("+OK 28 octets", "Subject: 2", "", "..dot", "b2", "b3"))
	c.Do("FROB secret", unknown)
	info = c.Session.Info()
	want := pop3.Info{
		ID: info.ID, RemoteAddr: "192.0.2.1:49152", LocalAddr: "192.0.2.110:110", User: "alice",
		State: pop3.StateTransaction, LastCommand: "?", Retrieved: 1, Octets: 28,
		Since: info.Since, LastActive: info.LastActive,
	}
	if info != want || info.LastActive.Before(info.Since) {
		t.Errorf("info\n got %+v\nwant %+v", info, want)
	}
}

func TestStateString(t *testing.T) {
	for st, want := range map[pop3.State]string{
		pop3.StateAuthorization: "authorization",
		pop3.StateTransaction:   "transaction",
		pop3.StateUpdate:        "update",
		pop3.StateClosed:        "closed",
	} {
		if got := st.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", st, got, want)
		}
	}
}
