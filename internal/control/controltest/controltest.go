// Package controltest has an in-memory control.Daemon and a helper that
// serves it on a real Unix socket, for the tests of control's clients
// (popadm, the dashboard).
package controltest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
)

// Daemon is a control.Daemon holding its state in slices and maps. Its
// methods are safe for concurrent use. Administrative methods change the
// state, record a line in Calls ("kick 7 by uid 0 (root)"; never a
// password) and publish an event like popd's.
type Daemon struct {
	mu        sync.Mutex
	sessions  []control.Session
	users     map[string]control.User
	passwords map[string]string
	locks     []control.Lock
	penalties []control.Penalty
	stats     control.Stats
	calls     []string
	reloadErr error
	pub       control.Publisher
}

var _ control.Daemon = (*Daemon)(nil)

// NewDaemon returns an empty Daemon whose Stats say version "test".
func NewDaemon() *Daemon {
	return &Daemon{users: map[string]control.User{}, passwords: map[string]string{},
		stats: control.Stats{Version: "test", Uptime: time.Hour}}
}

// SetPublisher makes the Daemon publish its events to p.
func (d *Daemon) SetPublisher(p control.Publisher) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pub = p
}

// AddSession adds a live session.
func (d *Daemon) AddSession(s control.Session) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sessions = append(d.sessions, s)
}

// PutUser adds or replaces a user and their password.
func (d *Daemon) PutUser(u control.User, password string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[u.Name] = u
	d.passwords[u.Name] = password
}

// AddLock adds a held lock.
func (d *Daemon) AddLock(l control.Lock) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.locks = append(d.locks, l)
}

// AddPenalty adds a penalised source.
func (d *Daemon) AddPenalty(p control.Penalty) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.penalties = append(d.penalties, p)
}

// SetStats sets what Stats returns.
func (d *Daemon) SetStats(s control.Stats) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats = s
}

// FailReload makes Reload return err.
func (d *Daemon) FailReload(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reloadErr = err
}

// Password returns the password the user has now.
func (d *Daemon) Password(name string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	pw, ok := d.passwords[name]
	return pw, ok
}

// Calls returns the administrative calls made so far.
func (d *Daemon) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// record notes a call and publishes its event; d.mu is held.
func (d *Daemon) record(call string, e control.Event) {
	d.calls = append(d.calls, call)
	if d.pub != nil {
		e.Time = time.Now()
		d.pub.Publish(e)
	}
}

func notFound(format string, args ...any) error {
	return &control.Error{Code: control.CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Sessions implements control.Daemon.
func (d *Daemon) Sessions() []control.Session {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.sessions)
}

// Kick implements control.Daemon.
func (d *Daemon) Kick(id, by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.sessions, func(s control.Session) bool { return s.ID == id })
	if i < 0 {
		return notFound("no session %s", id)
	}
	s := d.sessions[i]
	d.sessions = slices.Delete(d.sessions, i, i+1)
	d.record("kick "+id+" by "+by, control.Event{Type: event.Kicked, Session: id, User: s.User, By: by})
	return nil
}

// KickUser implements control.Daemon.
func (d *Daemon) KickUser(user, by string) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	d.sessions = slices.DeleteFunc(d.sessions, func(s control.Session) bool {
		if s.User == user {
			n++
			d.record("kick "+s.ID+" by "+by, control.Event{Type: event.Kicked, Session: s.ID, User: user, By: by})
			return true
		}
		return false
	})
	return n, nil
}

// Users implements control.Daemon.
func (d *Daemon) Users() ([]control.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var us []control.User
	for _, u := range d.users {
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b control.User) int { return cmp.Compare(a.Name, b.Name) })
	return us, nil
}

// AddUser implements control.Daemon.
func (d *Daemon) AddUser(name, password, by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[name]; ok {
		return &control.Error{Code: control.CodeConflict, Message: fmt.Sprintf("user %q already exists", name)}
	}
	d.users[name] = control.User{Name: name, Scheme: "BLF-CRYPT"}
	d.passwords[name] = password
	d.record("user_add "+name+" by "+by, control.Event{Type: event.UserChanged, User: name, Reason: "added", By: by})
	return nil
}

// SetPassword implements control.Daemon.
func (d *Daemon) SetPassword(name, password, by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[name]; !ok {
		return notFound("no user %q", name)
	}
	d.passwords[name] = password
	d.record("user_passwd "+name+" by "+by, control.Event{Type: event.UserChanged, User: name, Reason: "password set", By: by})
	return nil
}

// DeleteUser implements control.Daemon.
func (d *Daemon) DeleteUser(name string, purgeMail bool, by string) error {
	return d.deleteUser(name, by, fmt.Sprintf("user_del %s purge=%t by %s", name, purgeMail, by))
}

// SetDisabled implements control.Daemon.
func (d *Daemon) SetDisabled(name string, disabled bool, by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[name]
	if !ok {
		return notFound("no user %q", name)
	}
	u.Disabled = disabled
	d.users[name] = u
	d.record(fmt.Sprintf("user_disable %s %t by %s", name, disabled, by), control.Event{Type: event.UserChanged, User: name, Reason: "disabled", By: by})
	return nil
}

// Locks implements control.Daemon.
func (d *Daemon) Locks() ([]control.Lock, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.locks), nil
}

// Unlock implements control.Daemon.
func (d *Daemon) Unlock(user, by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.locks, func(l control.Lock) bool { return l.User == user })
	if i < 0 {
		return notFound("the maildrop of %q is not locked", user)
	}
	d.locks = slices.Delete(d.locks, i, i+1)
	d.record("unlock "+user+" by "+by, control.Event{Type: event.Unlocked, User: user, By: by})
	return nil
}

// Penalties implements control.Daemon.
func (d *Daemon) Penalties() []control.Penalty {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.penalties)
}

// ClearPenalty implements control.Daemon.
func (d *Daemon) ClearPenalty(source, by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.penalties, func(p control.Penalty) bool { return p.Source == source })
	if i < 0 {
		return notFound("no penalty for %s", source)
	}
	p := d.penalties[i]
	d.penalties = slices.Delete(d.penalties, i, i+1)
	d.record("penalty_clear "+source+" by "+by, control.Event{Type: event.PenaltyCleared, Remote: source, Count: p.Failures, By: by})
	return nil
}

// Reload implements control.Daemon.
func (d *Daemon) Reload(by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reloadErr != nil {
		return d.reloadErr
	}
	d.record("reload by "+by, control.Event{Type: event.UsersReloaded, Count: len(d.users), By: by})
	return nil
}

// Stats implements control.Daemon.
func (d *Daemon) Stats() control.Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stats
	st.Sessions = len(d.sessions)
	return st
}

// Server is a control server running for a test.
type Server struct {
	*control.Server
	Path string // the socket
}

// Start serves d on a socket in a new temporary directory until the test
// ends, logging to t.Log. When d has a SetPublisher method, its events go
// to the server.
func Start(t testing.TB, d control.Daemon) *Server {
	t.Helper()
	// A short directory: socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "popd-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := control.ServerConfig{Path: filepath.Join(dir, "control.sock"), Version: "test", Logger: testutil.Log(t)}
	ln, err := control.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := control.NewServer(cfg, d)
	if p, ok := d.(interface{ SetPublisher(control.Publisher) }); ok {
		p.SetPublisher(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
	})
	return &Server{Server: srv, Path: cfg.Path}
}
