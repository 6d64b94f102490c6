package daemon

import (
	"errors"
	"fmt"
	"time"

	"popd/internal/accounts"
	"popd/internal/control"
	"popd/internal/maildir"
)

// One user's details for the console's drill-down, and deleting a user
// with what that does to their sessions and mail.

var (
	_ control.UserDetailer = (*daemon)(nil)
	_ control.UserDeleter  = (*daemon)(nil)
)

// lastLogin is name's last login, zero when none is known.
func (d *daemon) lastLogin(name string) lastLogin {
	ll, _ := d.last.get(name)
	return ll
}

// UserDetails implements control.UserDetailer. The maildrop is counted as
// for the users list (maildir.Usage: kept while its folders do not
// change), so a large one is not read each time the console asks.
func (d *daemon) UserDetails(name string) (control.UserDetails, error) {
	u, ok := d.users.Lookup(name)
	if !ok {
		return control.UserDetails{}, notFound("no user %q", name)
	}
	ll := d.lastLogin(name)
	out := control.UserDetails{
		User:          control.User{Name: u.Name, Scheme: u.Scheme, Disabled: u.Disabled, LastLogin: ll.At},
		LastLoginFrom: ll.Remote, LastLoginMethod: ll.Method,
	}
	holder := ""
	for _, s := range d.Sessions() {
		if s.User != name {
			continue
		}
		out.Sessions = append(out.Sessions, s)
		if s.Locked {
			holder = s.ID
		}
	}
	dir, err := d.maildirOf(u)
	if err != nil {
		return out, nil // no maildrop to show: the users list shows it empty too
	}
	out.Messages, out.Octets = d.usage.Count(dir)
	if li, locked, err := maildir.ReadLock(dir); err == nil && locked {
		out.Locked = true
		out.Lock = &control.Lock{User: name, Session: holder, Owner: li.Owner, Host: li.Host, PID: li.PID,
			Since: li.Since, Refreshed: li.Refreshed, Stale: time.Since(li.Refreshed) > d.config().LockStale.Duration}
	}
	return out, nil
}

// DeleteUser implements control.Daemon: their sessions end.
func (d *daemon) DeleteUser(name string, purgeMail bool, by string) error {
	return d.DeleteUserWith(name, control.DeleteOptions{PurgeMail: purgeMail}, by)
}

// unlockWait is how long a purge waits for the sessions it ended to let
// go of the maildrop.
const unlockWait = 2 * time.Second

// DeleteUserWith implements control.UserDeleter. The user goes from the
// users file first, so that no new login comes; then their sessions end,
// unless opt keeps them. A purge ends them in any case and, once they
// have let go of the maildrop's lock, removes it. A lock that no session
// of this popd holds (another node's session, another program) is not
// broken: the delete is refused before anything changes.
func (d *daemon) DeleteUserWith(name string, opt control.DeleteOptions, by string) error {
	dir, err := d.lookup(name)
	if err != nil {
		return err
	}
	if li, locked, _ := maildir.ReadLock(dir); opt.PurgeMail && locked && !d.holdsMaildrop(name) {
		return &control.Error{Code: control.CodeConflict, Message: fmt.Sprintf(
			"the maildrop of %q is locked by %s, not by a session of this popd; nothing was deleted (unlock it, or ask the node whose session holds it)", name, lockHolder(li))}
	}
	if err := d.users.Delete(name); err != nil {
		return accounts.ControlError(err)
	}
	if opt.PurgeMail || !opt.KeepSessions {
		d.KickUser(name, by)
	}
	if !opt.PurgeMail {
		return d.userChanged(name, "deleted", by, nil)
	}
	waitUnlocked(dir, unlockWait)
	if err := maildir.Purge(dir); err != nil {
		d.userChanged(name, "deleted", by, nil)
		if errors.Is(err, maildir.ErrLocked) {
			return &control.Error{Code: control.CodeConflict, Message: fmt.Sprintf(
				"user %q deleted, but their mail is kept: the maildrop is still locked; unlock it and delete it by hand", name)}
		}
		return fmt.Errorf("user deleted, but removing the maildrop failed: %w", err)
	}
	return d.userChanged(name, "deleted with mail", by, nil)
}

// holdsMaildrop says whether a session of this popd holds name's
// maildrop.
func (d *daemon) holdsMaildrop(name string) bool {
	for _, in := range d.srv.Sessions() {
		if in.User == name && holdsLock(in) {
			return true
		}
	}
	return false
}

// waitUnlocked waits up to within for dir's lock to go.
func waitUnlocked(dir string, within time.Duration) {
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, ok, _ := maildir.ReadLock(dir); !ok {
			return
		}
	}
}

// lockHolder says who holds a lock, for a message.
func lockHolder(li maildir.LockInfo) string {
	if li.Host == "" && li.PID == 0 {
		return li.Owner
	}
	return fmt.Sprintf("%s (%s pid %d)", li.Owner, li.Host, li.PID)
}
