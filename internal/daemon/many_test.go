package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/maildir"
	"popd/internal/testutil"
)

var plainCarol = account{Name: "carol", Pass: "pw", Scheme: "PLAIN"}

// manyOutcome is a call on many's results as "name ok" or "name CODE".
func manyOutcome(rs []control.NameResult) string {
	var out []string
	for _, r := range rs {
		if r.Error != nil {
			out = append(out, r.Name+" "+string(r.Error.Code))
		} else {
			out = append(out, r.Name+" ok")
		}
	}
	return strings.Join(out, ", ")
}

// users_set_disabled over a real popd: the users named are disabled in
// one call, each with its user.changed event naming who; an unknown name
// fails alone, the others are done (issue 14: tag and act on many).
func TestSetDisabledManyOverControl(t *testing.T) {
	e := newEnv(t, []account{alice, plainBob, plainCarol}, nil)
	ctl := e.control()
	ctx := context.Background()
	events, err := e.control().Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ctl.SetDisabledMany(ctx, []string{"alice", "nobody", "bob", "alice"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := manyOutcome(rs); got != "alice ok, nobody not-found, bob ok" {
		t.Fatalf("results: %s", got)
	}
	for _, want := range []string{"alice", "bob"} {
		ev := testutil.NextEvent(t, events, event.UserChanged, 5*time.Second)
		if ev.User != want || ev.Reason != "disabled" || !strings.HasPrefix(ev.By, "uid ") {
			t.Fatalf("event %+v, want user.changed of %s, disabled, by uid …", ev, want)
		}
	}
	us := listUsersByName(t, ctl)
	if !us["alice"].Disabled || !us["bob"].Disabled || us["carol"].Disabled {
		t.Fatalf("users: %+v", us)
	}
	// Disabled, they cannot log in; carol can.
	c := e.dial()
	c.OK("USER bob")
	c.Send("PASS pw")
	c.Expect("-ERR")
	e.login(plainCarol).OK("QUIT")

	// And enabled again, in one call too.
	rs, err = ctl.SetDisabledMany(ctx, []string{"bob", "alice"}, false)
	if err != nil || manyOutcome(rs) != "bob ok, alice ok" {
		t.Fatalf("enable: %s, %v", manyOutcome(rs), err)
	}
	if ev := testutil.NextEvent(t, events, event.UserChanged, 5*time.Second); ev.User != "bob" || ev.Reason != "enabled" || ev.By == "" {
		t.Fatalf("event %+v", ev)
	}
	e.login(plainBob).OK("QUIT")

	// Names are required, and none may be empty.
	if _, err := ctl.SetDisabledMany(ctx, []string{"bob", ""}, true); !hasErrCode(err, control.CodeBadRequest) {
		t.Fatalf("an empty name: %v", err)
	}
}

// locks_unlock over a real popd: a maildrop held by a session (the
// session ends), one held by another program (its lock broken), one not
// locked (not-found, alone), each done with its maildrop.unlocked event
// naming who.
func TestUnlockManyOverControl(t *testing.T) {
	e := newEnv(t, []account{alice, plainBob, plainCarol}, nil)
	e.deliver("alice", "Subject: 1\n\n")
	e.deliver("bob", "Subject: 1\n\n")
	ctl := e.control()
	ctx := context.Background()
	events, err := e.control().Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held := e.login(alice)
	mb, err := maildir.Open(e.Maildir("bob"), maildir.Options{Owner: "popd session 9 on pop2"})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if ls, _ := ctl.Locks(ctx); len(ls) != 2 {
		t.Fatalf("locks before: %+v", ls)
	}

	rs, err := ctl.UnlockMany(ctx, []string{"alice", "carol", "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if got := manyOutcome(rs); got != "alice ok, carol not-found, bob ok" {
		t.Fatalf("results: %s", got)
	}
	if !held.Closed(2 * time.Second) {
		t.Fatal("alice's session still open")
	}
	got := map[string]string{}
	for range 2 {
		ev := testutil.NextEvent(t, events, event.Unlocked, 5*time.Second)
		got[ev.User] = ev.By
	}
	for _, u := range []string{"alice", "bob"} {
		if !strings.HasPrefix(got[u], "uid ") {
			t.Errorf("maildrop.unlocked of %s: by %q", u, got[u])
		}
	}
	if ls, _ := ctl.Locks(ctx); len(ls) != 0 {
		t.Fatalf("locks after: %+v", ls)
	}
}
