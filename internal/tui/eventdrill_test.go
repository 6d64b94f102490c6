package tui

import (
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
)

// selectEvent moves the Events page's selection to the line of the
// newest event of session id and type k.
func selectEvent(t *testing.T, d *driver, id string, k event.Kind) {
	t.Helper()
	p := d.events()
	d.keys("G")
	for range len(p.lines) {
		if r := p.Selected(); r != nil && r.e.Session == id && r.e.Type == k {
			return
		}
		d.keys("k")
	}
	t.Fatalf("no %s event of session %s", k, id)
}

// Enter on an event of a live session opens it in Sessions, selected,
// its details open; esc comes back to the Events page on the same
// event, the pane as it was.
func TestEventToLiveSession(t *testing.T) {
	d := sample(t, 80, 24)
	d.keys("4")
	selectEvent(t, d, "3", event.Login)
	sel := d.events().sel
	d.keys("enter")
	if d.m.pageName() != "Sessions" || d.selected() != "3" || !d.sessions().paneOpen() {
		t.Fatalf("on %s, session %q, pane open %v", d.m.pageName(), d.selected(), d.sessions().paneOpen())
	}
	d.mustContain("─ session 3")

	// New events meanwhile do not move the place in Events.
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.Login, Time: t0, Session: "8", User: "zoe"}}})
	d.keys("esc")
	if d.m.pageName() != "Events" {
		t.Fatalf("esc went to %s", d.m.pageName())
	}
	if r := d.events().Selected(); d.events().sel != sel || r == nil || r.e.Session != "3" || r.e.Type != event.Login {
		t.Fatalf("back on line %d (%+v), was %d", d.events().sel, r, sel)
	}
	if d.sessions().paneOpen() {
		t.Fatal("the pane the jump opened is still open at 80 columns")
	}
	// A second esc is the page's own again: nothing to go back to.
	d.keys("esc")
	if d.m.pageName() != "Events" {
		t.Fatalf("second esc went to %s", d.m.pageName())
	}

	// Following the newest: the place is kept too, not moved on to what
	// came while away.
	d.keys("G")
	if !d.events().follow || d.events().Selected().e.Session != "8" {
		t.Fatal("not following")
	}
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.Login, Time: t0, Session: "3", User: "alice"}}})
	selectEvent(t, d, "7", event.Login)
	d.keys("G") // bob's login is the newest: following it
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.Login, Time: t0.Add(time.Second), Session: "7", User: "bob"}}})
	d.keys("enter")
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.SessionOpened, Time: t0.Add(2 * time.Second), Session: "30"}}})
	d.keys("esc")
	if r := d.events().Selected(); r.e.Session != "7" || d.events().follow {
		t.Fatalf("back on %+v, following %v", r.e, d.events().follow)
	}

	// Switching pages forgets the way back: esc then closes the pane.
	d.keys("enter", "1", "4", "1")
	d.keys("esc")
	if d.m.pageName() != "Sessions" || d.sessions().paneOpen() {
		t.Fatalf("after switching pages, esc: on %s, pane open %v", d.m.pageName(), d.sessions().paneOpen())
	}
}

// Enter on an event of a session that has ended says so, and why, and
// stays; on an event with no session it says that.
func TestEventToEndedSession(t *testing.T) {
	d := sample(t, 80, 24)
	d.keys("4")
	for _, tc := range []struct {
		id   string
		k    event.Kind
		want string
	}{
		{"4", event.SessionClosed, "session 4 has ended (quit)"},
		{"6", event.Kicked, "session 6 has ended (kicked by uid 0)"},
		{"5", event.LoginFailed, "session 5 has ended"}, // not listed, and no event says why
	} {
		selectEvent(t, d, tc.id, tc.k)
		d.keys("enter")
		if d.m.pageName() != "Events" || d.flashed() != tc.want {
			t.Errorf("session %s: on %s, status %q, want %q", tc.id, d.m.pageName(), d.flashed(), tc.want)
		}
		d.keys("4")
	}
	// A session closed, as the events say, though the last poll still
	// lists it: the events are newer.
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{
		{Type: event.SessionClosed, Time: t0, Session: "7", User: "bob", Reason: "timeout"}}})
	d.keys("G", "enter")
	if d.m.pageName() != "Events" || d.flashed() != "session 7 has ended (timeout)" {
		t.Fatalf("on %s, status %q", d.m.pageName(), d.flashed())
	}
	d.keys("k")
	for d.events().Selected().e.Type != event.Penalty {
		d.keys("k")
	}
	d.keys("enter")
	if d.flashed() != "a penalty event names no session" {
		t.Fatalf("status %q", d.flashed())
	}
}

// On a wide terminal the pane is open anyway: the jump leaves it so, and
// so does esc.
func TestEventToSessionWide(t *testing.T) {
	d := sample(t, 160, 48)
	d.keys("4")
	selectEvent(t, d, "7", event.Login)
	d.keys("enter")
	if d.m.pageName() != "Sessions" || d.selected() != "7" || !d.sessions().paneOpen() {
		t.Fatalf("on %s, session %q", d.m.pageName(), d.selected())
	}
	d.keys("esc")
	if d.m.pageName() != "Events" || !d.sessions().paneOpen() || d.sessions().panel.set {
		t.Fatalf("on %s, pane %+v", d.m.pageName(), d.sessions().panel)
	}
}

// On a fleet, the event's node and id: pop2's session 3 is not pop1's.
func TestEventToSessionFleet(t *testing.T) {
	f := newFleetDriver(t, 120, 30)
	f.start()
	f.send(eventsMsg{node: 1, gen: f.m.links[1].gen, evs: []control.Event{
		{Type: event.Login, Time: t0.Add(-time.Second), Session: "3", User: "erin", Remote: "198.51.100.23:41000"}}})
	f.keys("4", "G", "enter")
	if f.m.pageName() != "Sessions" || f.sessions().t.selected().ref() != "pop2/3" {
		t.Fatalf("on %s, session %v", f.m.pageName(), f.sessions().t.selected())
	}
	f.keys("esc")
	if f.m.pageName() != "Events" {
		t.Fatalf("esc went to %s", f.m.pageName())
	}
	// pop1 has no session 6, as its events tell.
	f.send(eventsMsg{node: 0, gen: f.m.links[0].gen, evs: []control.Event{
		{Type: event.SessionClosed, Time: t0, Session: "6", Reason: "quit"}}})
	f.keys("G", "enter")
	if f.flashed() != "session pop1/6 has ended (quit)" {
		t.Fatalf("status %q", f.flashed())
	}
}
