package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/event"
)

// startControl serves the control API for e's daemon on a Unix socket in a
// temporary directory, watches deliveries, and returns a connected client.
func (e *env) startControl(t testing.TB) *control.Client {
	t.Helper()
	ccfg := control.ServerConfig{Path: filepath.Join(t.TempDir(), "ctl", "control.sock"), Version: Version}
	ln, err := control.Listen(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	cs := control.NewServer(ccfg, e.srv)
	e.srv.SetPublisher(cs)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); cs.Serve(ctx, ln) }()
	go func() { defer wg.Done(); e.srv.WatchDeliveries(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	c, err := control.Dial(context.Background(), ccfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e.controlPath = ccfg.Path
	return c
}

// nextEvent waits up to d for an event of type typ.
func nextEvent(t *testing.T, ch <-chan control.Event, typ event.Kind, d time.Duration) control.Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream ended waiting for %s", typ)
			}
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within %v", typ, d)
		}
	}
}

func TestControlKickKeepsMail(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: 1\n\n")
	e.deliver("alice", "Subject: 2\n\n")
	ctl := e.startControl(t)
	ctx := context.Background()
	events, err := ctl.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := e.login(alice)
	c.ok("DELE 1")
	c.ok("DELE 2")
	sessions, err := ctl.Sessions(ctx)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("who: %v %+v", err, sessions)
	}
	s := sessions[0]
	if s.User != "alice" || s.State != "transaction" || !s.Locked || s.LastCommand != "DELE" {
		t.Fatalf("session as published: %+v", s)
	}
	locks, _ := ctl.Locks(ctx)
	if len(locks) != 1 || locks[0].User != "alice" || locks[0].Session != s.ID {
		t.Fatalf("locks: %+v", locks)
	}
	if err := ctl.Kick(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	c.expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !c.closed(2 * time.Second) {
		t.Fatal("kicked client still connected")
	}
	if ev := nextEvent(t, events, event.Kicked, 2*time.Second); ev.Session != s.ID || ev.By == "" {
		t.Fatalf("kick event: %+v", ev)
	}
	if ev := nextEvent(t, events, event.SessionClosed, 2*time.Second); ev.Deleted != 0 || ev.Reason != "stopped" {
		t.Fatalf("closed event: %+v", ev)
	}
	if n := len(e.files("alice")); n != 2 {
		t.Fatalf("a kick deleted mail: %d messages left", n)
	}
	// A QUIT does remove, and the event counts what was removed.
	c = e.login(alice)
	c.ok("DELE 1")
	c.ok("QUIT")
	if ev := nextEvent(t, events, event.SessionClosed, 2*time.Second); ev.Deleted != 1 || ev.Reason != "quit" {
		t.Fatalf("closed event after QUIT: %+v", ev)
	}
	var nf *control.Error
	if err := ctl.Kick(ctx, "999"); !errors.As(err, &nf) || nf.Code != control.CodeNotFound {
		t.Fatalf("kick of an unknown session: %v", err)
	}
}

func TestControlUsers(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	ctl := e.startControl(t)
	ctx := context.Background()
	if err := ctl.AddUser(ctx, "dave", "first pw"); err != nil {
		t.Fatal(err)
	}
	// At once: no wait for the file watcher.
	c := e.dial()
	c.ok("USER dave")
	c.ok("PASS first pw")
	c.ok("QUIT")
	if err := ctl.SetPassword(ctx, "dave", "second pw"); err != nil {
		t.Fatal(err)
	}
	c = e.dial()
	c.ok("USER dave")
	c.err("PASS first pw", "-ERR [AUTH] invalid user name or password")
	c.ok("USER dave")
	c.ok("PASS second pw")
	c.ok("QUIT")
	if err := ctl.SetDisabled(ctx, "dave", true); err != nil {
		t.Fatal(err)
	}
	c = e.dial()
	c.ok("USER dave")
	c.err("PASS second pw", "-ERR [AUTH] invalid user name or password")
	users, err := ctl.Users(ctx)
	if err != nil || len(users) != 2 {
		t.Fatalf("users: %v %+v", err, users)
	}
	for _, u := range users {
		if u.Name == "dave" && (!u.Disabled || u.Scheme != "BLF-CRYPT" || u.LastLogin.IsZero()) {
			t.Fatalf("dave as listed: %+v", u)
		}
	}
	var ce *control.Error
	if err := ctl.AddUser(ctx, "dave", "x"); !errors.As(err, &ce) || ce.Code != control.CodeConflict {
		t.Fatalf("adding dave twice: %v", err)
	}
	if err := ctl.AddUser(ctx, "../evil", "x"); !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
		t.Fatalf("adding ../evil: %v", err)
	}
	e.deliver("dave", "Subject: kept\n\n")
	if err := ctl.DeleteUser(ctx, "dave", false); err != nil {
		t.Fatal(err)
	}
	if len(e.files("dave")) != 1 {
		t.Fatal("deleting a user removed their mail without being asked")
	}
	if _, ok := e.users.Lookup("dave"); ok {
		t.Fatal("dave still in the users table")
	}
}

func TestControlDeliveryEvent(t *testing.T) {
	e := newEnv(t, []account{alice, {"newbie", "pw", "PLAIN"}}, nil)
	e.deliver("alice", "Subject: first\n\n") // alice's maildir exists; newbie's does not yet
	ctl := e.startControl(t)
	events, err := ctl.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the watches are set up
	name := e.deliver("alice", "Subject: second\n\n")
	if ev := nextEvent(t, events, event.Delivered, time.Second); ev.User != "alice" || ev.Reason != name {
		t.Fatalf("delivery event: %+v", ev)
	}
	// A maildir created by a first delivery is picked up, and that
	// delivery announced, within the rescan period.
	first := e.deliver("newbie", "Subject: hello\n\n")
	if ev := nextEvent(t, events, event.Delivered, time.Second+deliveryRescan); ev.User != "newbie" || ev.Reason != first {
		t.Fatalf("first delivery into a new maildir: %+v", ev)
	}
	second := e.deliver("newbie", "Subject: again\n\n")
	if ev := nextEvent(t, events, event.Delivered, time.Second); ev.User != "newbie" || ev.Reason != second {
		t.Fatalf("second delivery: %+v", ev)
	}
}

func TestControlLocksAndPenalties(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	ctl := e.startControl(t)
	ctx := context.Background()
	// A lock held by a live session: unlock ends that session.
	c := e.login(alice)
	locks, _ := ctl.Locks(ctx)
	if len(locks) != 1 {
		t.Fatalf("locks: %+v", locks)
	}
	if err := ctl.Unlock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	c.expect("-ERR [SYS/TEMP]") // its session was ended, nothing deleted
	if locks, _ := ctl.Locks(ctx); len(locks) != 0 {
		t.Fatalf("locks after unlock: %+v", locks)
	}
	// Penalties: two failures from us, an event, listed, then cleared.
	events, err := ctl.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c = e.dial()
	for i := 0; i < 2; i++ {
		c.ok("USER alice")
		c.err("PASS x", "-ERR [AUTH] invalid user name or password")
	}
	if ev := nextEvent(t, events, event.Penalty, 2*time.Second); ev.Remote != "127.0.0.1/32" || ev.Count != 2 {
		t.Fatalf("penalty event: %+v", ev)
	}
	p, _ := ctl.Penalties(ctx)
	if len(p) != 1 || p[0].Source != "127.0.0.1/32" || p[0].Failures != 2 {
		t.Fatalf("penalties: %+v", p)
	}
	if err := ctl.ClearPenalty(ctx, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if p, _ := ctl.Penalties(ctx); len(p) != 0 {
		t.Fatalf("penalties after clear: %+v", p)
	}
	st, err := ctl.Stats(ctx)
	if err != nil || st.Logins < 1 || st.Failures < 1 || st.Version != Version {
		t.Fatalf("stats: %v %+v", err, st)
	}
}

// TestSlowSubscriberDoesNotStallLogins: a subscriber that never reads
// its events must not slow sessions down.
func TestSlowSubscriberDoesNotStallLogins(t *testing.T) {
	e := newEnv(t, []account{{"fast", "pw", "PLAIN"}}, nil)
	e.startControl(t)
	// A raw subscriber that never reads.
	conn, err := net.Dial("unix", e.controlPath)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, `{"hello":"popd-control","version":%d}`+"\n"+`{"id":1,"method":"events"}`+"\n", control.Version)
	start := time.Now()
	for i := 0; i < 300; i++ {
		c := e.login(account{"fast", "pw", "PLAIN"})
		c.ok("QUIT")
		c.conn.Close()
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("300 sessions took %v with a stalled subscriber", d)
	}
}

// BenchmarkControlEvents: events per second through the control socket
// to one subscriber while 1,000 concurrent clients open and close POP3
// sessions (three events each: opened, login, closed).
func BenchmarkControlEvents(b *testing.B) {
	const clients = 1000
	var accts []account
	for i := 0; i < clients; i++ {
		accts = append(accts, account{fmt.Sprintf("u%d", i), "pw", "PLAIN"})
	}
	e := newEnv(b, accts, func(c *config.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 2*clients, 2*clients
	})
	ctl := e.startControl(b)
	events, err := ctl.Events(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var received, dropped atomic.Int64
	go func() {
		for ev := range events {
			received.Add(1)
			if ev.Type == event.Dropped {
				dropped.Add(int64(ev.Count))
			}
		}
	}()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(a account) {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				s, err := benchLogin(e.addr, a.name)
				if err != nil {
					b.Error(err)
					return
				}
				s.quit()
			}
		}(accts[i])
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond) // the last events drain
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(received.Load())/el, "events/s")
	b.ReportMetric(float64(dropped.Load())/el, "dropped/s")
}

func TestControlReloadConfiguration(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	ctl := e.startControl(t)
	ctx := context.Background()
	next := e.cfg
	var sourceErr error
	e.srv.SetConfigSource(func() (config.Config, error) { return next, sourceErr })
	old := e.dial() // a session opened before the reload keeps its settings

	next.LoginDelay.Duration = time.Hour
	next.Expire = "NEVER"
	next.Listen = "127.0.0.1:1" // needs a restart: logged, not applied
	if err := ctl.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	capa := e.dial().capa()
	if !containsLine(capa, "LOGIN-DELAY 3600") || !containsLine(capa, "EXPIRE NEVER") {
		t.Fatalf("new session after reload: CAPA %q", capa)
	}
	if containsLine(old.capa(), "EXPIRE NEVER") {
		t.Fatal("an open session changed settings under its feet")
	}
	// LOGIN-DELAY is enforced from now on.
	e.login(alice).ok("QUIT")
	c := e.dial()
	c.ok("USER alice")
	c.err("PASS "+alice.pass, "-ERR [LOGIN-DELAY] minimum time between logins has not elapsed")

	// A configuration that does not validate changes nothing.
	next.IdleTimeout.Duration = 0
	var ce *control.Error
	if err := ctl.Reload(ctx); !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
		t.Fatalf("reload of a bad configuration: %v", err)
	}
	if !containsLine(e.dial().capa(), "EXPIRE NEVER") {
		t.Fatal("a bad configuration replaced the good one")
	}
	if got := needsRestart(e.cfg, next); !slices.Contains(got, "listen") {
		t.Fatalf("needsRestart = %q", got)
	}
}
