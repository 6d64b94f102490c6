package daemon

import (
	"fmt"
	"net/netip"
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
	for _, in := range infos {
		out = append(out, control.Session{
			ID: in.ID, User: in.User, Remote: in.RemoteAddr, Local: in.LocalAddr, TLS: in.TLS,
			State: in.State.String(), LastCommand: in.LastCommand, Retrieved: in.Retrieved,
			Octets: in.Octets, Since: in.Since, Idle: time.Since(in.LastActive),
			Locked: holdsLock(in),
		})
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
		cu := control.User{Name: u.Name, Scheme: u.Scheme, Disabled: u.Disabled, LastLogin: d.srv.LastLogin(u.Name)}
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

// DeleteUser implements control.Daemon. Mail is kept unless purgeMail, and
// never purged while a session holds the maildrop.
func (d *daemon) DeleteUser(name string, purgeMail bool, by string) error {
	dir, err := d.lookup(name)
	if err != nil {
		return err
	}
	if _, locked, _ := maildir.ReadLock(dir); purgeMail && locked {
		return &control.Error{Code: control.CodeConflict, Message: fmt.Sprintf("the maildrop of %q is locked by a session; kick it first", name)}
	}
	if err := d.users.Delete(name); err != nil {
		return accounts.ControlError(err)
	}
	d.KickUser(name, by)
	what := "deleted"
	if purgeMail {
		what = "deleted with mail"
		if err := maildir.Purge(dir); err != nil {
			d.userChanged(name, "deleted", by, nil)
			return fmt.Errorf("user deleted, but removing the maildrop failed: %w", err)
		}
	}
	return d.userChanged(name, what, by, nil)
}

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

// Penalties implements control.Daemon.
func (d *daemon) Penalties() []control.Penalty {
	var out []control.Penalty
	for _, p := range d.srv.Penalties() {
		out = append(out, control.Penalty(p))
	}
	return out
}

// ClearPenalty implements control.Daemon.
func (d *daemon) ClearPenalty(src, by string) error {
	p, err := netip.ParsePrefix(src)
	if err != nil {
		a, aerr := netip.ParseAddr(src)
		if aerr != nil {
			return &control.Error{Code: control.CodeInvalid, Message: fmt.Sprintf("not an address or prefix: %q", src)}
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	d.srv.ClearPenalty(p)
	d.log.Info("penalty cleared", "source", p.Masked().String(), "by", by)
	return nil
}
