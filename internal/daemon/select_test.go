package daemon

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
)

func (e *env) loginFrom(src string, a account) *testutil.POP3 {
	e.t.Helper()
	c := e.dialFrom(src)
	c.OK("USER " + a.Name)
	c.OK("PASS " + a.Pass)
	return c
}

// idOf is the id of the session of user (or, for "", the one from remote's
// address not logged in), from who.
func idOf(t *testing.T, ss []control.Session, user, src string) string {
	t.Helper()
	for _, s := range ss {
		if s.User == user && strings.HasPrefix(s.Remote, src+":") {
			return s.ID
		}
	}
	t.Fatalf("no session of %q from %s in %+v", user, src, ss)
	return ""
}

// TestControlKickSelect: popd picks the sessions of a selector itself —
// user, source prefix, state, idle time, ANDed —, kicks them as kick does
// (no UPDATE, a session.kicked event with who did it), or with a dry run
// only says which; nothing matching is no error, an empty count.
func TestControlKickSelect(t *testing.T) {
	bob := account{Name: "bob", Pass: "bob's pw"}
	e := newEnv(t, []account{alice, bob}, nil)
	e.deliver("alice", "Subject: 1\n\nhi\n")
	ctl := e.control()
	ctx := context.Background()
	events, err := ctl.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}

	a := e.loginFrom("127.0.0.1", alice)
	a.OK("DELE 1")
	b := e.loginFrom("127.0.0.2", bob)
	anon2 := e.dialFrom("127.0.0.2") // not logged in
	anon1 := e.dialFrom("127.0.0.1")
	anon1.OK("CAPA")
	anon1.Multi()
	ss, err := ctl.Sessions(ctx)
	if err != nil || len(ss) != 4 {
		t.Fatalf("who: %v %+v", err, ss)
	}
	aID, bID := idOf(t, ss, "alice", "127.0.0.1"), idOf(t, ss, "bob", "127.0.0.2")
	anon1ID, anon2ID := idOf(t, ss, "", "127.0.0.1"), idOf(t, ss, "", "127.0.0.2")

	pick := func(sel control.Selector, dry bool) []string {
		t.Helper()
		k, err := ctl.KickSelect(ctx, sel, dry)
		if err != nil {
			t.Fatalf("%v: %v", sel, err)
		}
		if k.DryRun != dry {
			t.Fatalf("%v: dry run %v", sel, k.DryRun)
		}
		slices.Sort(k.IDs)
		return k.IDs
	}
	want := func(got []string, ids ...string) {
		t.Helper()
		slices.Sort(ids)
		if !slices.Equal(got, ids) && !(len(got) == 0 && len(ids) == 0) {
			t.Fatalf("picked %q, want %q", got, ids)
		}
	}

	// Dry runs change nothing.
	want(pick(control.Selector{User: "alice"}, true), aID)
	want(pick(control.Selector{From: "127.0.0.2"}, true), bID, anon2ID)
	want(pick(control.Selector{From: "127.0.0.0/24", State: "transaction"}, true), aID, bID)
	want(pick(control.Selector{From: "127.0.0.9/8", State: "authorization"}, true), anon1ID, anon2ID) // masked to 127.0.0.0/8
	want(pick(control.Selector{IDs: []string{aID, anon1ID}, State: "transaction"}, true), aID)
	want(pick(control.Selector{User: "carol"}, true))
	want(pick(control.Selector{IdleOver: time.Hour}, true))
	a.OK("NOOP")

	// Nothing matching: no error, nothing kicked.
	want(pick(control.Selector{User: "bob", From: "127.0.0.1"}, false))
	b.OK("NOOP")

	// The sessions not logged in from 127.0.0.2: anon2 only.
	want(pick(control.Selector{From: "127.0.0.2/32", State: "authorization"}, false), anon2ID)
	anon2.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !anon2.Closed(2 * time.Second) {
		t.Fatal("kicked client still connected")
	}
	if ev := testutil.NextEvent(t, events, event.Kicked, 2*time.Second); ev.Session != anon2ID || ev.By == "" {
		t.Fatalf("kick event: %+v", ev)
	}
	b.OK("NOOP")
	anon1.OK("CAPA")
	anon1.Multi()

	// Idle longer than a while: those that said nothing since.
	time.Sleep(600 * time.Millisecond) // let them be idle; the assertions do not depend on timing
	a.OK("NOOP")
	want(pick(control.Selector{IdleOver: 300 * time.Millisecond, From: "127.0.0.0/8"}, true), bID, anon1ID)

	// A user's sessions, kicked: no UPDATE, the message alice marked stays.
	want(pick(control.Selector{User: "alice"}, false), aID)
	a.Expect("-ERR [SYS/TEMP]")
	if n := len(e.files("alice")); n != 1 {
		t.Fatalf("a kick deleted mail: %d messages left", n)
	}
	if ev := testutil.NextEvent(t, events, event.Kicked, 2*time.Second); ev.Session != aID || ev.User != "alice" || ev.By == "" {
		t.Fatalf("kick event: %+v", ev)
	}
	b.OK("NOOP")

	// Refused selectors.
	for _, sel := range []control.Selector{{}, {From: "nonsense"}, {State: "bogus"}, {IdleOver: -time.Second}} {
		_, err := ctl.KickSelect(ctx, sel, false)
		var ce *control.Error
		if !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
			t.Errorf("%+v: %v, want invalid", sel, err)
		}
	}
	b.OK("NOOP")
}

// TestSessionSendingStalled: a RETR whose client stopped reading shows as
// sending, stalled, and idle since its bytes last moved; once read, it is
// no longer sending.
func TestSessionSendingStalled(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	// Larger than what the loopback's socket buffers hold.
	e.deliver("alice", "Subject: big\n\n"+strings.Repeat(strings.Repeat("x", 99)+"\n", 400_000))
	ctl := e.control()
	ctx := context.Background()
	c := e.login(alice)
	c.Send("RETR 1")
	c.Expect("+OK")
	var s control.Session
	testutil.Eventually(t, 10*time.Second, "a stalled RETR", func() bool {
		ss, err := ctl.Sessions(ctx)
		if err != nil || len(ss) != 1 {
			t.Fatalf("who: %v %+v", err, ss)
		}
		s = ss[0]
		return s.Sending && s.Stalled >= 300*time.Millisecond
	})
	if s.LastCommand != "RETR" || s.Idle > s.Stalled {
		t.Fatalf("stalled session: %+v", s)
	}
	// popd sends the rest once the client reads.
	c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		l, err := c.R.ReadString('\n')
		if err == io.EOF || err != nil {
			t.Fatalf("reading the message: %v", err)
		}
		if l == ".\r\n" {
			break
		}
	}
	c.OK("NOOP")
	ss, err := ctl.Sessions(ctx)
	if err != nil || len(ss) != 1 || ss[0].Sending || ss[0].Stalled != 0 {
		t.Fatalf("after the message: %v %+v", err, ss)
	}
}
