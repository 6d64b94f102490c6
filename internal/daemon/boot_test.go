package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
)

// rerun starts popd again on e's configuration (its maildirs, users file
// and control socket) once the run before has stopped.
func (e *env) rerun() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	log, buf := testutil.Logger(e.t)
	e.log = buf
	go func() {
		done <- Run(ctx, e.Cfg, Options{Logger: log, Ready: func(plain, _ net.Addr) { ready <- plain }})
	}()
	select {
	case a := <-ready:
		e.addr = a.String()
	case err := <-done:
		e.t.Fatalf("popd did not start again: %v", err)
	case <-time.After(10 * time.Second):
		e.t.Fatal("popd did not start again within 10s")
	}
	e.stop = sync.OnceValue(func() error { cancel(); return <-done })
	e.t.Cleanup(func() {
		if err := e.stop(); err != nil {
			e.t.Errorf("popd: %v", err)
		}
	})
}

var sessionID = regexp.MustCompile(`^[0-9a-z]{4}-[1-9][0-9]*$`)

// Bug 2: session ids were numbers from 1 again after every start, so an
// id of the run before named a session of this one, and kick ended it.
// Now they carry the run's tag: unique across restarts on the same
// maildirs, and an old id is "no session".
func TestSessionIDsUniqueAcrossRestarts(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	ctx := t.Context()
	first := func() (control.Session, control.Event) {
		t.Helper()
		ctl := e.control()
		events, err := ctl.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c := e.login(alice)
		t.Cleanup(func() { c.Conn.Close() })
		ss, err := ctl.Sessions(ctx)
		if err != nil || len(ss) != 1 || !sessionID.MatchString(ss[0].ID) {
			t.Fatalf("who: %v %+v", err, ss)
		}
		ev := testutil.NextEvent(t, events, event.Login, 5*time.Second)
		if ev.Session != ss[0].ID || ev.Boot == "" || ev.Seq == 0 {
			t.Fatalf("login event %+v for session %s", ev, ss[0].ID)
		}
		return ss[0], ev
	}
	old, oldLogin := first()
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}

	e.rerun()
	cur, login := first()
	if cur.ID == old.ID || login.Boot == oldLogin.Boot {
		t.Fatalf("the second run's session %s (boot %s) is the first's %s (boot %s)", cur.ID, login.Boot, old.ID, oldLogin.Boot)
	}
	if login.Seq > oldLogin.Seq {
		t.Errorf("the second run's events are numbered on from the first's: %d after %d", login.Seq, oldLogin.Seq)
	}

	// Kicking the old id ends nothing.
	ctl := e.control()
	var ce *control.Error
	if err := ctl.Kick(ctx, old.ID); !errors.As(err, &ce) || ce.Code != control.CodeNotFound {
		t.Fatalf("kick %s of the run before: %v, want not-found", old.ID, err)
	}
	if ss, _ := ctl.Sessions(ctx); len(ss) != 1 || ss[0].ID != cur.ID {
		t.Fatalf("after kicking the old id: %+v", ss)
	}
}

// Bug 3: the events popd publishes as it shuts down — its sessions ending —
// reach the console, and popd.stopped comes last. The control socket used
// to close first.
func TestShutdownEventsReachConsole(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	events, err := e.control().Events(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := e.login(alice)
	defer c.Conn.Close()
	login := testutil.NextEvent(t, events, event.Login, 5*time.Second)
	go e.stop()
	closed := testutil.NextEvent(t, events, event.SessionClosed, 10*time.Second)
	if closed.Session != login.Session {
		t.Fatalf("closed %+v, want session %s", closed, login.Session)
	}
	stopped := testutil.NextEvent(t, events, event.Stopped, 10*time.Second)
	if stopped.Boot != login.Boot || stopped.Seq <= closed.Seq {
		t.Fatalf("popd.stopped %+v after %+v", stopped, closed)
	}
	select {
	case e, ok := <-events:
		if ok {
			t.Fatalf("after popd.stopped: %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream stayed open after popd stopped")
	}
}

// Every administrator's action is published with who did it (By): the
// console marks those events with *.
func TestAdminEventsSayBy(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	ctx := t.Context()
	ctl := e.control()
	events, err := ctl.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := func(k event.Kind) {
		t.Helper()
		if ev := testutil.NextEvent(t, events, k, 5*time.Second); ev.By == "" {
			t.Errorf("%s without By: %+v", k, ev)
		}
	}
	c := e.login(alice)
	defer c.Conn.Close()
	ss, _ := ctl.Sessions(ctx)
	if len(ss) != 1 {
		t.Fatalf("sessions %+v", ss)
	}
	steps := []struct {
		do   func() error
		kind event.Kind
	}{
		{func() error { return ctl.Kick(ctx, ss[0].ID) }, event.Kicked},
		{func() error { return ctl.AddUser(ctx, "bob", "pw") }, event.UserChanged},
		{func() error { return ctl.SetPassword(ctx, "bob", "pw2") }, event.UserChanged},
		{func() error { return ctl.SetDisabled(ctx, "bob", true) }, event.UserChanged},
		{func() error { return ctl.SetDisabled(ctx, "bob", false) }, event.UserChanged},
		{func() error { return ctl.DeleteUser(ctx, "bob", false) }, event.UserChanged},
		{func() error { return ctl.Reload(ctx) }, event.UsersReloaded},
		{func() error { // a lock held by a session: unlock ends it
			c := e.login(alice)
			t.Cleanup(func() { c.Conn.Close() })
			return ctl.Unlock(ctx, "alice")
		}, event.Unlocked},
		{func() error { // two failed logins earn a penalty, then cleared
			c := e.dial()
			defer c.Conn.Close()
			for range 2 {
				c.OK("USER alice")
				c.Err("PASS x", "-ERR [AUTH] invalid user name or password")
			}
			testutil.NextEvent(t, events, event.Penalty, 5*time.Second)
			return ctl.ClearPenalty(ctx, "127.0.0.1")
		}, event.PenaltyCleared},
		{func() error { // the users file edited by hand: the watcher reloads it
			users, err := os.ReadFile(e.Cfg.Users)
			if err != nil {
				return err
			}
			tmp := e.Cfg.Users + ".new"
			os.WriteFile(tmp, append(users, "carol:{PLAIN}pw::::"+filepath.Join(e.Dir, "home", "carol")+"::\n"...), 0o600)
			return os.Rename(tmp, e.Cfg.Users)
		}, event.UsersReloaded},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.kind, err)
		}
		want(s.kind)
	}
}
