package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/human"
)

// KickSelect is the selector kick, as popd does it on the fake's
// sessions (which, as for Kick, stay listed until the test changes them):
// one call recorded per request, "KickSelect SELECTOR [dry]".
func (f *fakeBackend) KickSelect(_ context.Context, sel control.Selector, dry bool) (control.Kicked, error) {
	c := sel.String()
	if dry {
		c += " dry"
	}
	if err := f.call("KickSelect", c); err != nil {
		return control.Kicked{}, err
	}
	match, err := sel.Matcher()
	if err != nil {
		return control.Kicked{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := control.Kicked{IDs: []string{}, DryRun: dry}
	for _, s := range f.sessions {
		if match(s) {
			k.IDs = append(k.IDs, s.ID)
		}
	}
	return k, nil
}

var _ selectKicker = (*fakeBackend)(nil)

// killDialogOf is the open dialog for many sessions, or nil.
func killDialogOf(d *driver) *killDialog {
	k, _ := d.m.s.modal.(*killDialog)
	return k
}

func tagged(d *driver) []string {
	var out []string
	for k := range d.sessions().t.tags {
		out = append(out, k)
	}
	slices.SortFunc(out, human.Natural)
	return out
}

func (d *driver) command(line string) {
	d.t.Helper()
	d.keys(":")
	d.typeText(line)
	d.keys("enter")
}

func without(ss []control.Session, ids ...string) []control.Session {
	return slices.DeleteFunc(slices.Clone(ss), func(s control.Session) bool { return slices.Contains(ids, s.ID) })
}

// Tag three sessions with space, K: one dialog for the three, focus on
// Cancel; confirmed, one request kicks the three.
func TestTagThreeKickOnce(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("space", "space", "j", "space")
	if got := tagged(d); !slices.Equal(got, []string{"3", "7", "12"}) {
		t.Fatalf("tagged %q", got)
	}
	if d.selected() != "15" {
		t.Fatalf("space moves down as htop's does: at %q", d.selected())
	}
	d.mustContain("3 tagged", " *   3  alice", " *   7  bob", " *  12  carol", "K kick 3 tagged", "U untag all")
	d.keys("K")
	k := killDialogOf(d)
	if k == nil || k.focus != focusCancel {
		t.Fatalf("dialog %+v", d.m.s.modal)
	}
	d.mustContain("Kick 3 tagged sessions?", "│ 3 alice from 192.0.2.10:51234 ", "│ 7 bob from 198.51.100.7:40022 ",
		"│ 12 carol@example.org from [2001:db8::42]:60111 ", "[ Cancel ]", "Kick 3", "closed without UPDATE")
	d.keys("enter") // Cancel
	wantActions(t, d.fake)
	if len(tagged(d)) != 3 {
		t.Fatal("cancel dropped the tags")
	}
	d.keys("K", "tab", "enter")
	wantActions(t, d.fake, "KickSelect sessions 3, 7, 12")
	d.mustContain("kicked 3 tagged sessions", "closing")
	for _, r := range d.sessions().t.all {
		if want := slices.Contains([]string{"3", "7", "12"}, r.ID); r.closing != want {
			t.Errorf("session %s closing %v", r.ID, r.closing)
		}
	}
	if len(tagged(d)) != 0 {
		t.Fatalf("still tagged after the kick: %q", tagged(d))
	}
	// K on a closing session asks nothing.
	d.keys("g", "K")
	if d.m.s.modal != nil {
		t.Fatal("dialog for a closing session")
	}
}

// Tags are kept by row: through sorting, filtering and refreshes; they go
// with their row; U drops them all; a hidden one is said in the dialog.
func TestTagsFollowRows(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("j", "space", "j", "j", "space") // 7 and 15
	d.command("sort user desc")
	d.poll(sampleSessions(), t0)
	if got := tagged(d); !slices.Equal(got, []string{"7", "15"}) {
		t.Fatalf("tagged %q after a sort and a refresh", got)
	}
	d.keys("/")
	d.typeText("bob")
	d.keys("enter")
	d.mustContain("1 of 8 sessions", "2 tagged")
	d.keys("K")
	d.mustContain("Kick 2 tagged sessions?", "1 of them the filter hides.")
	d.keys("esc", "esc")
	d.poll(without(sampleSessions(), "15"), t0)
	if got := tagged(d); !slices.Equal(got, []string{"7"}) {
		t.Fatalf("tagged %q after 15 went", got)
	}
	d.keys("U")
	if len(tagged(d)) != 0 {
		t.Fatal("U kept tags")
	}
	d.mustNotContain("tagged")
}

// :kill asks popd first (a dry run) which sessions match, shows them in
// one dialog, then sends the same selector: popd decides again.
func TestKillCommand(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.command("kill user bob")
	wantActions(t, d.fake, "KickSelect user bob dry")
	if k := killDialogOf(d); k == nil || k.focus != focusCancel {
		t.Fatalf("no dialog after the dry run: %v", d.m.s.modal)
	}
	d.mustContain("Kick 1 session?", "popd matches 1 session now (user bob)", "7 bob from 198.51.100.7:40022")
	d.keys("tab", "enter")
	wantActions(t, d.fake, "KickSelect user bob dry", "KickSelect user bob")
	d.mustContain("kicked 1 session (user bob)")
	if r := d.sessions().t.all[1]; r.ID != "7" || !r.closing {
		t.Fatalf("7 after the kick: %+v", r)
	}

	// "By source /24": the selected client's.
	d.fake.calls = nil
	d.keys("g") // alice, 192.0.2.10
	d.command("kill from /24")
	wantActions(t, d.fake, "KickSelect from 192.0.2.0/24 dry")
	d.mustContain("Kick 3 sessions?", "3 alice from 192.0.2.10:51234", "15 dave", "22 - from 192.0.2.77:44444")
	d.keys("esc")

	// Combined: ANDed.
	d.fake.calls = nil
	d.command("kill state trans idle 5m")
	wantActions(t, d.fake, "KickSelect in transaction, idle over 5m0s dry")
	d.mustContain("Kick 1 session?", "12 carol@example.org")
	d.keys("esc")

	// Nothing matches: said, no dialog.
	d.fake.calls = nil
	d.command("kill user nobody")
	wantActions(t, d.fake, "KickSelect user nobody dry")
	if d.m.s.modal != nil {
		t.Fatal("a dialog for no session")
	}
	d.mustContain("no session matches user nobody")

	// Mistakes are said, and nothing is asked.
	d.fake.calls = nil
	for _, line := range []string{"kill", "kill user", "kill bogus 1", "kill state closed", "kill idle soon", "kill from 192.0.2", "kill filter"} {
		d.command(line)
		if d.m.s.modal != nil || d.m.s.flash.k != kErr {
			t.Fatalf(":%s: modal %v flash %+v", line, d.m.s.modal, d.m.s.flash)
		}
	}
	wantActions(t, d.fake)
}

// :kill filter sends a filter popd knows (a prefix) as a selector, and
// any other as the ids of the rows it shows; the dialog says which.
func TestKillFilter(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("/")
	d.typeText("198.51")
	d.keys("enter")
	d.command("kill filter")
	wantActions(t, d.fake, "KickSelect sessions 7, 21 dry")
	d.mustContain("Kick 2 sessions?", "not a selector popd knows: these go by id")
	d.keys("tab", "enter")
	wantActions(t, d.fake, "KickSelect sessions 7, 21 dry", "KickSelect sessions 7, 21")

	d.fake.calls = nil
	d.keys("esc") // the filter
	d.keys("/")
	d.typeText("192.0.2.0/24")
	d.keys("enter")
	if got := ids(d); !slices.Equal(got, []string{"3", "15", "22"}) {
		t.Fatalf("the prefix filter shows %q", got)
	}
	d.command("kill filter state auth")
	wantActions(t, d.fake, "KickSelect from 192.0.2.0/24, in authorization dry")
	d.mustContain("Kick 1 session?", "popd matches 1 session now (from 192.0.2.0/24, in", "authorization (the filter))", "22 - from 192.0.2.77:44444")
}

// A fleet: a selector goes to every node that is up, one request each,
// and the counts add up; tags go to the nodes that have them.
func TestFleetKillAddsUp(t *testing.T) {
	f := fleetSample(t, 120, 30)
	f.command("kill state transaction")
	wantActions(t, f.nodes[0], "KickSelect in transaction dry")
	wantActions(t, f.nodes[1], "KickSelect in transaction dry")
	f.mustContain("Kick 5 sessions?", "Not asked (down): pop3.", "pop1/3 alice", "pop2/3 erin")
	f.keys("tab", "enter")
	f.mustContain("kicked 5 sessions (in transaction): pop1 3, pop2 2; not asked (down): pop3")

	f.fleetNodesReset()
	f.keys("g", "space", "G", "space", "K")
	f.mustContain("Kick 2 tagged sessions?")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[0], "KickSelect session 3")
	wantActions(t, f.nodes[1], "KickSelect session 7")
	f.mustContain("kicked 2 tagged sessions: pop1 1, pop2 1")
}

func (f *fleetDriver) fleetNodesReset() {
	for _, n := range f.nodes {
		n.mu.Lock()
		n.calls = nil
		n.mu.Unlock()
	}
	for i := range f.sessions().t.all {
		f.sessions().t.all[i].closing = false
	}
	clear(f.sessions().closing)
}

// A session idle in TRANSACTION for longer than the threshold, or whose
// RETR has not moved for longer than the other, is stuck: marked, in the
// header's count, found by :stuck; :stuck-idle and :stuck-send change the
// thresholds.
func TestStuck(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.mustContain("1 stuck", " !  12  carol")
	if d.sessions().Stuck() != 1 {
		t.Fatalf("stuck %d", d.sessions().Stuck())
	}
	// As the clock goes on, alice's session, idle since t0-2s, passes
	// 5 minutes: each poll says how long it has been idle.
	ss := sampleSessions()
	for _, at := range []time.Duration{time.Minute, 4 * time.Minute, 5 * time.Minute} {
		now := t0.Add(at)
		d.m.s.now = func() time.Time { return now }
		ss[0].Idle = 2*time.Second + at
		d.poll(ss, now)
		if want := 1 + btoi(ss[0].Idle > 5*time.Minute); d.sessions().Stuck() != want {
			t.Fatalf("after %v: %d stuck, want %d", at, d.sessions().Stuck(), want)
		}
	}
	d.mustContain("2 stuck", ">!   3  alice")

	// A RETR whose client stopped reading.
	ss = sampleSessions()
	ss[7].Sending, ss[7].Stalled, ss[7].LastCommand = true, 45*time.Second, "RETR"
	d.fake.sessions = ss // what the next polls bring
	d.poll(ss, t0)
	d.mustContain("2 stuck", " !  30  frank")
	d.keys("G", "enter")
	d.mustContain("stuck: RETR stalled 45s (over 30s)", "11s, sending")
	d.keys("esc")

	d.command("stuck")
	if got := ids(d); !slices.Equal(got, []string{"12", "30"}) {
		t.Fatalf(":stuck shows %q", got)
	}
	if d.sessions().Filter() != "stuck" {
		t.Fatalf("filter %q", d.sessions().Filter())
	}
	d.mustContain("stuck: idle in TRANSACTION over 5m, or a RETR/TOP stalled over 30s")
	d.command("stuck-send 1m")
	if got := ids(d); !slices.Equal(got, []string{"12"}) {
		t.Fatalf("with stuck-send 1m: %q", got)
	}
	d.command("stuck-idle 10m")
	d.mustContain("stuck: idle in TRANSACTION over 10m, or a RETR/TOP stalled over 1m")
	d.mustNotContain("stuck ·")
	if d.sessions().Stuck() != 0 {
		t.Fatal("still stuck with the thresholds above")
	}
	d.command("stuck-idle soon")
	d.mustContain(":stuck-idle: not a duration")
	d.command("stuck-idle off")
	d.command("stuck-send 10s")
	if d.sessions().Stuck() != 1 {
		t.Fatalf("stuck %d with idle off and send 10s", d.sessions().Stuck())
	}
	// From another page, :stuck brings Sessions on screen.
	d.keys("esc", "2")
	d.command("stuck")
	if d.m.pageName() != "Sessions" || !slices.Equal(ids(d), []string{"30"}) {
		t.Fatalf("page %s rows %q", d.m.pageName(), ids(d))
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Options set the thresholds; negative turns a rule off.
func TestStuckOptions(t *testing.T) {
	d := newDriver(t, 80, 24, func(_ *driver, o *Options) { o.StuckIdle = -1 })
	d.start()
	if d.sessions().Stuck() != 0 {
		t.Fatal("the idle rule is off")
	}
	d = newDriver(t, 80, 24, func(_ *driver, o *Options) { o.StuckIdle = 10 * time.Second })
	d.start()
	if got := d.sessions().Stuck(); got != 3 { // carol 7m, erin 30s, frank 11s
		t.Fatalf("stuck %d", got)
	}
}

// The details pane: enter toggles it, esc closes it (and a second esc
// clears the filter); its place follows the terminal's width.
func TestDetailPaneEscAndResize(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("/")
	d.typeText("a")
	d.keys("enter", "enter")
	d.mustContain("─ session 3")
	d.send(tea.WindowSizeMsg{Width: 160, Height: 40})
	d.mustContain("SESSION 3", "│ User       alice")
	d.mustNotContain("─ session 3")
	d.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	d.mustContain("─ session 3")
	d.keys("esc")
	d.mustNotContain("─ session 3", "SESSION 3")
	if d.sessions().Filter() != "a" {
		t.Fatal("esc cleared the filter while it closed the pane")
	}
	d.keys("esc")
	if d.sessions().Filter() != "" {
		t.Fatal("esc with nothing open did not clear the filter")
	}
	// Closed by hand, it stays closed when the terminal widens.
	d.send(tea.WindowSizeMsg{Width: 160, Height: 40})
	d.mustNotContain("SESSION 3")
	d.keys("enter")
	d.mustContain("SESSION 3")
}

// When the session the pane shows ends, the pane and the selection stay
// on it, "closed (why)", until the cursor moves; K there kicks nothing.
func TestDetailPaneClosedSession(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("enter", "j") // bob, 7
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{
		{Type: event.SessionClosed, Time: t0, Session: "7", User: "bob", Remote: "198.51.100.7:40022", Reason: "quit"}}})
	d.poll(without(sampleSessions(), "7"), t0)
	if d.selected() != "7" {
		t.Fatalf("the selection went to %q", d.selected())
	}
	d.mustContain("─ session 7 closed (quit) ─", "closed (quit)", "7  bob")
	// Another refresh keeps it.
	d.poll(without(sampleSessions(), "7"), t0)
	d.keys("K")
	if d.m.s.modal != nil {
		t.Fatal("K asked to kick a closed session")
	}
	d.mustContain("session 7 has ended")
	wantActions(t, d.fake)
	d.keys("space")
	if len(tagged(d)) != 0 {
		t.Fatal("a closed session was tagged")
	}
	d.keys("j")
	if d.selected() != "8" || slices.Contains(ids(d), "7") {
		t.Fatalf("after the cursor moved: at %q, rows %q", d.selected(), ids(d))
	}
	d.mustContain("─ session 8 ")

	// Kicked from elsewhere: the pane says by whom.
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{
		{Type: event.Kicked, Time: t0, Session: "8", Remote: "203.0.113.99:33310", By: "uid 0 (root)"},
		{Type: event.SessionClosed, Time: t0, Session: "8", Remote: "203.0.113.99:33310", Reason: "stopped"}}})
	d.poll(without(sampleSessions(), "7", "8"), t0)
	d.mustContain("closed (kicked by uid 0 (root))")
	// Without the pane, the selection moves on, as before.
	d.keys("enter")
	if d.selected() != "12" {
		t.Fatalf("closing the pane left %q selected", d.selected())
	}
}

// Read-only: an action key says why it does nothing (bug 9); moving and
// tagging still work.
func TestReadOnlySaysWhy(t *testing.T) {
	d := newDriver(t, 80, 24, readOnly).start()
	d.keys("K")
	if d.m.s.modal != nil {
		t.Fatal("K opened a dialog")
	}
	d.mustContain("read-only: K is off")
	d.keys("j")
	if d.selected() != "7" || strings.Contains(d.view(), "read-only: j") {
		t.Fatal("j was refused")
	}
	d.command("kill user bob")
	d.mustContain("read-only: :kill is off")
	d.keys("2", "d")
	d.mustContain("read-only: d is off")
	d.keys("3", "b")
	d.mustContain("read-only: b is off")
	wantActions(t, d.fake)
}
