package daemon

import (
	"context"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
)

// nextChange waits up to d for a sessions.changed that has session id,
// and returns what it says of it.
func nextChange(t *testing.T, ch <-chan control.Event, id string, d time.Duration) event.SessionChange {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if e.Type != event.SessionsChanged {
				continue
			}
			for _, c := range e.Sessions {
				if c.ID == id {
					return c
				}
			}
		case <-timeout:
			t.Fatalf("no change of session %s within %v", id, d)
		}
	}
}

// TestSessionChanges: a console that asks for the changes gets, once a
// second at most, each session that did something, as it is then: its
// first change with where it came from, the later ones with what moved.
// A session that does nothing is in none; a burst of commands is one
// change.
func TestSessionChanges(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: hi\r\n\r\nhello\r\n")
	ctl := e.control()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, _, changes, err := ctl.SubscribeSessions(ctx, control.Cursor{})
	if err != nil || !changes {
		t.Fatalf("SubscribeSessions: changes %v, %v", changes, err)
	}

	c := e.login(alice)
	ss, err := ctl.Sessions(ctx)
	if err != nil || len(ss) != 1 {
		t.Fatalf("sessions %+v, %v", ss, err)
	}
	s := ss[0]
	first := nextChange(t, ch, s.ID, 5*time.Second)
	if first.User != "alice" || first.State != "transaction" || first.Remote != s.Remote || first.Local != s.Local ||
		!first.Since.Equal(s.Since) || !first.Locked || first.LastCommand != "PASS" {
		t.Fatalf("first change %+v of session %+v", first, s)
	}

	start := time.Now()
	for range 20 {
		c.OK("NOOP")
	}
	c.OK("RETR 1")
	c.Multi()
	took := time.Since(start)
	var got event.SessionChange
	for n := 0; got.LastCommand != "RETR"; n++ {
		got = nextChange(t, ch, s.ID, 5*time.Second)
		if got.Remote != "" || !got.Since.IsZero() {
			t.Fatalf("a later change says where from again: %+v", got)
		}
		if limit := int(took/changesEvery) + 2; n >= limit {
			t.Fatalf("%d changes of 21 commands in %v", n+1, took)
		}
	}
	if got.Retrieved != 1 || got.Octets == 0 || got.State != "transaction" {
		t.Fatalf("after RETR: %+v", got)
	}

	// Nothing more happens: nothing more is said, for two rounds.
	quietFor := time.After(2*changesEvery + changesEvery/2)
	for {
		select {
		case e := <-ch:
			if e.Type == event.SessionsChanged {
				t.Fatalf("a session that did nothing changed: %+v", e.Sessions)
			}
			continue
		case <-quietFor:
		}
		break
	}
}
