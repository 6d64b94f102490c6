package daemon

import (
	"fmt"
	"time"

	"popd/internal/accounts"
	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/maildir"
	"popd/internal/pop3"
	"popd/internal/userdb"
)

// The control API's admin operations, carried out on the server, the users
// file and the maildrops. Each change is logged and published as an event.

var _ control.Daemon = (*daemon)(nil)

func notFound(format string, args ...any) error {
	return &control.Error{Code: control.CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Sessions implements control.Daemon.
func (d *daemon) Sessions() []control.Session {
	infos := d.srv.Sessions()
	out := make([]control.Session, 0, len(infos))
	now := time.Now()
	for _, in := range infos {
		out = append(out, sessionOf(in, now)) // select.go
	}
	return out
}

// holdsLock: a session holds its maildrop's lock from login to its end.
func holdsLock(in pop3.Info) bool {
	return in.State == pop3.StateTransaction || in.State == pop3.StateUpdate
}

// kickReason is what a kicked session's client is told.
const kickReason = "session ended by the administrator"

// Kick implements control.Daemon: the session is told -ERR [SYS/TEMP] and
// closed without UPDATE.
func (d *daemon) Kick(id, by string) error {
	// Announced before the session stops, so that consoles see "kicked"
	// before its "closed" (they raced).
	_, ok := d.srv.KickAnnounced(id, kickReason, func(in pop3.Info) {
		d.log.Info("session kicked", "session", id, "user", in.User, "by", by)
		d.publish(event.Event{Type: event.Kicked, Session: id, User: in.User, Remote: in.RemoteAddr, By: by})
	})
	if !ok {
		return notFound("no session %s", id)
	}
	return nil
}

// KickUser implements control.Daemon.
func (d *daemon) KickUser(user, by string) (int, error) {
	n := 0
	for _, in := range d.srv.Sessions() {
		if in.User == user && d.Kick(in.ID, by) == nil {
			n++
		}
	}
	return n, nil
}

// maildirOf locates a user's maildrop under the configuration in force.
func (d *daemon) maildirOf(u userdb.User) (string, error) {
	loc, err := maildir.Locate(d.config().Maildir, u.Name, u.Home, u.Mail)
	return loc.Path, err
}

// lookup finds a user and their maildrop.
func (d *daemon) lookup(name string) (string, error) {
	u, ok := d.users.Lookup(name)
	if !ok {
		return "", notFound("no user %q", name)
	}
	return d.maildirOf(u)
}

// Users implements control.Daemon.
func (d *daemon) Users() ([]control.User, error) {
	var out []control.User
	for _, u := range d.users.Users() {
		cu := control.User{Name: u.Name, Scheme: u.Scheme, Disabled: u.Disabled, LastLogin: d.lastLogin(u.Name).At}
		if dir, err := d.maildirOf(u); err == nil {
			cu.Messages, cu.Octets = d.usage.Count(dir)
			_, cu.Locked, _ = maildir.ReadLock(dir)
		}
		out = append(out, cu)
	}
	return out, nil
}

// userChanged reloads the users table at once after an edit, and tells.
func (d *daemon) userChanged(name, what, by string, err error) error {
	if err != nil {
		return accounts.ControlError(err)
	}
	if err := d.users.Reload(); err != nil {
		d.log.Error("reloading users after an edit", "err", err)
	}
	d.srv.UsersChanged()
	d.log.Info("user changed", "user", name, "change", what, "by", by)
	d.publish(event.Event{Type: event.UserChanged, User: name, Reason: what, By: by})
	return nil
}

// AddUser implements control.Daemon.
func (d *daemon) AddUser(name, password, by string) error {
	return d.userChanged(name, "added", by, d.users.Add(name, password))
}

// SetPassword implements control.Daemon.
func (d *daemon) SetPassword(name, password, by string) error {
	return d.userChanged(name, "password set", by, d.users.SetPassword(name, password))
}

// SetDisabled implements control.Daemon.
func (d *daemon) SetDisabled(name string, disabled bool, by string) error {
	what := "enabled"
	if disabled {
		what = "disabled"
	}
	return d.userChanged(name, what, by, d.users.SetDisabled(name, disabled))
}

// DeleteUser is in users.go.

// Locks implements control.Daemon: every user's maildrop lock that is held.
func (d *daemon) Locks() ([]control.Lock, error) {
	holders := map[string]string{}
	for _, in := range d.srv.Sessions() {
		if holdsLock(in) {
			holders[in.User] = in.ID
		}
	}
	stale := d.config().LockStale.Duration
	var out []control.Lock
	for _, u := range d.users.Users() {
		dir, err := d.maildirOf(u)
		if err != nil {
			continue
		}
		li, ok, err := maildir.ReadLock(dir)
		if err != nil || !ok {
			continue
		}
		out = append(out, control.Lock{User: u.Name, Session: holders[u.Name], Owner: li.Owner, Host: li.Host,
			PID: li.PID, Since: li.Since, Refreshed: li.Refreshed, Stale: time.Since(li.Refreshed) > stale})
	}
	return out, nil
}

// Unlock implements control.Daemon. A lock held by a session of this popd
// is released by kicking that session (no UPDATE); any other is removed
// from the maildir.
func (d *daemon) Unlock(user, by string) error {
	dir, err := d.lookup(user)
	if err != nil {
		return err
	}
	if _, ok, _ := maildir.ReadLock(dir); !ok {
		return notFound("the maildrop of %q is not locked", user)
	}
	if n, _ := d.KickUser(user, by); n > 0 {
		for range 100 { // the session releases it as it closes
			if _, ok, _ := maildir.ReadLock(dir); !ok {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := maildir.BreakLock(dir); err != nil {
		return err
	}
	d.log.Warn("maildrop unlocked", "user", user, "by", by)
	d.publish(event.Event{Type: event.Unlocked, User: user, By: by})
	return nil
}
