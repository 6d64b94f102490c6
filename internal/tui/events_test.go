package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/human"
)

// burst is n deliveries to user, one a second, ending at end.
func burst(user string, n int, end time.Time) []control.Event {
	var out []control.Event
	for i := range n {
		out = append(out, control.Event{Type: event.Delivered, Time: end.Add(time.Duration(i-n+1) * time.Second),
			User: user, Reason: fmt.Sprintf("17%08d.M%dP42.mx1", i, i)})
	}
	return out
}

// eventsDriver is a dashboard on the Events page with evs in it.
func eventsDriver(t *testing.T, w, h int, evs ...[]control.Event) *driver {
	t.Helper()
	d := newDriver(t, w, h).start()
	for _, batch := range evs {
		d.send(eventsMsg{gen: d.ln().gen, evs: batch})
	}
	d.keys("4")
	return d
}

// screenLines are the lines of the Events page's body that hold what.
func screenLines(d *driver, what string) []string {
	var out []string
	for _, l := range strings.Split(d.view(), "\n") {
		if strings.Contains(l, what) {
			out = append(out, l)
		}
	}
	return out
}

func TestEventsPauseOnP(t *testing.T) {
	d := eventsDriver(t, 80, 24, sampleEvents())
	d.keys("space") // tags rows elsewhere; here it does nothing
	if d.events().paused {
		t.Fatal("space paused the events")
	}
	d.keys("p")
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.Login, Time: t0, User: "zoe"}}})
	d.mustContain("PAUSED — 1 new event · p resumes", "paused", "p resume")
	d.mustNotContain("zoe")
	d.keys("p")
	d.mustContain("zoe")
	d.mustNotContain("PAUSED")
}

// A burst of one kind and user is one line, "mail.delivered carol ×40";
// x lists every event; the filter finds one of a burst.
func TestEventsBursts(t *testing.T) {
	end := t0.Add(-time.Minute)
	evs := burst("carol", 40, end)
	evs = append(evs, control.Event{Type: event.Delivered, Time: end.Add(time.Second), User: "dave"})
	evs = append(evs, burst("carol", 3, end.Add(5*time.Second))...)
	evs = append(evs, burst("erin", 2, end.Add(20*time.Second))...) // 2 s after carol's: one line
	d := eventsDriver(t, 80, 24, evs)
	if n := len(d.events().lines); n != 4 {
		t.Fatalf("%d lines for carol ×40, dave, carol ×3, erin ×2", n)
	}
	d.mustContain("mail.delivered carol ×40 since 11:58:21", "mail.delivered dave", "carol ×3 since", "46 events")
	if n := len(screenLines(d, "mail.delivered")); n != 4 {
		t.Fatalf("%d lines of deliveries:\n%s", n, d.view())
	}
	// The selected line, erin's burst (the newest), lists its events.
	d.mustContain("erin ×2", "1700000001.M1P42.mx1")

	// Selecting carol's 40: its latest 8, after a count of the others.
	d.keys("k", "k", "k")
	d.mustContain("… 32 earlier events", "1700000039.M39P42.mx1")
	d.mustNotContain("1700000031.M31P42.mx1")

	// A later delivery to erin within the window joins its burst.
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.Delivered, Time: end.Add(22 * time.Second), User: "erin"}}})
	d.mustContain("erin ×3")

	// x: every event on a line of its own.
	d.keys("x")
	if n := len(d.events().lines); n != 47 {
		t.Fatalf("%d lines with the bursts expanded", n)
	}
	d.mustContain("bursts expanded")
	d.keys("x")

	// The filter finds one event of a burst.
	d.keys("/")
	d.typeText("M7P42")
	d.keys("enter")
	if d.events().count() != 1 || len(d.events().lines) != 1 {
		t.Fatalf("%d events, %d lines match", d.events().count(), len(d.events().lines))
	}
}

// ! keeps the failures, * the administrators' actions; the same key again,
// everything. Notices of gaps stay whatever the filter.
func TestEventsSeverity(t *testing.T) {
	evs := append(sampleEvents(),
		control.Event{Type: event.PenaltyCleared, Time: t0.Add(-30 * time.Second), Remote: "203.0.113.66/32", Count: 5, By: "uid 0 (root)"},
		control.Event{Type: event.UsersReloaded, Time: t0.Add(-20 * time.Second), Count: 6, By: "an edit of the users file"},
		control.Event{Type: event.UsersReloaded, Time: t0.Add(-10 * time.Second), Count: 6, By: "SIGHUP"},
	)
	d := eventsDriver(t, 100, 30, evs)
	d.keys("!")
	d.mustContain("! login.failed", "! penalty", "events not seen", "2 of 14 events", "! failures only")
	d.keys("?") // the help says what ! and * do now
	d.mustContain("! all events", "* admin actions only", "p pause", "x expand bursts")
	d.keys("?")
	d.mustNotContain("session.kicked", "mail.delivered", "login     ")

	d.keys("*")
	d.mustContain("* session.kicked", "* lock.unlocked", "* user.changed", "* penalty.clea", "by an edit of the users file",
		"by SIGHUP", "* admin actions only", "6 of 14 events")
	d.mustNotContain("login.failed", "mail.delivered")
	for _, l := range screenLines(d, "by ") {
		if !strings.Contains(l, " * ") {
			t.Errorf("an administrator's action without *: %q", l)
		}
	}

	d.keys("*")
	d.mustContain("14 events · following", "session.opened")
	if d.events().sev != showAll {
		t.Fatal("* twice did not show everything again")
	}

	// Nothing at all: said so.
	d.keys("!", "/")
	d.typeText("nobody")
	d.keys("enter")
	d.mustContain("0 of 14 events", "events not seen")
}

// The selected line is drawn whole: its end is never cut off, even at 80
// columns; the others are cut with "…".
func TestEventsWrapSelected(t *testing.T) {
	long := control.Event{Type: event.LoginFailed, Time: t0.Add(-5 * time.Second), Session: "q3k9-1042",
		User: "someone.with.a.very.long.name@subdomain.example.org", Remote: "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
		Reason: "bad password: AUTH SCRAM-SHA-256 proof did not verify, end-of-the-line"}
	d := eventsDriver(t, 80, 24, append(sampleEvents(), long))
	d.mustContain("end-of-the-line", "did not verify,", "someone.with.a.very.long.name@subdomain.example.org")
	// Move off it: cut, with an ellipsis.
	d.keys("k")
	d.mustNotContain("end-of-the-line")
	if ls := screenLines(d, "q3k9-1042"); len(ls) != 1 || !strings.HasSuffix(strings.TrimRight(ls[0], " "), "…") {
		t.Fatalf("the line not selected: %q", ls)
	}
	// Back on it; every screen line fits.
	d.keys("j")
	for _, l := range strings.Split(d.view(), "\n") {
		if width(l) > 80 {
			t.Fatalf("line wider than 80: %q", l)
		}
	}
	d.mustContain("end-of-the-line")

	// A word longer than the line is broken, not cut.
	token := strings.Repeat("x", 150) + "END"
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.Delivered, Time: t0, User: "zed", Reason: token}}})
	d.keys("G")
	d.mustContain("xEND)")
}

// Gaps and restarts are lines of their own across the page.
func TestEventsNotices(t *testing.T) {
	start := t0.Add(-10 * time.Second)
	d := eventsDriver(t, 80, 24, sampleEvents()[:3], []control.Event{
		{Type: event.Dropped, Time: start, Reason: control.ReasonStopped},
		{Type: event.Restarted, Time: start, Boot: "q3k9abcdefgh", Duration: 15 * time.Second},
		{Type: event.Dropped, Time: start, Count: 40, Reason: control.ReasonBacklog},
		{Type: event.SessionOpened, Time: t0, Session: "q3k9-1", Boot: "q3k9abcdefgh", Seq: 41},
	})
	d.mustContain("── events not seen (popd stopped) ──", "── popd restarted 11:59:50 (down 15s) ──",
		"── 40 events not seen (no longer in popd's backlog) ──", "4 events")
}

// Session ids sort by their run's tag, then numerically by counter.
func TestNaturalIDs(t *testing.T) {
	ids := []string{"q3ka-2", "q3k9-10", "q3k9-9", "q3ka-10", "7", "12", "q3k9-100"}
	slices.SortFunc(ids, human.Natural)
	if got := strings.Join(ids, " "); got != "7 12 q3k9-9 q3k9-10 q3k9-100 q3ka-2 q3ka-10" {
		t.Fatalf("sorted: %s", got)
	}
}

// Bug 2: ids carry their run's tag, "q3k9-1042": the ID column is as wide
// as they are, at 80 columns too.
func TestSessionIDsShownWhole(t *testing.T) {
	d := newDriver(t, 80, 24)
	for i := range d.fake.sessions {
		d.fake.sessions[i].ID = fmt.Sprintf("q3k9-%d", 1000+i*7)
	}
	d.start()
	d.mustContain("q3k9-1000  alice", "q3k9-1049  frank")
}
