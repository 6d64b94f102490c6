package control_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
	"popd/internal/testutil"
)

// take reads n events from ch, advancing cur past each.
func take(t *testing.T, ch <-chan control.Event, n int, cur *control.Cursor) []control.Event {
	t.Helper()
	var out []control.Event
	for len(out) < n {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended after %d of %d events", len(out), n)
			}
			out = append(out, e)
			if cur != nil {
				cur.Advance(e)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d events within 10s", len(out), n)
		}
	}
	return out
}

// quiet says that nothing more comes on ch for a moment.
func quiet(t *testing.T, ch <-chan control.Event) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
}

func publishN(srv *control.Server, from, n int) {
	for i := range n {
		srv.Publish(control.Event{Type: event.Delivered, User: "alice", Count: from + i})
	}
}

// counts are the Count of each event: the test's own numbering.
func counts(evs []control.Event) []int {
	var out []int
	for _, e := range evs {
		out = append(out, e.Count)
	}
	return out
}

func wantRun(t *testing.T, evs []control.Event, first, n int) {
	t.Helper()
	if len(evs) != n {
		t.Fatalf("%d events, want %d", len(evs), n)
	}
	for i, e := range evs {
		if e.Type != event.Delivered || e.Count != first+i {
			t.Fatalf("event %d is %+v, want delivered #%d (all: %v)", i, e, first+i, counts(evs))
		}
	}
}

// On the same popd, a stream resumed after its connection dropped gets
// exactly what it missed, then the live events: none missing, none twice.
func TestResumeSameBoot(t *testing.T) {
	path, srv := serve(t, controltest.NewDaemon(), "", nil)
	c := dial(t, path)
	publishN(srv, -2, 2) // before: not in a stream without a backlog

	// A stream that got nothing before its connection dropped resumes
	// where it started.
	ctx, drop := context.WithCancel(t.Context())
	ch, cur, err := c.Subscribe(ctx, control.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Boot == "" || cur.Seq != 2 {
		t.Fatalf("the stream starts at %+v, want after event 2", cur)
	}
	drop()
	for range ch {
	}
	publishN(srv, 1, 5)
	ctx, drop = context.WithCancel(t.Context())
	ch, cur, err = c.Subscribe(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	evs := take(t, ch, 5, &cur)
	wantRun(t, evs, 1, 5)
	if evs[0].Boot == "" || evs[0].Seq == 0 || evs[4].Seq != evs[0].Seq+4 {
		t.Fatalf("events not numbered: %+v", evs)
	}

	// The connection drops; popd goes on publishing.
	drop()
	for range ch {
	}
	publishN(srv, 6, 7)

	ch, cur, err = c.Subscribe(t.Context(), cur)
	if err != nil {
		t.Fatal(err)
	}
	publishN(srv, 13, 2) // live, after the resume
	wantRun(t, take(t, ch, 9, &cur), 6, 9)
	quiet(t, ch)
}

// Resumed after more events than popd keeps: those still kept come after
// one events.dropped counting the others.
func TestResumeOverrun(t *testing.T) {
	path, srv := serve(t, controltest.NewDaemon(), "", nil)
	c := dial(t, path)
	ctx, drop := context.WithCancel(t.Context())
	ch, cur, err := c.Subscribe(ctx, control.Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	publishN(srv, 1, 3)
	take(t, ch, 3, &cur)
	drop()
	for range ch {
	}
	publishN(srv, 4, control.Backlog+40)

	ch, _, err = c.Subscribe(t.Context(), cur)
	if err != nil {
		t.Fatal(err)
	}
	notice := take(t, ch, 1, &cur)[0]
	if notice.Type != event.Dropped || notice.Count != 40 || notice.Reason != control.ReasonBacklog || notice.Seq != 0 {
		t.Fatalf("first event %+v, want 40 events dropped from the backlog", notice)
	}
	wantRun(t, take(t, ch, control.Backlog, &cur), 44, control.Backlog)
	quiet(t, ch)
}

// runAt serves a new control server (a new run of popd) on path until the
// returned stop is called.
func runAt(t *testing.T, path string, boot event.Boot) (*control.Server, func()) {
	t.Helper()
	cfg := control.ServerConfig{Path: path, Version: "9.9.9", Logger: testutil.Log(t), Boot: boot}
	ln, err := control.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(cfg, controltest.NewDaemon())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

func ctlPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "popd-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "control.sock")
}

// Resumed on another run of popd: popd.restarted at its start, after an
// events.dropped without a count when the old run did not say it stopped;
// then the new run's events, those no longer kept counted.
func TestResumeAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sayStopped bool // the old run's last event is popd.stopped
		more       int  // the new run's events before the resume
	}{
		{"crash", false, 3},
		{"clean stop", true, 3},
		{"overrun", true, control.Backlog + 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ctlPath(t)
			old, stopOld := runAt(t, path, event.Boot{})
			c := dial(t, path)
			ch, cur, err := c.Subscribe(t.Context(), control.Cursor{})
			if err != nil {
				t.Fatal(err)
			}
			publishN(old, 1, 2)
			n := 2
			if tc.sayStopped {
				old.Publish(control.Event{Type: event.Stopped})
				n++
			}
			last := take(t, ch, n, &cur)[n-1]
			stopOld()
			for range ch {
			}
			if cur.Stopped != tc.sayStopped {
				t.Fatalf("cursor %+v after %+v", cur, last)
			}

			boot := event.NewBoot()
			srv, _ := runAt(t, path, boot)
			publishN(srv, 100, tc.more)
			c2 := dial(t, path)
			from := cur
			ch, cur, err = c2.Subscribe(t.Context(), cur)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if !tc.sayStopped {
				want = append(want, "events.dropped count 0 ("+control.ReasonStopped+")")
			}
			want = append(want, "popd.restarted")
			lost := max(tc.more-control.Backlog, 0)
			if lost > 0 {
				want = append(want, fmt.Sprintf("events.dropped count %d (%s)", lost, control.ReasonBacklog))
			}
			notices := take(t, ch, len(want), &cur)
			for i, e := range notices {
				got := string(e.Type)
				if e.Type == event.Dropped {
					got += fmt.Sprintf(" count %d (%s)", e.Count, e.Reason)
				}
				if got != want[i] {
					t.Fatalf("notice %d: %s, want %s", i, got, want[i])
				}
				if e.Type == event.Restarted && (!e.Time.Equal(boot.Started) || e.Boot != boot.ID) {
					t.Fatalf("restart notice %+v, want the new run %+v", e, boot)
				}
				// Down since popd.stopped, when it was seen.
				if e.Type == event.Restarted && ((e.Duration > 0) != tc.sayStopped ||
					tc.sayStopped && e.Duration != boot.Started.Sub(from.Time)) {
					t.Fatalf("restart notice %+v after %+v", e, from)
				}
			}
			wantRun(t, take(t, ch, tc.more-lost, &cur), 100+lost, tc.more-lost)
			if cur.Boot != boot.ID {
				t.Fatalf("cursor %+v not on the new run", cur)
			}
			quiet(t, ch)
		})
	}
}

// Bug 3: what popd publishes as it shuts down reaches the streams before
// they close; it used to be cut off with the connections.
func TestStreamsDrainAtStop(t *testing.T) {
	path := ctlPath(t)
	srv, stop := runAt(t, path, event.Boot{})
	c := dial(t, path)
	ch, err := c.Events(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000 // within SubscriberQueue
	publishN(srv, 1, n)
	srv.Publish(control.Event{Type: event.Stopped})
	stop()
	var got []control.Event
	for e := range ch {
		got = append(got, e)
	}
	if len(got) != n+1 || got[n].Type != event.Stopped {
		t.Fatalf("%d events reached the stream before it closed, want %d and popd.stopped last", len(got), n+1)
	}
	wantRun(t, got[:n], 1, n)
}
