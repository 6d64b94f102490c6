package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"popd/internal/control"
)

// SetDisabledMany and UnlockMany are the calls on many, as popd does them
// on the fake's users and locks: one call recorded per request,
// "SetDisabledMany alice,bob true", "UnlockMany alice,dave"; a name it
// does not have fails alone.
func (f *fakeBackend) SetDisabledMany(_ context.Context, names []string, disabled bool) ([]control.NameResult, error) {
	if err := f.call("SetDisabledMany", strings.Join(names, ","), disabled); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []control.NameResult
	for _, n := range names {
		r := control.NameResult{Name: n}
		if i := slices.IndexFunc(f.users, func(u control.User) bool { return u.Name == n }); i >= 0 {
			f.users[i].Disabled = disabled
		} else {
			r.Error = &control.Error{Code: control.CodeNotFound, Message: fmt.Sprintf("no user %q", n)}
		}
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeBackend) UnlockMany(_ context.Context, users []string) ([]control.NameResult, error) {
	if err := f.call("UnlockMany", strings.Join(users, ",")); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []control.NameResult
	for _, n := range users {
		r := control.NameResult{Name: n}
		if i := slices.IndexFunc(f.locks, func(l control.Lock) bool { return l.User == n }); i >= 0 {
			f.locks = slices.Delete(f.locks, i, i+1)
		} else {
			r.Error = &control.Error{Code: control.CodeNotFound, Message: fmt.Sprintf("the maildrop of %q is not locked", n)}
		}
		out = append(out, r)
	}
	return out, nil
}

var _ manyDoer = (*fakeBackend)(nil)

// manyDialogOf is the open dialog for many, or nil.
func manyDialogOf(d *driver) *manyDialog {
	m, _ := d.m.s.modal.(*manyDialog)
	return m
}

func tagsOf[T any](p *tablePage[T]) []string {
	var out []string
	for k := range p.t.tags {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (d *driver) flashed() string { return d.m.s.flash.text }

// Tag two users with space, e: one dialog for both, focus on Cancel,
// saying their sessions; confirmed, one request carries both names.
func TestTagUsersDisableOnce(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "space", "space")
	if got := tagsOf(&d.users().tablePage); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("tagged %q", got)
	}
	d.mustContain("2 tagged", "e enable/disable 2 tagged", "U untag all")
	d.keys("e")
	md := manyDialogOf(d)
	if md == nil || md.focus != focusCancel {
		t.Fatalf("no dialog with the focus on Cancel: %+v", md)
	}
	d.mustContain("Disable 2 tagged users?", "alice (120 messages", "bob (3 messages",
		"2 of them have 2 sessions open", "[ ] also end them", "Disable 2")
	d.keys("enter") // Cancel
	wantActions(t, d.fake)

	d.keys("e", "tab", "enter")
	wantActions(t, d.fake, "SetDisabledMany alice,bob true")
	if d.flashed() != "disabled 2 users" {
		t.Fatalf("status %q", d.flashed())
	}
	if got := tagsOf(&d.users().tablePage); len(got) != 0 {
		t.Fatalf("still tagged %q", got)
	}
	d.mustContain("disabled 2 users")

	// All tagged are disabled: e enables them, in one request too.
	d.keys("g", "space", "space", "e")
	d.mustContain("Enable 2 tagged users?", "They can log in again.")
	d.keys("tab", "enter")
	wantActions(t, d.fake, "SetDisabledMany alice,bob true", "SetDisabledMany alice,bob false")
}

// The box ticked: once disabled, their sessions end, by one kick_select
// naming them all on each node (popd decides which sessions they are).
func TestTagUsersDisableEndSessions(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "space", "space", "e", "tab", "tab", "space", "shift+tab", "enter")
	wantActions(t, d.fake, "SetDisabledMany alice,bob true", "KickSelect users alice, bob")
}

// Some of them are as asked already: left out of the request, and said;
// a name popd no longer has fails alone, stays tagged, and the status
// line says which and why.
func TestTagUsersPartial(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "space", "j", "j", "j", "space") // alice, mallory (disabled)
	d.keys("g", "j", "space")                    // and bob
	d.keys("e")
	d.mustContain("Disable 2 of 3 tagged users?", "mallory: disabled already, left as they are.")
	d.fake.mu.Lock()
	d.fake.users = slices.DeleteFunc(d.fake.users, func(u control.User) bool { return u.Name == "bob" })
	d.fake.mu.Unlock()
	d.keys("tab", "enter")
	wantActions(t, d.fake, "SetDisabledMany alice,bob true")
	if want := `disabled 1 user, 1 failed: bob: no user "bob"`; d.flashed() != want {
		t.Fatalf("status %q, want %q", d.flashed(), want)
	}
	if d.m.s.flash.k != kErr {
		t.Error("a partial failure is not said as an error")
	}
	if got := tagsOf(&d.users().tablePage); !slices.Equal(got, []string{"mallory"}) {
		// bob went with the refresh; mallory was not asked.
		t.Fatalf("tagged %q", got)
	}

	// The call itself fails: nothing done, every name said.
	d.fake.setErr("SetDisabledMany", errors.New("popd closed the connection"))
	d.keys("e", "tab", "enter")
	if !strings.HasPrefix(d.flashed(), "could not enable 1 user: mallory: popd closed the connection") {
		t.Fatalf("status %q", d.flashed())
	}
}

// Tag two locks with space, b: one dialog, one request with both.
func TestTagLocksUnlockOnce(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("3", "space", "space")
	d.mustContain("b unlock 2 tagged")
	d.keys("b")
	md := manyDialogOf(d)
	if md == nil || md.focus != focusCancel {
		t.Fatalf("no dialog with the focus on Cancel: %+v", md)
	}
	d.mustContain("Unlock 2 tagged maildrops?", "alice: held by session 3 for 3m00s", "dave: held by popd@mx2 pid 4242 for 50m00s, stale",
		"1 of them is not stale", "The session holding 1 of them is ended first", "Unlock 2")
	d.keys("tab", "enter")
	wantActions(t, d.fake, "UnlockMany alice,dave")
	if d.flashed() != "unlocked 2 maildrops" {
		t.Fatalf("status %q", d.flashed())
	}
	d.mustContain("no maildrop is locked")
}

// On a fleet, each node unlocks its own: one request to each.
func TestTagLocksFleet(t *testing.T) {
	f := newFleetDriver(t, 120, 30)
	f.start()
	f.keys("3")
	var users []string
	for _, r := range f.locks().t.rows {
		users = append(users, r.node+":"+r.User)
	}
	if !slices.Equal(users, []string{"pop1:alice", "pop1:dave", "pop2:bob"}) {
		t.Fatalf("locks %q", users)
	}
	f.keys("space", "space", "space", "b")
	f.mustContain("Unlock 3 tagged maildrops?", "Each node unlocks its own: pop1 2, pop2 1.")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[0], "UnlockMany alice,dave")
	wantActions(t, f.nodes[1], "UnlockMany bob")
	wantActions(t, f.nodes[2])
}

// :disable filter, :enable NAME, :unlock stale: the same dialogs.
func TestManyCommands(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("2", "/")
	d.typeText("o")
	d.keys("enter") // bob, carol@example.org, mallory
	d.command("disable filter")
	d.mustContain(`Disable 2 of the 3 users the filter "o" shows?`)
	d.keys("esc")
	d.command("enable mallory")
	d.mustContain("Enable 1 user?")
	d.keys("tab", "enter")
	d.command("enable nobody")
	d.mustContain("no user nobody")
	d.command("disable")
	d.mustContain("disable whom?")
	d.command("unlock stale")
	if d.m.pageName() != "Locks" {
		t.Fatalf("on %s", d.m.pageName())
	}
	d.mustContain("Unlock 1 stale maildrop?", "dave: held by popd@mx2")
	d.keys("tab", "enter")
	wantActions(t, d.fake, "SetDisabledMany mallory false", "UnlockMany dave")
}

// Read-only, and while popd is unreachable, e and b on tags, and the :
// commands, are off and say so, as for one.
func TestManyOff(t *testing.T) {
	d := newDriver(t, 80, 24, readOnly).start()
	d.keys("2", "space", "e")
	d.mustContain("read-only: e is off")
	d.command("disable alice")
	d.mustContain("read-only: :disable is off")
	d.keys("3", "space", "b")
	d.mustContain("read-only: b is off")
	d.command("unlock stale")
	d.mustContain("read-only: :unlock is off")
	if d.m.s.modal != nil {
		t.Fatal("a dialog opened in read-only mode")
	}
	wantActions(t, d.fake)

	d = newDriver(t, 80, 24).start()
	d.keys("2", "space")
	d.fake.setErr("Sessions", errors.New("control: who: popd closed the connection"))
	fire[pollTickMsg](d)
	d.keys("e")
	d.mustContain("popd unreachable: e is off until it is back")
	d.command("enable mallory")
	d.mustContain("popd unreachable: :enable is off until it is back")
	if d.m.s.modal != nil {
		t.Fatal("a dialog opened while popd is unreachable")
	}
	wantActions(t, d.fake)
}
