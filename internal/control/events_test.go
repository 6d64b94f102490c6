package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
)

func TestEventsFanOut(t *testing.T) {
	d := controltest.NewDaemon()
	d.AddSession(control.Session{ID: "7", User: "alice"})
	path, srv := serve(t, d, "", nil)
	c := dial(t, path)
	ctx := t.Context()
	a, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bctx, stopB := context.WithCancel(ctx)
	b, err := c.Events(bctx)
	if err != nil {
		t.Fatal(err)
	}

	srv.Publish(control.Event{Type: event.Login, User: "alice", Session: "7"})
	if err := c.Kick(ctx, "7"); err != nil { // the daemon publishes session.kicked
		t.Fatal(err)
	}
	srv.Publish(control.Event{Type: event.SessionClosed, Session: "7", Octets: 1234})
	want := []event.Kind{event.Login, event.Kicked, event.SessionClosed}
	for name, ch := range map[string]<-chan control.Event{"a": a, "b": b} {
		for _, typ := range want {
			select {
			case e := <-ch:
				if e.Type != typ || e.Time.IsZero() {
					t.Errorf("%s: got %+v, want %s", name, e, typ)
				}
				if e.Type == event.Kicked && e.By != me(t) {
					t.Errorf("kicked by %q", e.By)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: no %s event", name, typ)
			}
		}
	}

	// Cancelling one subscription closes its channel; the other goes on.
	stopB()
	for range b {
	}
	srv.Publish(control.Event{Type: event.Delivered, User: "alice"})
	if e := <-a; e.Type != event.Delivered {
		t.Errorf("a after b left: %+v", e)
	}
	// The client is still usable for calls.
	if _, err := c.Stats(ctx); err != nil {
		t.Error(err)
	}
}

// A subscriber that does not read loses events, never the daemon's time;
// it is told how many it lost before the next event it gets.
func TestSlowSubscriber(t *testing.T) {
	path, srv := serve(t, controltest.NewDaemon(), "", nil)
	slow, _ := dialRaw(t, path, true)
	slow.send(`{"id":1,"method":"events"}`)
	var resp control.Response
	slow.read(&resp)
	if !strings.HasPrefix(string(resp.Result), `{"subscribed":true,"boot":`) {
		t.Fatalf("subscribe: %+v", resp)
	}

	const n = 100_000
	start := time.Now()
	var worst time.Duration
	e := control.Event{Type: event.Delivered, Time: time.Now(), Session: "1", Reason: "RETR"}
	for range n {
		t0 := time.Now()
		srv.Publish(e)
		worst = max(worst, time.Since(t0))
	}
	elapsed := time.Since(start)
	t.Logf("%d events published in %v, slowest %v", n, elapsed, worst)
	// Blocking on the stalled subscriber would show as one Publish that
	// waits; the total is noise on a busy machine (speed is for benchmarks).
	if worst > time.Second {
		t.Fatalf("Publish blocked: %v at worst (%v in all)", worst, elapsed)
	}

	// Now read everything, while publishing numbered markers until one
	// arrives (the first ones are dropped while the queue is still full):
	// every event arrived or was counted as dropped.
	type result struct {
		got, dropped, notices, marker int
		err                           error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		slow.nc.SetDeadline(time.Now().Add(30 * time.Second))
		lastWasNotice := false
		for {
			line, err := slow.r.ReadBytes('\n')
			if err != nil {
				r.err = err
				done <- r
				return
			}
			var ev control.Event
			if err := json.Unmarshal(line, &ev); err != nil {
				r.err = err
				done <- r
				return
			}
			if ev.Type == event.Dropped {
				if lastWasNotice || ev.Count <= 0 {
					r.err = fmt.Errorf("bad drop notice %+v (after a notice: %v)", ev, lastWasNotice)
					done <- r
					return
				}
				r.dropped += ev.Count
				r.notices++
				lastWasNotice = true
				continue
			}
			lastWasNotice = false
			r.got++
			if ev.Type == "marker" {
				r.marker = ev.Count
				done <- r
				return
			}
		}
	}()
	var res result
	for k := 1; ; k++ {
		srv.Publish(control.Event{Type: "marker", Count: k})
		select {
		case res = <-done:
		case <-time.After(10 * time.Millisecond):
			continue
		}
		break
	}
	if res.err != nil {
		t.Fatalf("after %d events: %v", res.got, res.err)
	}
	got, dropped, notices := res.got, res.dropped, res.notices
	t.Logf("received %d, dropped %d in %d notices", got, dropped, notices)
	if notices == 0 {
		t.Error("no events.dropped notice")
	}
	if got+dropped != n+res.marker {
		t.Errorf("received %d + dropped %d != published %d", got, dropped, n+res.marker)
	}
	if got < control.SubscriberQueue {
		t.Errorf("only %d events received; the queue holds %d", got, control.SubscriberQueue)
	}
}

// Anything a subscriber sends ends its stream.
func TestEventsInputEndsStream(t *testing.T) {
	path, srv := serve(t, controltest.NewDaemon(), "", nil)
	r, _ := dialRaw(t, path, true)
	r.send(`{"id":1,"method":"events"}`)
	var resp control.Response
	r.read(&resp)
	r.send(`{"id":2,"method":"who"}`)
	r.expectClosed()
	srv.Publish(control.Event{Type: "x"})
}

func TestEventsBacklog(t *testing.T) {
	d := controltest.NewDaemon()
	path, srv := serve(t, d, "", nil)
	for i := 0; i < control.Backlog+10; i++ {
		srv.Publish(control.Event{Type: event.Login, Count: i})
	}
	ctx := t.Context()
	c := dial(t, path)
	live, err := c.Events(ctx) // no backlog asked: only what comes next
	if err != nil {
		t.Fatal(err)
	}
	c.SetEventBacklog(3)
	recent, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.Publish(control.Event{Type: event.Login, Count: -1})
	next := func(ch <-chan control.Event) int {
		t.Helper()
		select {
		case e := <-ch:
			return e.Count
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
			return 0
		}
	}
	last := control.Backlog + 9
	for _, want := range []int{last - 2, last - 1, last, -1} {
		if got := next(recent); got != want {
			t.Fatalf("with a backlog of 3: event %d, want %d", got, want)
		}
	}
	if got := next(live); got != -1 {
		t.Fatalf("without a backlog: first event %d, want the live one", got)
	}
	var ce *control.Error
	if err := c.Call(ctx, "events", map[string]int{"backlog": -1}, nil); !errors.As(err, &ce) || ce.Code != control.CodeBadRequest {
		t.Fatalf("backlog -1: %v", err)
	}
}
