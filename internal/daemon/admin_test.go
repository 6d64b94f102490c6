package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
)

func TestControlKickKeepsMail(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: 1\n\n")
	e.deliver("alice", "Subject: 2\n\n")
	ctl := e.control()
	ctx := context.Background()
	events, err := ctl.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := e.login(alice)
	c.OK("DELE 1")
	c.OK("DELE 2")
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
	c.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !c.Closed(2 * time.Second) {
		t.Fatal("kicked client still connected")
	}
	if ev := testutil.NextEvent(t, events, event.Kicked, 2*time.Second); ev.Session != s.ID || ev.By == "" {
		t.Fatalf("kick event: %+v", ev)
	}
	if ev := testutil.NextEvent(t, events, event.SessionClosed, 2*time.Second); ev.Deleted != 0 || ev.Reason != "stopped" {
		t.Fatalf("closed event: %+v", ev)
	}
	if n := len(e.files("alice")); n != 2 {
		t.Fatalf("a kick deleted mail: %d messages left", n)
	}
	// A QUIT does remove, and the event counts what was removed.
	c = e.login(alice)
	c.OK("DELE 1")
	c.OK("QUIT")
	if ev := testutil.NextEvent(t, events, event.SessionClosed, 2*time.Second); ev.Deleted != 1 || ev.Reason != "quit" {
		t.Fatalf("closed event after QUIT: %+v", ev)
	}
	var nf *control.Error
	if err := ctl.Kick(ctx, "999"); !errors.As(err, &nf) || nf.Code != control.CodeNotFound {
		t.Fatalf("kick of an unknown session: %v", err)
	}
}

func TestControlUsers(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	ctl := e.control()
	ctx := context.Background()
	if err := ctl.AddUser(ctx, "dave", "first pw"); err != nil {
		t.Fatal(err)
	}
	// At once: no wait for the file watcher.
	c := e.dial()
	c.OK("USER dave")
	c.OK("PASS first pw")
	c.OK("QUIT")
	if err := ctl.SetPassword(ctx, "dave", "second pw"); err != nil {
		t.Fatal(err)
	}
	c = e.dial()
	c.OK("USER dave")
	c.Err("PASS first pw", "-ERR [AUTH] invalid user name or password")
	c.OK("USER dave")
	c.OK("PASS second pw")
	c.OK("QUIT")
	if err := ctl.SetDisabled(ctx, "dave", true); err != nil {
		t.Fatal(err)
	}
	c = e.dial()
	c.OK("USER dave")
	c.Err("PASS second pw", "-ERR [AUTH] invalid user name or password")
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
	if us, _ := ctl.Users(ctx); slices.ContainsFunc(us, func(u control.User) bool { return u.Name == "dave" }) {
		t.Fatal("dave still in the users table")
	}
}

func TestControlDeliveryEvent(t *testing.T) {
	e := newEnv(t, []account{alice, {Name: "newbie", Pass: "pw", Scheme: "PLAIN"}}, nil)
	e.deliver("alice", "Subject: first\n\n") // alice's maildir exists; newbie's does not yet
	time.Sleep(700 * time.Millisecond)       // and is watched (the rescan is every 500 ms)
	ctl := e.control()
	events, err := ctl.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the watches are set up
	name := e.deliver("alice", "Subject: second\n\n")
	if ev := testutil.NextEvent(t, events, event.Delivered, time.Second); ev.User != "alice" || ev.Reason != name {
		t.Fatalf("delivery event: %+v", ev)
	}
	// A maildir created by a first delivery is picked up, and that
	// delivery announced, within the rescan period.
	first := e.deliver("newbie", "Subject: hello\n\n")
	if ev := testutil.NextEvent(t, events, event.Delivered, 2*time.Second); ev.User != "newbie" || ev.Reason != first {
		t.Fatalf("first delivery into a new maildir: %+v", ev)
	}
	second := e.deliver("newbie", "Subject: again\n\n")
	if ev := testutil.NextEvent(t, events, event.Delivered, time.Second); ev.User != "newbie" || ev.Reason != second {
		t.Fatalf("second delivery: %+v", ev)
	}
}

func TestControlLocksAndPenalties(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	ctl := e.control()
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
	c.Expect("-ERR [SYS/TEMP]") // its session was ended, nothing deleted
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
		c.OK("USER alice")
		c.Err("PASS x", "-ERR [AUTH] invalid user name or password")
	}
	if ev := testutil.NextEvent(t, events, event.Penalty, 2*time.Second); ev.Remote != "127.0.0.1/32" || ev.Count != 2 {
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
	e := newEnv(t, []account{{Name: "fast", Pass: "pw", Scheme: "PLAIN"}}, nil)
	e.control()
	// A raw subscriber that never reads.
	conn, err := net.Dial("unix", e.controlPath)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, `{"hello":"popd-control","version":%d}`+"\n"+`{"id":1,"method":"events"}`+"\n", control.Version)
	start := time.Now()
	for i := 0; i < 300; i++ {
		c := e.login(account{Name: "fast", Pass: "pw", Scheme: "PLAIN"})
		c.OK("QUIT")
		c.Conn.Close()
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
		accts = append(accts, account{Name: fmt.Sprintf("u%d", i), Pass: "pw", Scheme: "PLAIN"})
	}
	e := newEnv(b, accts, func(c *config.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = 2*clients, 2*clients
	})
	ctl := e.control()
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
				if err := loginQuit(e.addr, a.Name, a.Pass); err != nil {
					b.Error(err)
					return
				}
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
	ctl := e.control()
	ctx := context.Background()
	next := e.Cfg
	old := e.dial() // a session opened before the reload keeps its settings

	next.LoginDelay.Duration = time.Hour
	next.Expire = "NEVER"
	next.Listen = "127.0.0.1:1" // needs a restart: logged, not applied
	e.next.Store(&next)
	if err := ctl.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if c := capa(e.dial()); !containsLine(c, "LOGIN-DELAY 3600") || !containsLine(c, "EXPIRE NEVER") {
		t.Fatalf("new session after reload: CAPA %q", c)
	}
	if containsLine(capa(old), "EXPIRE NEVER") {
		t.Fatal("an open session changed settings under its feet")
	}
	// LOGIN-DELAY is enforced from now on.
	e.login(alice).OK("QUIT")
	c := e.dial()
	c.OK("USER alice")
	c.Err("PASS "+alice.Pass, "-ERR [LOGIN-DELAY] minimum time between logins has not elapsed")

	// A configuration that does not validate changes nothing.
	next.IdleTimeout.Duration = 0
	e.next.Store(&next)
	var ce *control.Error
	if err := ctl.Reload(ctx); !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
		t.Fatalf("reload of a bad configuration: %v", err)
	}
	if !containsLine(capa(e.dial()), "EXPIRE NEVER") {
		t.Fatal("a bad configuration replaced the good one")
	}
}

// loginQuit is one whole POP3 session, without a testing.TB: benchmarks
// run it from many goroutines.
func loginQuit(addr, user, pass string) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	fmt.Fprintf(conn, "USER %s\r\nPASS %s\r\nQUIT\r\n", user, pass)
	for range 4 { // greeting, USER, PASS, QUIT
		l, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(l, "+OK") {
			return fmt.Errorf("session of %s: %q", user, l)
		}
	}
	return nil
}
