package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
)

// userFake is the fake backend with what the drill-down and the user
// dialogs use besides: a user's details, and a delete that keeps the
// sessions.
type userFake struct {
	*fakeBackend
	asked []string // the users whose details were asked for
}

func (f *userFake) UserDetails(_ context.Context, name string) (control.UserDetails, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, name)
	i := slices.IndexFunc(f.users, func(u control.User) bool { return u.Name == name })
	if i < 0 {
		return control.UserDetails{}, &control.Error{Code: control.CodeNotFound, Message: "no user " + name}
	}
	d := control.UserDetails{User: f.users[i]}
	for _, s := range f.sessions {
		if s.User == name {
			d.LastLoginFrom, d.LastLoginMethod = s.Remote, "USER"
		}
	}
	for _, l := range f.locks {
		if l.User == name {
			d.Lock = &l
		}
	}
	return d, nil
}

func (f *userFake) DeleteUserWith(_ context.Context, name string, opt control.DeleteOptions) error {
	return f.call("DeleteUserWith", name, opt.PurgeMail, opt.KeepSessions)
}

// withUserFake makes the driver dial a userFake around its fake.
func withUserFake(uf **userFake) driverOpt {
	return func(d *driver, _ *Options) {
		*uf = &userFake{fakeBackend: d.fake}
		d.dial = func(int) (Backend, error) { return *uf, nil }
	}
}

func newUserDriver(t *testing.T, w, h int, opts ...driverOpt) (*driver, *userFake) {
	t.Helper()
	var uf *userFake
	d := newDriver(t, w, h, append([]driverOpt{withUserFake(&uf)}, opts...)...).start()
	return d, uf
}

// Enter on a user drills down into them: the account, the maildrop, who
// holds its lock, the last login, and their sessions; esc comes back.
func TestUserDrill(t *testing.T) {
	d, uf := newUserDriver(t, 100, 30)
	d.keys("2", "enter")
	p := d.users()
	if p.drill == nil || p.drill.name != "alice" {
		t.Fatalf("no drill-down on alice: %+v", p.drill)
	}
	if !slices.Contains(uf.asked, "alice") {
		t.Fatalf("alice's details were not asked for (%v)", uf.asked)
	}
	d.mustContain("USER alice", "enabled · BLF-CRYPT", "120 messages, 11.8M",
		"held by session 3 for 3m00s", "3m00s ago (2025-03-14 11:57:00) from 192.0.2.10:51234 by USER",
		"SESSIONS · 1 open", "192.0.2.10:51234", "user alice · 1 session", "go to session")
	d.mustNotContain("carol@example.org") // the users list is gone

	// Each poll asks again, while it is open.
	n := len(uf.asked)
	fire[pollTickMsg](d)
	if len(uf.asked) != n+1 {
		t.Fatalf("asked %v after a poll", uf.asked)
	}

	d.keys("esc")
	if p.drill != nil {
		t.Fatal("esc did not close the drill-down")
	}
	d.mustContain("carol@example.org", "MSGS")
	fire[pollTickMsg](d)
	if len(uf.asked) != n+1 {
		t.Fatalf("details asked for after the drill-down closed: %v", uf.asked)
	}

	// With a filter: esc closes the drill-down first, then clears the
	// filter, as before.
	d.keys("/")
	d.typeText("da")
	d.keys("enter", "enter")
	if p.drill == nil || p.drill.name != "dave" {
		t.Fatalf("drill-down on %+v, want dave", p.drill)
	}
	d.mustContain("USER dave", "held by popd@mx2 pid 4242 for 50m00s, stale")
	d.keys("esc")
	if p.drill != nil || p.Filter() != "da" {
		t.Fatalf("after one esc: drill %v, filter %q", p.drill, p.Filter())
	}
	d.keys("esc")
	if p.Filter() != "" {
		t.Fatalf("the second esc left the filter %q", p.Filter())
	}

	// A filter typed in the drill-down filters the list, shown again.
	d.keys("enter", "/")
	d.typeText("bo")
	if p.drill != nil || len(p.t.rows) != 1 {
		t.Fatalf("filtering from the drill-down: drill %v, %d rows", p.drill, len(p.t.rows))
	}
}

// A user who never logged in, and a popd that does not give details (an
// older one): the drill-down says what it knows from the users list.
func TestUserDrillWithoutDetails(t *testing.T) {
	d := newDriver(t, 100, 30).start() // the plain fake: no UserDetails
	d.keys("2", "G", "enter")
	d.mustContain("USER mallory", "disabled · SHA512-CRYPT", "7 messages", "not locked", "Last login  never",
		"USER mallory · no details from popd: this popd does not give a user's details", "SESSIONS · none open", "no session open")
}

// Enter on one of the user's sessions goes to it in Sessions, details
// open; K kicks it from the drill-down.
func TestUserDrillToSession(t *testing.T) {
	d, uf := newUserDriver(t, 100, 30)
	d.keys("2", "j", "enter") // bob
	d.keys("K")
	d.mustContain("Kick session 7?", "bob from 198.51.100.7:40022")
	d.keys("tab", "enter")
	wantActions(t, uf.fakeBackend, "Kick 7")

	d.keys("enter")
	if d.m.pageName() != "Sessions" || d.selected() != "7" || !d.sessions().paneOpen() {
		t.Fatalf("on %s, session %q selected, pane open %v", d.m.pageName(), d.selected(), d.sessions().paneOpen())
	}
	d.mustContain("session 7")
	// Back to Users: still drilled into bob.
	d.keys("2")
	d.mustContain("USER bob")
}

// Enter on a lock goes to the session that holds it, selected, with its
// details open, even when the Sessions filter hid it; a lock no session
// of popd holds says so.
func TestLockToHolder(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("/")
	d.typeText("bob")
	d.keys("enter")
	d.keys("3", "enter") // alice's lock, session 3
	if d.m.pageName() != "Sessions" || d.selected() != "3" || !d.sessions().paneOpen() || d.sessions().Filter() != "" {
		t.Fatalf("on %s, session %q, pane open %v, filter %q", d.m.pageName(), d.selected(), d.sessions().paneOpen(), d.sessions().Filter())
	}
	d.mustContain("─ session 3")
	// esc closes the pane.
	d.keys("esc")
	if d.sessions().paneOpen() {
		t.Fatal("esc left the pane open")
	}

	d.keys("3", "j", "enter") // dave's: popd@mx2's
	if d.m.pageName() != "Locks" {
		t.Fatalf("went to %s", d.m.pageName())
	}
	d.mustContain("held by popd@mx2 pid 4242, not a session of popd")

	// A session that has ended meanwhile.
	d.fake.mu.Lock()
	d.fake.sessions = d.fake.sessions[1:]
	d.fake.mu.Unlock()
	fire[pollTickMsg](d)
	d.keys("k", "enter")
	d.mustContain("session 3 is not listed: it has ended")
}

// The delete dialog says how many sessions are open, which holds the
// maildrop, and offers to end them (ticked); a purge ends the holder
// first, in popd.
func TestDeleteUserWithSessions(t *testing.T) {
	d, uf := newUserDriver(t, 80, 24)
	d.keys("2", "d") // alice: session 3 holds her maildrop
	d.mustContain("Delete user alice?", "alice has 1 session open: 3 from", "Session 3 holds their maildrop",
		"[ ] also delete their mail", "[x] also end them")
	c := d.m.dialog()
	if c.focus != focusCancel || len(c.boxes) != 2 || c.boxes[0].on || !c.boxes[1].on {
		t.Fatalf("dialog %+v", c)
	}
	d.keys("tab", "enter") // as it is: their sessions end (popd does), mail kept
	wantActions(t, uf.fakeBackend, "DeleteUser alice false")

	// Unticked: the sessions stay.
	d.keys("d", "tab", "tab", "tab", "x")
	d.mustContain("[ ] also end them")
	d.keys("right", "enter")
	wantActions(t, uf.fakeBackend, "DeleteUser alice false", "DeleteUserWith alice false true")

	// The purge, confirmed while session 3 holds the maildrop: sent as
	// is, popd ends the session first.
	d.keys("d", "tab", "tab", "space", "tab", "x", "right", "enter")
	wantActions(t, uf.fakeBackend, "DeleteUser alice false", "DeleteUserWith alice false true", "DeleteUser alice true")
	d.mustContain("user alice and their mail deleted")

	// Without sessions: no box for them.
	uf.mu.Lock()
	uf.sessions = nil
	uf.mu.Unlock()
	fire[pollTickMsg](d)
	d.keys("d")
	d.mustContain("alice has no session open.")
	d.mustNotContain("also end them")
	if n := len(d.m.dialog().boxes); n != 1 {
		t.Fatalf("%d boxes", n)
	}
}

// A maildrop locked by no session of popd: the dialog says the mail
// cannot go until it is unlocked.
func TestDeleteUserForeignLock(t *testing.T) {
	d, _ := newUserDriver(t, 80, 24)
	d.keys("2", "/")
	d.typeText("dave")
	d.keys("enter")
	// dave's session 15 is in UPDATE and holds the lock in the sample;
	// without it, the lock is another program's.
	d.fake.mu.Lock()
	d.fake.sessions = slices.DeleteFunc(d.fake.sessions, func(s control.Session) bool { return s.User == "dave" })
	d.fake.mu.Unlock()
	fire[pollTickMsg](d)
	d.keys("d")
	d.mustContain("by no session of popd")
}

// Disabling a user with sessions asks whether to end them (not ticked);
// ticked, they are ended once the user is disabled, by selector.
func TestDisableUserWithSessions(t *testing.T) {
	d, uf := newUserDriver(t, 80, 24)
	d.keys("2", "e")
	d.mustContain("Disable user alice?", "alice has 1 session open", "unless you tick the box", "[ ] also end them")
	d.keys("tab", "enter")
	wantActions(t, uf.fakeBackend, "SetDisabled alice true")

	d.keys("e", "tab", "tab", "space", "shift+tab", "enter")
	wantActions(t, uf.fakeBackend, "SetDisabled alice true", "SetDisabled alice true", "KickSelect user alice")
	d.mustContain("kicked 1 session (user alice)")

	// A failed disable ends nothing.
	uf.setErr("SetDisabled", &control.Error{Code: control.CodeInternal, Message: "disk full"})
	d.keys("e", "tab", "tab", "space", "shift+tab", "enter")
	if got := uf.actions(); got[len(got)-1] != "SetDisabled alice true" {
		t.Fatalf("after a failed disable: %q", got)
	}
	d.mustContain("could not disable alice")
}

// On a fleet the delete goes to the node whose session holds the
// maildrop: it ends it (before a purge). The user's sessions on other
// nodes, if any, are ended once it is done, by selector on every node
// that is up.
func TestDeleteUserFleet(t *testing.T) {
	f := newFleetDriver(t, 100, 30)
	f.start()
	f.keys("2", "d") // alice: pop1/3 holds her maildrop
	f.mustContain("alice has 1 session open: pop1/3 from 192.0.2.10:51234.", "Session pop1/3 holds their maildrop")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[0], "DeleteUser alice false")
	wantActions(t, f.nodes[1])
	f.mustContain("user alice on pop1 deleted, mail kept")

	// alice logged in on pop2 too (maildrops not shared, say).
	f.nodes[1].mu.Lock()
	f.nodes[1].sessions = append(f.nodes[1].sessions, control.Session{ID: "9", User: "alice", Remote: "192.0.2.9:9", State: "authorization"})
	f.nodes[1].mu.Unlock()
	fire[pollTickMsg](f.driver)
	f.keys("d")
	f.mustContain("alice has 2 sessions open: pop1/3 from 192.0.2.10:51234,", "pop2/9 from 192.0.2.9:9.")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[0], "DeleteUser alice false", "DeleteUser alice false", "KickSelect user alice")
	wantActions(t, f.nodes[1], "KickSelect user alice")
	f.mustContain("kicked 2 sessions (user alice): pop1 1, pop2 1") // the fake's delete kicks none
}

// Read-only: the drill-down opens, its K says why it does nothing.
func TestUserDrillReadOnly(t *testing.T) {
	d, _ := newUserDriver(t, 100, 30, readOnly)
	d.keys("2", "enter")
	d.mustContain("USER alice")
	d.keys("K")
	if d.m.s.modal != nil {
		t.Fatal("K opened a dialog in read-only mode")
	}
	d.mustContain("read-only: K is off")
	d.mustNotContain("K kick")
}

// The drill-down on a fleet: the latest login of the nodes', and the
// lock's holder from the node whose session holds it.
func TestUserDrillFleetMerge(t *testing.T) {
	s := &shared{nodes: []string{"pop1", "pop2"}, now: func() time.Time { return t0 }, loc: time.UTC}
	dr := newUserDrill(s, control.User{Name: "bob", Scheme: "BLF-CRYPT", LastLogin: t0.Add(-time.Hour)})
	dr.setDetails(userDetailMsg{node: "pop1", name: "bob", d: control.UserDetails{
		User:          control.User{Name: "bob", LastLogin: t0.Add(-2 * time.Minute)},
		Lock:          &control.Lock{User: "bob", Owner: "popd", Host: "mx2", PID: 812, Since: t0.Add(-45 * time.Second)},
		LastLoginFrom: "192.0.2.1:1", LastLoginMethod: "USER"}})
	dr.setDetails(userDetailMsg{node: "pop2", name: "bob", d: control.UserDetails{
		User:          control.User{Name: "bob", LastLogin: t0.Add(-45 * time.Second)},
		Lock:          &control.Lock{User: "bob", Session: "3", Owner: "popd", Since: t0.Add(-45 * time.Second)},
		LastLoginFrom: "198.51.100.7:40022", LastLoginMethod: "APOP"}})
	var got []string
	for _, f := range dr.facts(t0) {
		got = append(got, f.label+": "+f.value)
	}
	want := []string{
		"Account: enabled · BLF-CRYPT",
		"Maildrop: 0 messages, 0B",
		"Lock: held by session pop2/3 for 45s",
		"Last login: 45s ago (2025-03-14 11:59:15) from 198.51.100.7:40022 by APOP on pop2",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("facts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGoldenUserDrill(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for _, tc := range []struct {
			name string
			keys []string
		}{
			{"drill", []string{"2", "enter"}},
			{"drill_session", []string{"2", "enter", "enter"}},
			{"delete_sessions", []string{"2", "d", "tab", "tab", "space"}},
			{"disable_sessions", []string{"2", "e"}},
		} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1]), func(t *testing.T) {
				var uf *userFake
				d := sample(t, sz[0], sz[1], withUserFake(&uf))
				d.keys(tc.keys...)
				golden(t, d.view())
			})
		}
	}
}
