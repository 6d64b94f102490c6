package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
)

// syncFake is a fakeBackend that keeps the sessions by their changes:
// its stream starts after event start of run "b1", and each snapshot is
// snap.
type syncFake struct {
	*fakeBackend
	start   uint64
	snap    control.SessionSnapshot
	snapErr error
	changes bool
}

func newSyncFake(d *driver) *syncFake {
	f := &syncFake{fakeBackend: d.fake, start: 5, changes: true,
		snap: control.SessionSnapshot{Boot: "b1", Seq: 5, Sessions: sampleSessions()[:3]}}
	d.dial = func(int) (Backend, error) { return f, nil }
	return f
}

func (f *syncFake) SubscribeSessions(context.Context, control.Cursor) (<-chan control.Event, control.Cursor, bool, error) {
	err := f.call("SubscribeSessions")
	return f.events, control.Cursor{Boot: "b1", Seq: f.start}, f.changes, err
}

func (f *syncFake) SessionSnapshot(context.Context) (control.SessionSnapshot, error) {
	f.call("SessionSnapshot")
	f.mu.Lock()
	defer f.mu.Unlock()
	snap := f.snap
	snap.Sessions = slices.Clone(snap.Sessions)
	return snap, f.snapErr
}

// count is how many times the method was called.
func (f *fakeBackend) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.Fields(c)[0] == method {
			n++
		}
	}
	return n
}

// push puts events in the stream and lets the Model take them, and tell
// the pages.
func (d *driver) push(evs ...control.Event) {
	d.t.Helper()
	for _, e := range evs {
		d.fake.events <- e
	}
	d.pump()
	fire[syncFlushMsg](d)
}

func b1(seq uint64, e control.Event) control.Event {
	e.Boot, e.Seq = "b1", seq
	if e.Time.IsZero() {
		e.Time = t0
	}
	return e
}

// rowIDs are the Sessions page's rows, in order.
func (d *driver) rowIDs() []string {
	var out []string
	for _, r := range d.sessions().t.rows {
		out = append(out, r.ID)
	}
	return out
}

func (d *driver) row(id string) *sessRow {
	for _, r := range d.sessions().t.rows {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// TestSessionSyncFlow: with a Backend that keeps the sessions by their
// changes, the polls no longer list them; the table is the snapshot and
// what the events say since, and the Events view shows no change.
func TestSessionSyncFlow(t *testing.T) {
	d := newDriver(t, 160, 48)
	f := newSyncFake(d)
	d.start()
	if n := f.count("Sessions"); n != 0 {
		t.Fatalf("the sessions were polled %d times", n)
	}
	if n := f.count("SessionSnapshot"); n != 1 {
		t.Fatalf("%d snapshots", n)
	}
	if got := d.rowIDs(); !slices.Equal(got, []string{"3", "7", "8"}) {
		t.Fatalf("rows %q", got)
	}

	d.push(
		b1(6, control.Event{Type: event.SessionOpened, Session: "9", Remote: "192.0.2.99:1000"}),
		control.Event{Type: event.SessionsChanged, Time: t0, Sessions: []event.SessionChange{
			{ID: "3", User: "alice", TLS: true, State: "transaction", LastCommand: "DELE", Retrieved: 13, Octets: 2_000_000, Locked: true},
			{ID: "9", State: "authorization", LastCommand: "CAPA", Remote: "192.0.2.99:1000", Local: "203.0.113.1:110", Since: t0.Add(-time.Second)},
			{ID: "4", State: "transaction", LastCommand: "NOOP"}, // no such session: ended
		}},
		b1(7, control.Event{Type: event.Login, Session: "9", User: "zed"}),
		b1(8, control.Event{Type: event.SessionClosed, Session: "7", User: "bob", Reason: "quit"}),
	)
	if got := d.rowIDs(); !slices.Equal(got, []string{"3", "8", "9"}) {
		t.Fatalf("rows %q", got)
	}
	if r := d.row("3"); r.LastCommand != "DELE" || r.Retrieved != 13 || r.Octets != 2_000_000 {
		t.Fatalf("session 3: %+v", r.Session)
	}
	if r := d.row("9"); r.User != "zed" || r.State != "transaction" || r.Local != "203.0.113.1:110" || !r.Since.Equal(t0.Add(-time.Second)) {
		t.Fatalf("session 9: %+v", r.Session)
	}
	d.keys("4")
	d.mustContain("session.opened", "login", "session.closed")
	d.mustNotContain("sessions.changed")

	fire[pollTickMsg](d)
	if n := f.count("Sessions"); n != 0 {
		t.Fatalf("the sessions were polled %d times", n)
	}
}

// TestSessionSyncResync: the table is listed again after events.dropped,
// sessions.resync, a gap in the numbers, r, and when the number of
// sessions differs from popd's count over two quiet polls.
func TestSessionSyncResync(t *testing.T) {
	d := newDriver(t, 120, 30)
	f := newSyncFake(d)
	d.start()
	snaps := 1
	want := func(what string) {
		t.Helper()
		if snaps++; f.count("SessionSnapshot") != snaps {
			t.Fatalf("%s: %d snapshots, want %d", what, f.count("SessionSnapshot"), snaps)
		}
	}
	f.mu.Lock()
	f.snap.Seq = 6
	f.mu.Unlock()
	d.push(b1(6, control.Event{Type: event.Delivered, User: "alice"}))
	if f.count("SessionSnapshot") != snaps {
		t.Fatal("listed again without a reason")
	}
	d.push(control.Event{Type: event.Dropped, Count: 3, Reason: control.ReasonTooSlow}, b1(10, control.Event{Type: event.Delivered}))
	want("events.dropped")
	d.push(control.Event{Type: event.SessionsResync, Count: 1}, b1(11, control.Event{Type: event.Delivered}))
	want("sessions.resync")
	d.push(b1(13, control.Event{Type: event.Delivered}))
	want("a gap")
	d.keys("r")
	want("r")

	// popd counts 8 sessions, the table has 3: once is a moment, twice
	// is wrong. A session opening or closing meanwhile starts over, and so
	// does a table that has yet to hear of events popd counted.
	f.mu.Lock()
	f.stats.Sessions, f.stats.Seq = 8, 99
	f.mu.Unlock()
	for range 4 {
		fire[pollTickMsg](d)
	}
	if f.count("SessionSnapshot") != snaps {
		t.Fatal("listed again while behind popd's count")
	}
	f.mu.Lock()
	f.stats.Seq = 13 // the table's
	f.mu.Unlock()
	fire[pollTickMsg](d) // just after the snapshot: sessions came and went
	fire[pollTickMsg](d)
	d.push(b1(14, control.Event{Type: event.SessionOpened, Session: "40"}))
	fire[pollTickMsg](d)
	fire[pollTickMsg](d)
	if f.count("SessionSnapshot") != snaps {
		t.Fatal("listed again while sessions came and went")
	}
	fire[pollTickMsg](d)
	want("another count")
	// The Events view says nothing of it.
	d.keys("4")
	d.mustNotContain("sessions.resync")
}

// TestSessionSyncIdleCounts: a session's idle time goes on counting with
// the clock, without popd saying anything: it turns stuck on time.
func TestSessionSyncIdleCounts(t *testing.T) {
	d := newDriver(t, 120, 30)
	f := newSyncFake(d)
	f.snap.Sessions = []control.Session{{ID: "3", User: "alice", State: "transaction", LastCommand: "STAT",
		Since: t0.Add(-time.Hour), Idle: 4*time.Minute + 50*time.Second, Locked: true}}
	d.start()
	if r := d.row("3"); r.Idle != 4*time.Minute+50*time.Second || r.stuck != "" {
		t.Fatalf("at first: idle %v, stuck %q", r.Idle, r.stuck)
	}
	d.setNow(t0.Add(20 * time.Second))
	fire[pollTickMsg](d)
	if r := d.row("3"); r.Idle != 5*time.Minute+10*time.Second || r.stuck == "" || d.sessions().Stuck() != 1 {
		t.Fatalf("20s later: idle %v, stuck %q (%d)", r.Idle, r.stuck, d.sessions().Stuck())
	}
	d.mustContain("5m10s")
	// A change says it did something: idle from then.
	d.push(control.Event{Type: event.SessionsChanged, Time: t0, Sessions: []event.SessionChange{
		{ID: "3", User: "alice", State: "transaction", LastCommand: "NOOP", Idle: time.Second, Locked: true}}})
	if r := d.row("3"); r.Idle != time.Second || r.stuck != "" {
		t.Fatalf("after NOOP: idle %v, stuck %q", r.Idle, r.stuck)
	}
}

// TestSessionSyncFallback: a popd without the changes, or without the
// snapshot, has its sessions polled as before.
func TestSessionSyncFallback(t *testing.T) {
	t.Run("no changes", func(t *testing.T) {
		d := newDriver(t, 120, 30)
		f := newSyncFake(d)
		f.changes = false
		d.start()
		fire[pollTickMsg](d)
		if f.count("SessionSnapshot") != 0 || f.count("Sessions") == 0 || len(d.rowIDs()) != 8 {
			t.Fatalf("snapshots %d, polls %d, rows %q", f.count("SessionSnapshot"), f.count("Sessions"), d.rowIDs())
		}
	})
	t.Run("no snapshot", func(t *testing.T) {
		d := newDriver(t, 120, 30)
		f := newSyncFake(d)
		f.snapErr = &control.Error{Code: control.CodeBadRequest, Message: `unknown method "sessions"`}
		d.start()
		fire[pollTickMsg](d)
		if f.count("Sessions") == 0 || len(d.rowIDs()) != 8 {
			t.Fatalf("polls %d, rows %q", f.count("Sessions"), d.rowIDs())
		}
	})
}

// TestSessionSyncApply: the table's rules, event by event. Events up to
// the snapshot's number are in it; those after it, and every change, are
// applied when it comes; a change of a session not in the table is one
// that ended.
func TestSessionSyncApply(t *testing.T) {
	var y sessionSync
	y.connected(&syncFake{})
	if !y.started(true, control.Cursor{Boot: "b1", Seq: 10}) || !y.ask() {
		t.Fatal("no snapshot asked for")
	}
	ev := func(seq uint64, k event.Kind, id, user string) control.Event {
		return control.Event{Type: k, Session: id, User: user, Boot: "b1", Seq: seq, Time: t0}
	}
	ch := func(id, last string) control.Event {
		return control.Event{Type: event.SessionsChanged, Sessions: []event.SessionChange{{ID: id, User: "u", State: "transaction", LastCommand: last}}}
	}
	resync := y.apply([]control.Event{
		ev(11, event.SessionOpened, "a", ""),
		ev(12, event.Login, "a", "u"),
		ch("a", "RETR"),
		ev(13, event.SessionOpened, "b", ""),
		ev(14, event.SessionClosed, "c", ""),
	}, t0)
	if resync || len(y.buf) != 5 {
		t.Fatalf("while asking: resync %v, %d kept", resync, len(y.buf))
	}
	snap := control.SessionSnapshot{Boot: "b1", Seq: 12, Sessions: []control.Session{
		{ID: "a", User: "u", State: "transaction", LastCommand: "PASS"},
		{ID: "c", State: "authorization"},
	}}
	if y.install(snap, t0) {
		t.Fatal("another snapshot asked for")
	}
	ids := func() []string {
		var out []string
		for _, s := range y.list("", false, t0) {
			out = append(out, s.ID+":"+s.LastCommand)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"a:RETR", "b:"}) {
		t.Fatalf("after the snapshot: %q", got)
	}
	if y.apply([]control.Event{ev(15, event.SessionOpened, "d", ""), ev(15, event.SessionOpened, "d", ""), ch("zz", "NOOP")}, t0) {
		t.Fatal("resync on a repeat")
	}
	if got := ids(); !slices.Equal(got, []string{"a:RETR", "b:", "d:"}) {
		t.Fatalf("live: %q", got)
	}
	if !y.apply([]control.Event{ev(17, event.SessionClosed, "d", "")}, t0) {
		t.Fatal("no resync on a gap")
	}
	y.ask()
	if y.install(control.SessionSnapshot{Boot: "b2"}, t0) || y.why["another run"] != 1 {
		t.Fatalf("a snapshot of another run of popd: why %v", y.why)
	}
	if got := ids(); !slices.Equal(got, []string{"a:RETR", "b:"}) {
		t.Fatalf("after a snapshot of another run: %q", got)
	}
}
