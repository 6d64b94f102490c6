package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
)

func ids(d *driver) []string {
	var out []string
	for _, r := range d.sessions().t.rows {
		out = append(out, r.ID)
	}
	return out
}

func wantActions(t *testing.T, f *fakeBackend, want ...string) {
	t.Helper()
	if got := f.actions(); !slices.Equal(got, want) {
		t.Fatalf("backend actions = %q, want %q", got, want)
	}
}

func TestConnectShowsData(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	if !d.ln().connected || d.ln().stale {
		t.Fatalf("connected=%v stale=%v", d.ln().connected, d.ln().stale)
	}
	if got := ids(d); !slices.Equal(got, []string{"3", "7", "8", "12", "15", "21", "22", "30"}) {
		t.Fatalf("rows = %v", got)
	}
	// The first poll loads users and locks too, for the tab counts.
	if len(d.users().t.all) != 5 || len(d.locks().t.all) != 2 {
		t.Fatalf("users %d locks %d", len(d.users().t.all), len(d.locks().t.all))
	}
	if d.wait == nil {
		t.Fatal("no event reader after connecting")
	}
	// The next poll waits for the refresh timer.
	if ts := held[pollTickMsg](d); len(ts) != 1 || ts[0].d != time.Second {
		t.Fatalf("poll timers = %+v", ts)
	}
	d.mustContain("● live", "admin", "alice", "192.0.2.10:51234", "1 Sessions 8", "2 Users 5", "3 Locks 2")
	d.mustNotContain("STALE", "read-only")

	// Later polls skip users and locks unless they are on screen.
	d.fake.calls = nil
	fire[pollTickMsg](d)
	if got := strings.Join(d.fake.calls, ","); got != "Sessions,Stats" {
		t.Fatalf("second poll called %s", got)
	}
	d.fake.calls = nil
	d.keys("2") // the Users tab polls at once
	if got := strings.Join(d.fake.calls, ","); got != "Sessions,Stats,Users" {
		t.Fatalf("poll on the users tab called %s", got)
	}
}

func TestKickConfirm(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("j") // bob, session 7
	if d.selected() != "7" {
		t.Fatalf("selected %q", d.selected())
	}

	// The focus starts on Cancel: enter cancels and calls nothing.
	d.keys("K")
	if d.m.dialog() == nil || d.m.dialog().focus != focusCancel {
		t.Fatalf("dialog %+v", d.m.dialog())
	}
	d.mustContain("Kick session 7?", "bob from 198.51.100.7:40022", "[ Cancel ]")
	d.keys("enter")
	if d.m.dialog() != nil {
		t.Fatal("enter on Cancel left the dialog open")
	}
	wantActions(t, d.fake)

	// esc cancels too; q in a dialog cancels rather than quits.
	d.keys("K", "esc")
	d.keys("K", "q")
	if d.m.dialog() != nil || d.quit {
		t.Fatalf("dialog %v quit %v", d.m.dialog(), d.quit)
	}
	wantActions(t, d.fake)

	// → moves to Kick, ← back to Cancel; tab moves too.
	d.keys("K", "right")
	d.mustContain("[ Kick ]")
	d.keys("left")
	if d.m.dialog().focus != focusCancel {
		t.Fatal("← did not go back to Cancel")
	}
	d.keys("tab", "enter")
	wantActions(t, d.fake, "Kick 7")

	// The row shows as closing until the next refresh drops it.
	r := d.sessions().t.selected()
	if r.ID != "7" || !r.closing {
		t.Fatalf("selected %+v", r)
	}
	d.mustContain("closing", "session 7 kicked")
	d.keys("K") // no second kick of a closing session
	if d.m.dialog() != nil {
		t.Fatal("kick dialog for a closing session")
	}
	// A refresh that still lists it keeps it closing.
	d.poll(d.fake.sessions, t0)
	if !d.sessions().t.selected().closing {
		t.Fatal("closing mark lost while the session is still listed")
	}
	without := slices.DeleteFunc(sampleSessions(), func(s control.Session) bool { return s.ID == "7" })
	d.poll(without, t0)
	if slices.Contains(ids(d), "7") || len(d.sessions().closing) != 0 {
		t.Fatalf("rows %v closing %v", ids(d), d.sessions().closing)
	}
	// The selection stays at that place: the next session.
	if d.selected() != "8" {
		t.Fatalf("selected %q after the kick", d.selected())
	}
}

func TestKickError(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.fake.setErr("Kick", &control.Error{Code: control.CodeNotFound, Message: "no session 3"})
	d.keys("K", "tab", "enter")
	wantActions(t, d.fake, "Kick 3")
	if d.sessions().t.selected().closing || len(d.sessions().closing) != 0 {
		t.Fatal("session still marked closing after a failed kick")
	}
	d.mustContain("could not kick session 3: not-found: no session 3")
}

func TestAddUserForm(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "a")
	if d.m.form() == nil || !d.m.form().adding() {
		t.Fatal("no add form")
	}
	d.mustContain("Add a user", "Name", "Password", "Again")

	// Empty: enter walks the fields, then complains in place.
	d.keys("enter", "enter", "enter")
	d.mustContain("name is empty", "password is empty")
	if d.m.form().focus != 0 {
		t.Fatalf("focus %d, want the name", d.m.form().focus)
	}
	// q is typed, not quitting.
	d.typeText("quinn")
	if d.quit {
		t.Fatal("q quit from a form")
	}
	d.mustNotContain("name is empty")
	d.keys("tab")
	d.typeText("s3cret")
	d.keys("tab")
	d.typeText("s3cre")
	d.keys("enter")
	d.mustContain("passwords do not match")
	d.mustNotContain("s3cre") // masked
	wantActions(t, d.fake)

	d.typeText("t")
	d.mustNotContain("passwords do not match")
	d.keys("enter")
	wantActions(t, d.fake, "AddUser quinn s3cret")
	if d.m.form() != nil {
		t.Fatal("form still open after success")
	}
	d.mustContain("user quinn added")
}

func TestAddUserDaemonError(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.fake.setErr("AddUser", &control.Error{Code: control.CodeConflict, Message: `user "alice" exists`})
	d.keys("2", "a")
	d.typeText("alice")
	d.keys("tab")
	d.typeText("pw")
	d.keys("tab")
	d.typeText("pw")
	d.keys("enter")
	wantActions(t, d.fake, "AddUser alice pw")
	if d.m.form() == nil || d.m.form().busy {
		t.Fatalf("form %+v", d.m.form())
	}
	d.mustContain(`popd says: conflict: user "alice" exists`, "Add a user")

	// Fix it in place and send again.
	d.fake.setErr("AddUser", nil)
	d.keys("shift+tab", "shift+tab")
	d.typeText("2")
	d.keys("down", "down", "enter")
	wantActions(t, d.fake, "AddUser alice pw", "AddUser alice2 pw")
	if d.m.form() != nil {
		t.Fatal("form still open")
	}
}

func TestFormEscCancels(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "a")
	d.typeText("x")
	d.keys("esc")
	if d.m.form() != nil {
		t.Fatal("esc left the form open")
	}
	wantActions(t, d.fake)
}

func TestSetPassword(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "j", "p") // bob
	d.mustContain("Set the password of bob")
	d.typeText("new pw")
	d.keys("enter")
	d.typeText("new pw")
	d.keys("enter")
	wantActions(t, d.fake, "SetPassword bob new pw")
	d.mustContain("password of bob set")
}

func TestDeleteUser(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "j", "d")
	c := d.m.dialog()
	if c == nil || c.focus != focusCancel || c.boxes[0].on {
		t.Fatalf("dialog %+v", c)
	}
	d.mustContain("Delete user bob?", "[ ] also delete their mail", "[ Cancel ]")
	d.keys("enter")
	wantActions(t, d.fake)

	// Without the box: mail kept.
	d.keys("d", "tab", "enter")
	wantActions(t, d.fake, "DeleteUser bob false")
	d.mustContain("user bob deleted, mail kept")

	// With the box ticked.
	d.keys("d", "tab", "tab", "space")
	d.mustContain("[x] also delete their mail")
	d.keys("tab", "tab", "tab") // their sessions, Cancel, then Delete
	if d.m.dialog().focus != focusAction {
		t.Fatalf("focus %d", d.m.dialog().focus)
	}
	d.keys("enter")
	wantActions(t, d.fake, "DeleteUser bob false", "DeleteUser bob true")
}

func TestEnableDisable(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "e", "tab", "enter") // alice is enabled, and has a session: asked
	d.keys("G", "e")                 // mallory is not
	wantActions(t, d.fake, "SetDisabled alice true", "SetDisabled mallory false")
	d.mustContain("user mallory enabled")
}

func TestUnlock(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("3", "j", "b")
	d.mustContain("Unlock the maildrop of dave?", "popd@mx2 pid 4242")
	d.keys("enter")
	wantActions(t, d.fake)
	d.keys("b", "right", "enter")
	wantActions(t, d.fake, "Unlock dave")
	d.mustContain("maildrop of dave unlocked")
	// A live lock gets a warning.
	d.keys("k", "b")
	d.mustContain("It is not stale")
}

func TestFilter(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("/")
	d.typeText("198.51")
	if got := ids(d); !slices.Equal(got, []string{"7", "21"}) {
		t.Fatalf("filtered rows %v", got)
	}
	d.keys("enter")
	d.mustContain(`2 of 8 sessions`, `filter "198.51"`)

	// Typing q in the filter does not quit.
	d.keys("/", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	d.typeText("q")
	if d.quit {
		t.Fatal("q quit while filtering")
	}
	if len(d.sessions().t.rows) != 0 {
		t.Fatalf("rows %v for filter q", ids(d))
	}
	d.mustContain("no sessions match the filter")
	d.keys("backspace")
	d.typeText("AUTH") // state, case-insensitive
	if got := ids(d); !slices.Equal(got, []string{"8", "22"}) {
		t.Fatalf("filtered rows %v", got)
	}
	d.keys("esc")
	if len(d.sessions().t.rows) != 8 || d.sessions().t.filter != "" {
		t.Fatal("esc did not clear the filter")
	}
	// The filter survives refreshes; esc in normal mode clears it.
	d.keys("/")
	d.typeText("alice")
	d.keys("enter")
	d.poll(sampleSessions(), t0)
	if got := ids(d); !slices.Equal(got, []string{"3"}) {
		t.Fatalf("rows after refresh %v", got)
	}
	d.keys("esc")
	if len(d.sessions().t.rows) != 8 {
		t.Fatal("esc did not clear the filter")
	}
	// Filters are per view.
	d.keys("2", "/")
	d.typeText("mal")
	d.keys("enter", "1")
	if len(d.sessions().t.rows) != 8 || len(d.users().t.rows) != 1 {
		t.Fatal("filters are not per view")
	}
}

func TestSort(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("s") // USER
	if got := ids(d); !slices.Equal(got, []string{"8", "22", "3", "7", "12", "15", "21", "30"}) {
		t.Fatalf("by user: %v", got)
	}
	d.mustContain("sort user ▲", "USER▲")
	d.keys("S")
	if got := ids(d); !slices.Equal(got, []string{"30", "21", "15", "12", "7", "3", "22", "8"}) {
		t.Fatalf("by user, reversed: %v", got)
	}
	// :sort picks a column by name.
	d.keys(":")
	d.typeText("sort idle desc")
	d.keys("enter")
	if got := ids(d); got[0] != "12" || got[len(got)-1] != "15" {
		t.Fatalf("by idle, desc: %v", got)
	}
	d.mustContain("sort idle ▼")
	// Cycling on from the last column comes back to ID.
	d.keys("s")
	if d.sessions().t.sort != 0 {
		t.Fatalf("sort column %d", d.sessions().t.sort)
	}
}

func TestSelectionKeptByID(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("j", "j", "j") // 12
	if d.selected() != "12" {
		t.Fatalf("selected %q", d.selected())
	}
	// Reordered, with new rows before it: still 12.
	list := sampleSessions()
	slices.Reverse(list)
	for _, id := range []string{"1", "2", "4", "5", "6"} {
		list = append(list, control.Session{ID: id, User: "new", Remote: "192.0.2.1:1", Since: t0})
	}
	d.poll(list, t0)
	if d.selected() != "12" {
		t.Fatalf("selected %q after a reordering refresh, rows %v", d.selected(), ids(d))
	}
	if d.sessions().t.cur != 8 {
		t.Fatalf("cursor at %d, want row 8 of %v", d.sessions().t.cur, ids(d))
	}
	// Sorted by idle, a refresh that changes idle times moves the row
	// and the selection with it.
	d.keys(":")
	d.typeText("sort idle")
	d.keys("enter")
	for i := range list {
		if list[i].ID == "12" {
			list[i].Idle = 0
		}
	}
	d.poll(list, t0)
	if d.selected() != "12" || d.sessions().t.cur == 8 {
		t.Fatalf("selected %q at %d", d.selected(), d.sessions().t.cur)
	}
}

func TestWindowFollowsSelection(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	var many []control.Session
	for i := range 200 {
		many = append(many, control.Session{ID: fmt.Sprint(i + 1), User: fmt.Sprintf("user%03d", i+1), Remote: "192.0.2.1:1", Since: t0})
	}
	d.poll(many, t0)
	d.keys("G")
	d.mustContain("user200")
	d.mustNotContain("user001")
	d.keys("g")
	d.mustContain("user001")
	d.keys("ctrl+d")
	if d.selected() != fmt.Sprint(1+d.sessions().t.height/2) {
		t.Fatalf("ctrl+d went to %s (height %d)", d.selected(), d.sessions().t.height)
	}
	// Rows that the screen cannot show are not drawn.
	if n := strings.Count(d.view(), "user"); n != d.sessions().t.height {
		t.Fatalf("%d rows drawn, %d fit", n, d.sessions().t.height)
	}
}

func TestReconnect(t *testing.T) {
	d := newDriver(t, 80, 24)
	down := errors.New("control: popd is not running? no control socket at /run/popd/control")
	d.dial = func(n int) (Backend, error) {
		if n <= 2 {
			return nil, down
		}
		return d.fake, nil
	}
	d.start()
	d.mustContain("cannot connect to popd — reconnecting in 1s…", "no control socket", "no data")
	// Backoff: 1s, then 2s.
	if ts := held[redialMsg](d); len(ts) != 1 || ts[0].d != time.Second {
		t.Fatalf("redial timers %+v", ts)
	}
	fire[redialMsg](d)
	d.mustContain("reconnecting in 2s…")
	if ts := held[redialMsg](d); len(ts) != 1 || ts[0].d != 2*time.Second {
		t.Fatalf("redial timers %+v", ts)
	}
	fire[redialMsg](d)
	if !d.ln().connected || d.dials != 3 {
		t.Fatalf("connected %v after %d dials", d.ln().connected, d.dials)
	}
	d.mustNotContain("reconnecting", "STALE")
	d.mustContain("alice", "● live")

	// The connection breaks during a poll: banner, stale data kept.
	d.fake.setErr("Sessions", errors.New("control: who: popd closed the connection"))
	fire[pollTickMsg](d)
	if d.ln().connected || !d.ln().stale {
		t.Fatal("still connected after a failed poll")
	}
	if !d.fake.closed {
		t.Fatal("the broken connection was not closed")
	}
	d.mustContain("disconnected from popd — reconnecting in 1s…", "STALE", "alice", "192.0.2.10:51234")
	d.mustNotContain("● live")
	// Actions are off while disconnected, and say so.
	d.keys("K")
	wantActions(t, d.fake)
	d.mustContain("popd unreachable: K is off until it is back")

	// A timer or event of the old connection changes nothing.
	old := d.ln().gen - 1
	d.send(pollMsg{gen: old, got: fetchSessions})
	d.send(eventsMsg{gen: old, closed: true})
	if len(d.sessions().t.all) != 8 {
		t.Fatal("an old message changed the data")
	}

	// Reconnected: fresh data, no longer stale.
	d.fake.setErr("Sessions", nil)
	d.fake.mu.Lock()
	d.fake.sessions = d.fake.sessions[:2]
	d.fake.closed = false
	d.fake.mu.Unlock()
	fire[redialMsg](d)
	if !d.ln().connected || d.ln().stale {
		t.Fatalf("connected %v stale %v", d.ln().connected, d.ln().stale)
	}
	d.mustNotContain("STALE", "disconnected")
	if got := ids(d); !slices.Equal(got, []string{"3", "7"}) {
		t.Fatalf("rows %v", got)
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	for n := 1; n <= 8; n++ {
		got = append(got, backoff(n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(got, want) {
		t.Fatalf("backoff = %v", got)
	}
}

func TestEventStreamEndReconnects(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	close(d.fake.events)
	d.pump()
	if d.ln().connected {
		t.Fatal("still connected after the event stream ended")
	}
	d.mustContain("disconnected from popd", "popd closed the event stream")
}

func TestRefusalIsNotADisconnect(t *testing.T) {
	d := newDriver(t, 80, 24)
	d.fake.setErr("Users", &control.Error{Code: control.CodeForbidden, Message: "monitors may not list users"})
	d.start()
	if !d.ln().connected {
		t.Fatal("a refused call disconnected")
	}
	d.mustContain("popd refused users: forbidden: monitors may not list users", "alice")
}

func TestReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  driverOpt
	}{
		{"option", readOnly},
		{"monitor", func(d *driver, _ *Options) { d.fake.role = control.RoleMonitor }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, 120, 30, tc.opt).start()
			d.mustContain("read-only")
			d.mustNotContain("K kick")
			d.keys("K")
			if d.m.dialog() != nil {
				t.Fatal("K opened a dialog")
			}
			d.keys("2")
			d.mustNotContain("a add", "p password", "d delete", "e enable")
			d.keys("a", "p", "d", "e")
			d.keys("3", "b")
			if d.m.s.modal != nil {
				t.Fatal("an action opened")
			}
			d.keys("?")
			d.mustNotContain("kick", "unlock", "password")
			d.mustContain("read-only: the keys that change things are off")
			wantActions(t, d.fake)
		})
	}
}

func TestEvents(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	for _, e := range sampleEvents() {
		d.fake.events <- e
	}
	d.pump()
	if len(d.events().rows) != 12 || d.wait == nil {
		t.Fatalf("%d events, reader waiting %v", len(d.events().rows), d.wait != nil)
	}
	d.keys("4")
	d.mustContain("! login.failed", "! penalty", "* session.kicked", "* lock.unlocked", "11 events · following",
		"── 17 events not seen ──") // events.dropped is a notice, no event

	// Pause (p): new events are counted, not shown.
	d.keys("p")
	d.fake.events <- control.Event{Type: event.Login, Time: t0, User: "zoe"}
	d.fake.events <- control.Event{Type: event.Login, Time: t0, User: "zed"}
	d.pump()
	d.mustContain("PAUSED — 2 new events", "paused")
	d.mustNotContain("zoe")
	d.keys("p")
	d.mustContain("zoe", "zed")
	d.mustNotContain("PAUSED")

	// Filter.
	d.keys("/")
	d.typeText("alice")
	d.keys("enter")
	if n := d.events().count(); n != 2 {
		t.Fatalf("%d events match alice", n)
	}
	d.mustContain("2 of 13 events")
	d.keys("esc")

	// Scrolling stops following; f and G follow again.
	d.keys("k")
	if d.events().follow {
		t.Fatal("still following after scrolling up")
	}
	d.keys("G")
	if !d.events().follow {
		t.Fatal("G did not follow")
	}
	d.keys("f")
	if d.events().follow {
		t.Fatal("f did not toggle following")
	}
}

func TestEventsCoalesced(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.fake.events = make(chan control.Event, 700)
	// Resubscribe on the bigger channel.
	d.send(eventsSubMsg{gen: d.ln().gen, ch: d.fake.events})
	for i := range 700 {
		d.fake.events <- control.Event{Type: event.Delivered, Time: t0, Session: fmt.Sprint(i)}
	}
	d.pump()
	if n := len(d.events().rows); n != maxBatch {
		t.Fatalf("first batch %d events, want %d", n, maxBatch)
	}
	d.pump()
	if n := len(d.events().rows); n != 700 {
		t.Fatalf("%d events after two batches", n)
	}
}

func TestEventsBounded(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	batch := make([]control.Event, 1000)
	for i := range 7 {
		for j := range batch {
			batch[j] = control.Event{Type: event.Delivered, Time: t0, Session: fmt.Sprint(i*1000 + j)}
		}
		d.send(eventsMsg{gen: d.ln().gen, evs: batch})
	}
	if n := len(d.events().rows); n != maxEvents {
		t.Fatalf("%d events kept", n)
	}
	if s := d.events().rows[0].e.Session; s != "2000" {
		t.Fatalf("oldest kept is %s", s)
	}
	// Paused, the pending ones are bounded too.
	d.keys("4", "p")
	for range 7 {
		d.send(eventsMsg{gen: d.ln().gen, evs: batch})
	}
	d.mustContain("PAUSED — 7000 new events")
	d.keys("p")
	if n := len(d.events().rows); n != maxEvents {
		t.Fatalf("%d events kept", n)
	}
}

func TestTooSmall(t *testing.T) {
	d := newDriver(t, 59, 24).start()
	d.mustContain("terminal too small (need 60×15)")
	d.send(tea.WindowSizeMsg{Width: 80, Height: 14})
	d.mustContain("terminal too small (need 60×15)")
	d.keys("K") // keys do nothing but quit
	if d.m.dialog() != nil {
		t.Fatal("a key acted on a screen too small to show it")
	}
	d.send(tea.WindowSizeMsg{Width: 60, Height: 15})
	d.mustNotContain("too small")
	d.mustContain("alice")
	if n := strings.Count(d.view(), "\n") + 1; n != 15 {
		t.Fatalf("%d lines at 60×15", n)
	}
}

func TestEveryLineFits(t *testing.T) {
	for _, sz := range [][2]int{{60, 15}, {80, 24}, {100, 30}, {139, 40}, {140, 40}, {160, 48}, {250, 60}} {
		d := newDriver(t, sz[0], sz[1]).start()
		d.send(eventsMsg{gen: d.ln().gen, evs: sampleEvents()})
		for _, k := range []string{"1", "enter", "2", "3", "4", "?", "?", "2", "a", "esc", "1", "K"} {
			d.keys(k)
			lines := strings.Split(d.view(), "\n")
			if len(lines) != sz[1] {
				t.Fatalf("%dx%d after %q: %d lines", sz[0], sz[1], k, len(lines))
			}
			for i, l := range lines {
				if w := width(l); w > sz[0] {
					t.Fatalf("%dx%d after %q: line %d is %d wide: %q", sz[0], sz[1], k, i, w, l)
				}
			}
		}
	}
}

func TestQuit(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("q")
	if !d.quit {
		t.Fatal("q did not quit")
	}
	d = newDriver(t, 80, 24).start()
	d.keys("2", "a", "ctrl+c")
	if !d.quit {
		t.Fatal("ctrl+c did not quit from a form")
	}
}

func TestViewsSwitch(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("tab")
	if d.m.pageName() != "Users" {
		t.Fatal("tab")
	}
	d.keys("shift+tab", "shift+tab")
	if d.m.pageName() != "Penalties" {
		t.Fatal("shift+tab")
	}
	for _, tc := range []struct{ cmd, want string }{
		{"users", "Users"}, {"locks", "Locks"}, {"ev", "Events"}, {"s", "Sessions"},
		{"user", "Users"}, {"l", "Locks"}, {"event", "Events"}, {"session", "Sessions"}, {"3", "Locks"},
		{"pen", "Penalties"}, {"5", "Penalties"},
	} {
		d.keys(":")
		d.typeText(tc.cmd)
		d.keys("enter")
		if got := d.m.pageName(); got != tc.want {
			t.Fatalf(":%s went to %s", tc.cmd, got)
		}
	}
	d.keys(":")
	d.typeText("frobnicate")
	d.keys("enter")
	d.mustContain("unknown command :frobnicate")
	d.keys(":")
	d.typeText("q")
	d.keys("enter")
	if !d.quit {
		t.Fatal(":q did not quit")
	}
}

func TestThemes(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("T")
	if d.m.s.st.theme.Name != "high-contrast" {
		t.Fatalf("T after default gave %q", d.m.s.st.theme.Name)
	}
	d.keys(":")
	d.typeText("theme colorblind")
	d.keys("enter")
	if d.m.s.st.theme.Name != "colorblind" {
		t.Fatalf("theme %q", d.m.s.st.theme.Name)
	}
	d.mustContain("theme colorblind")
	d.keys(":")
	d.typeText("theme nosuch")
	d.keys("enter")
	d.mustContain(`no theme "nosuch"`)
	if d.m.s.st.theme.Name != "colorblind" {
		t.Fatal("a failed theme load changed the theme")
	}
	// The theme comes resolved in Options (popadm weighs its flag, the
	// environment and its config file); "" is the default, whatever
	// POPADM_THEME says.
	t.Setenv("POPADM_THEME", "light")
	m := NewModel(Options{})
	if m.s.st.theme.Name != "default" {
		t.Fatalf("Theme \"\" gave %q", m.s.st.theme.Name)
	}
	if m = NewModel(Options{Theme: "light"}); m.s.st.theme.Name != "light" {
		t.Fatalf("Theme light gave %q", m.s.st.theme.Name)
	}
	// A bad name falls back to default, saying so.
	m = NewModel(Options{Theme: "nosuch"})
	if m.s.st.theme.Name != "default" || !strings.Contains(m.s.flash.text, "nosuch") {
		t.Fatalf("bad theme: %q, %q", m.s.st.theme.Name, m.s.flash.text)
	}
}

func TestHelp(t *testing.T) {
	d := newDriver(t, 120, 30).start()
	d.keys("?")
	d.mustContain("KEYS — SESSIONS", "kick", "half page down", "next theme", "! failed login")
	d.keys("j") // ignored while help shows
	if d.selected() != "3" {
		t.Fatal("a key moved the selection under the help")
	}
	d.keys("esc")
	d.mustNotContain("KEYS")
	// The help bar follows the view.
	d.mustContain("K kick")
	d.keys("4")
	d.mustContain("p pause", "f unfollow")
	d.mustNotContain("K kick")
}

func TestDetailPane(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.mustNotContain("Retrieved")
	d.keys("enter")
	d.mustContain("─ session 3", "Retrieved", "12 messages", "203.0.113.1:995")
	d.keys("j")
	d.mustContain("─ session 7")
	d.keys("enter")
	d.mustNotContain("Retrieved")
	// Closed by hand, it stays closed when the terminal widens.
	d.send(tea.WindowSizeMsg{Width: 160, Height: 40})
	d.mustNotContain("SESSION 7", "Retrieved")
	// Wide terminals show it beside the table without asking.
	d = newDriver(t, 160, 40).start()
	d.keys("j")
	d.mustContain("SESSION 7", "Retrieved")
}

func TestMouse(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.send(tea.MouseMsg{X: 10, Y: 6, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if d.selected() != "8" { // rows start on line 4
		t.Fatalf("click selected %q", d.selected())
	}
	d.send(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if d.selected() != "21" {
		t.Fatalf("wheel selected %q", d.selected())
	}
}

func TestBytesPerSecond(t *testing.T) {
	var h history
	s := control.Stats{BytesSent: 1000}
	h.add(s, t0, nil)
	s.BytesSent = 3000
	h.add(s, t0.Add(2*time.Second), nil)
	s.BytesSent = 10 // never on one connection: nothing counted
	h.add(s, t0.Add(3*time.Second), nil)
	if !slices.Equal(h.bps, []float64{1000, 0}) {
		t.Fatalf("bytes/s %v", h.bps)
	}
	for i := range 100 {
		h.add(s, t0.Add(time.Duration(4+i)*time.Second), nil)
	}
	if len(h.bps) != samples {
		t.Fatalf("%d samples kept", len(h.bps))
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{sparkline([]float64{0, 1, 2, 4, 8}, 5), "▁▂▃▅█"},
		{sparkline([]float64{0, 0}, 4), "  ▁▁"},
		{sparkline([]float64{1, 100}, 2), "▂█"},
		{truncate("héllo wörld", 6), "héllo…"},
		{fit("ab", 4, true), "  ab"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestReadOnlyCommandSticks(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys(":")
	d.typeText("readonly")
	d.keys("enter")
	d.mustContain("read-only")
	// Still read-only after a reconnect with the admin role.
	d.fake.setErr("Sessions", errors.New("broken pipe"))
	fire[pollTickMsg](d)
	d.fake.setErr("Sessions", nil)
	fire[redialMsg](d)
	if !d.ln().connected || !d.m.s.readOnly {
		t.Fatalf("connected %v readOnly %v", d.ln().connected, d.m.s.readOnly)
	}
	d.keys("K")
	if d.m.dialog() != nil {
		t.Fatal("K works after :readonly and a reconnect")
	}
}

func TestKeysArrivingTogether(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	// bubbletea gives runes read at once as one message.
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jK")})
	if d.m.dialog() == nil || d.m.dialog().req.target != "7" {
		t.Fatalf("j and K together: dialog %+v", d.m.dialog())
	}
	d.keys("esc")
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/bob")})
	if d.sessions().t.filter != "bob" {
		t.Fatalf("filter %q", d.sessions().t.filter)
	}
	d.keys("esc")
	// A paste is text, never commands.
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2K"), Paste: true})
	if d.m.pageName() != "Sessions" || d.m.dialog() != nil {
		t.Fatal("a paste ran commands")
	}
	d.keys("2", "a")
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("pasted"), Paste: true})
	if got := d.m.form().inputs[0].Value(); got != "pasted" {
		t.Fatalf("pasted name %q", got)
	}
}
