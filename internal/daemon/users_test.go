package daemon

import (
	"context"
	"os"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/maildir"
)

// The details of one user: the maildrop as the users list counts it, the
// lock and the session that holds it, the last login.
func TestUserDetailsOverControl(t *testing.T) {
	e := newEnv(t, []account{alice, plainBob}, nil)
	e.deliver("alice", "Subject: 1\n\nhello\n")
	e.deliver("alice", "Subject: 2\n\nhello\n")
	c := e.login(alice)
	ctl := e.control()
	ctx := context.Background()
	d, err := ctl.UserDetails(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "alice" || d.Messages != 2 || d.Octets == 0 || !d.Locked || d.Lock == nil ||
		len(d.Sessions) != 1 || d.Lock.Session != d.Sessions[0].ID || d.LastLogin.IsZero() || d.LastLoginMethod != "USER" {
		t.Fatalf("alice's details: %+v (lock %+v)", d, d.Lock)
	}
	c.OK("QUIT")
	if d, err = ctl.UserDetails(ctx, "bob"); err != nil || d.Locked || d.Lock != nil || len(d.Sessions) != 0 || !d.LastLogin.IsZero() {
		t.Fatalf("bob's details: %+v, %v", d, err)
	}
	if _, err := ctl.UserDetails(ctx, "carol"); !hasErrCode(err, control.CodeNotFound) {
		t.Fatalf("carol: %v", err)
	}
}

// Deleting a user with their mail while a session holds the maildrop: the
// console's dialog said so and was confirmed, so popd ends the session
// first, then removes the mail (it used to refuse: "kick it first").
func TestDeletePurgeEndsSessionFirst(t *testing.T) {
	e := newEnv(t, []account{alice, plainBob}, nil)
	e.deliver("alice", "Subject: 1\n\n")
	c := e.login(alice)
	if err := e.control().DeleteUser(context.Background(), "alice", true); err != nil {
		t.Fatalf("purge with a live session: %v", err)
	}
	if !c.Closed(2 * time.Second) {
		t.Fatal("alice's session still open")
	}
	if _, err := os.Stat(e.Maildir("alice")); !os.IsNotExist(err) {
		t.Fatalf("alice's maildrop is still there: %v", err)
	}
}

// Without the purge, the sessions may stay: deleted, the user cannot log
// in again, but the session that runs goes on to its end.
func TestDeleteKeepSessions(t *testing.T) {
	e := newEnv(t, []account{alice, plainBob}, nil)
	e.deliver("alice", "Subject: 1\n\n")
	c := e.login(alice)
	ctl := e.control()
	if err := ctl.DeleteUserWith(context.Background(), "alice", control.DeleteOptions{KeepSessions: true}); err != nil {
		t.Fatal(err)
	}
	c.OK("STAT")
	e.dial().OK("USER alice")
	c.OK("QUIT")
	if n := len(e.files("alice")); n != 1 {
		t.Fatalf("alice's mail: %d messages", n)
	}
	// And by default they end, as they always did.
	c = e.login(plainBob)
	if err := ctl.DeleteUser(context.Background(), "bob", false); err != nil {
		t.Fatal(err)
	}
	if !c.Closed(2 * time.Second) {
		t.Fatal("bob's session still open")
	}
}

// A lock no session of this popd holds (another node's session, another
// program) is not broken by a purge: nothing is deleted.
func TestDeletePurgeForeignLock(t *testing.T) {
	e := newEnv(t, []account{alice, plainBob}, nil)
	e.deliver("alice", "Subject: 1\n\n")
	mb, err := maildir.Open(e.Maildir("alice"), maildir.Options{Owner: "popd session 9 on pop2"})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	err = e.control().DeleteUser(context.Background(), "alice", true)
	if !hasErrCode(err, control.CodeConflict) {
		t.Fatalf("purge under a foreign lock: %v", err)
	}
	if us := listUsersByName(t, e.control()); us["alice"].Name == "" {
		t.Fatal("alice was deleted although the purge was refused")
	}
	if n := len(e.files("alice")); n != 1 {
		t.Fatalf("alice's mail: %d messages", n)
	}
}

func hasErrCode(err error, code control.ErrorCode) bool {
	ce, ok := err.(*control.Error)
	return ok && ce.Code == code
}
