package controltest

import (
	"fmt"

	"popd/internal/control"
	"popd/internal/event"
)

var (
	_ control.UserDetailer = (*Daemon)(nil)
	_ control.UserDeleter  = (*Daemon)(nil)
)

// UserDetails implements control.UserDetailer: the user as PutUser gave
// them, their lock and their sessions.
func (d *Daemon) UserDetails(name string) (control.UserDetails, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[name]
	if !ok {
		return control.UserDetails{}, notFound("no user %q", name)
	}
	out := control.UserDetails{User: u}
	for _, l := range d.locks {
		if l.User == name {
			out.Lock = &l
			break
		}
	}
	for _, s := range d.sessions {
		if s.User == name {
			out.Sessions = append(out.Sessions, s)
		}
	}
	return out, nil
}

// DeleteUserWith implements control.UserDeleter.
func (d *Daemon) DeleteUserWith(name string, opt control.DeleteOptions, by string) error {
	return d.deleteUser(name, by, fmt.Sprintf("user_del %s purge=%t keep_sessions=%t by %s", name, opt.PurgeMail, opt.KeepSessions, by))
}

// deleteUser deletes name, recorded as call.
func (d *Daemon) deleteUser(name, by, call string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[name]; !ok {
		return notFound("no user %q", name)
	}
	delete(d.users, name)
	delete(d.passwords, name)
	d.record(call, control.Event{Type: event.UserChanged, User: name, Reason: "deleted", By: by})
	return nil
}
