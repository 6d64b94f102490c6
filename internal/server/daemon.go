package server

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/maildir"
	"popd/internal/pop3"
	"popd/internal/userdb"
)

// Version is popd's version, reported by the control API.
const Version = "0.1.0"

var _ control.Daemon = (*Server)(nil)

// SetPublisher sends the server's events to p (the control server).
func (s *Server) SetPublisher(p control.Publisher) { s.pub.Store(&p) }

func (s *Server) publish(e control.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if p := s.pub.Load(); p != nil {
		(*p).Publish(e)
	}
}

// onSessionEvent turns a session's events into counters and control events.
func (s *Server) onSessionEvent(e pop3.Event) {
	switch e.Type {
	case event.Login:
		s.logins.add()
		s.be.recordLogin(e.User)
	case event.LoginFailed:
		s.failures.add()
	case event.SessionClosed:
		s.bytesClosed.Add(e.Octets)
	}
	s.publish(control.Event{Type: e.Type, Session: e.Session, User: e.User, Remote: e.Remote,
		Reason: e.Reason, Retrieved: e.Retrieved, Deleted: e.Deleted, Octets: e.Octets})
}

func notFound(format string, args ...any) error {
	return &control.Error{Code: control.CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

func invalid(err error) error {
	return &control.Error{Code: control.CodeInvalid, Message: err.Error()}
}

// Sessions implements control.Daemon.
func (s *Server) Sessions() []control.Session {
	infos := s.sessionInfos()
	out := make([]control.Session, 0, len(infos))
	for _, in := range infos {
		out = append(out, control.Session{
			ID: in.ID, User: in.User, Remote: in.RemoteAddr, Local: in.LocalAddr, TLS: in.TLS,
			State: in.State.String(), LastCommand: in.LastCommand, Retrieved: in.Retrieved,
			Octets: in.Octets, Since: in.Since, Idle: time.Since(in.LastActive),
			Locked: in.State == pop3.StateTransaction || in.State == pop3.StateUpdate,
		})
	}
	return out
}

const kickReason = "session ended by the administrator"

// Kick implements control.Daemon: the session is told -ERR [SYS/TEMP] and
// closed without UPDATE.
func (s *Server) Kick(id, by string) error {
	s.mu.Lock()
	sess, ok := s.sessions[id]
	s.mu.Unlock()
	if !ok {
		return notFound("no session %s", id)
	}
	in := sess.Info()
	sess.Stop(kickReason)
	s.log.Info("session kicked", "session", id, "user", in.User, "by", by)
	s.publish(control.Event{Type: event.Kicked, Session: id, User: in.User, Remote: in.RemoteAddr, By: by})
	return nil
}

// KickUser implements control.Daemon.
func (s *Server) KickUser(user, by string) (int, error) {
	n := 0
	for _, in := range s.sessionInfos() {
		if in.User == user && s.Kick(in.ID, by) == nil {
			n++
		}
	}
	return n, nil
}

// maildirOf locates a user's Maildir.
func (s *Server) maildirOf(name string) (userdb.User, string, error) {
	u, ok := s.be.users.Lookup(name)
	if !ok {
		return u, "", notFound("no user %q", name)
	}
	dir, err := MaildirPath(s.be.settings().template, u)
	return u, dir, err
}

// Users implements control.Daemon.
func (s *Server) Users() ([]control.User, error) {
	var out []control.User
	for _, u := range s.be.users.Users() {
		cu := control.User{Name: u.Name, Scheme: u.Scheme, Disabled: u.Disabled, LastLogin: s.be.lastLogin(u.Name)}
		if dir, err := MaildirPath(s.be.settings().template, u); err == nil {
			cu.Messages, cu.Octets = s.usage.get(dir)
			_, cu.Locked, _ = maildir.ReadLock(dir)
		}
		out = append(out, cu)
	}
	return out, nil
}

// usageCache remembers each maildrop's message count and size, keyed by
// the modification times of its new/ and cur/ folders, which every
// delivery, deletion and rename changes: the console polls the users list
// every second, and a large maildrop must not be re-read each time.
type usageCache struct {
	mu sync.Mutex
	m  map[string]usage
}

type usage struct {
	stamp    [2]time.Time // mtimes of new/ and cur/
	messages int
	octets   int64
}

// get counts the messages in dir's new/ and cur/ and their file sizes,
// reading the folders only when they changed since the last count.
func (c *usageCache) get(dir string) (int, int64) {
	var stamp [2]time.Time
	for i, sub := range []string{"new", "cur"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil {
			stamp[i] = fi.ModTime()
		}
	}
	c.mu.Lock()
	u, ok := c.m[dir]
	c.mu.Unlock()
	if ok && u.stamp == stamp {
		return u.messages, u.octets
	}
	u = usage{stamp: stamp}
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				u.messages++
				u.octets += fi.Size()
			}
		}
	}
	// Folder times are coarse (a clock tick): a count made just after a
	// change might share its stamp with a change still to come, so only a
	// count of folders quiet for a while is kept.
	if time.Since(stamp[0]) > usageQuiet && time.Since(stamp[1]) > usageQuiet {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]usage{}
		}
		c.m[dir] = u
		c.mu.Unlock()
	}
	return u.messages, u.octets
}

// usageQuiet is how long a maildrop's folders must have been unchanged for
// its count to be kept.
const usageQuiet = 2 * time.Second

// userChanged reloads the users table at once after an edit, and tells.
func (s *Server) userChanged(name, what, by string) error {
	if err := s.be.users.Reload(); err != nil {
		s.log.Error("reloading users after an edit", "err", err)
	}
	s.be.refreshAPOP()
	s.log.Info("user changed", "user", name, "change", what, "by", by)
	s.publish(control.Event{Type: event.UserChanged, User: name, Reason: what, By: by})
	return nil
}

// userError gives userdb's errors their control code; the text loses its
// package prefix, since an operator reads it.
func userError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "userdb: ")
	switch {
	case errors.Is(err, userdb.ErrUnknownUser):
		return &control.Error{Code: control.CodeNotFound, Message: msg}
	case errors.Is(err, userdb.ErrUserExists):
		return &control.Error{Code: control.CodeConflict, Message: msg}
	case errors.Is(err, userdb.ErrInvalidName), errors.Is(err, userdb.ErrInvalidPassword):
		return &control.Error{Code: control.CodeInvalid, Message: msg}
	}
	return err
}

// AddUser implements control.Daemon.
func (s *Server) AddUser(name, password, by string) error {
	if err := s.be.users.Add(name, password); err != nil {
		return userError(err)
	}
	return s.userChanged(name, "added", by)
}

// SetPassword implements control.Daemon.
func (s *Server) SetPassword(name, password, by string) error {
	if err := s.be.users.SetPassword(name, password); err != nil {
		return userError(err)
	}
	return s.userChanged(name, "password set", by)
}

// SetDisabled implements control.Daemon.
func (s *Server) SetDisabled(name string, disabled bool, by string) error {
	if err := s.be.users.SetDisabled(name, disabled); err != nil {
		return userError(err)
	}
	what := "enabled"
	if disabled {
		what = "disabled"
	}
	return s.userChanged(name, what, by)
}

// DeleteUser implements control.Daemon. Mail is kept unless purgeMail, and
// never purged while a session holds the maildrop.
func (s *Server) DeleteUser(name string, purgeMail bool, by string) error {
	_, dir, err := s.maildirOf(name)
	if err != nil {
		return err
	}
	if purgeMail {
		if _, locked, _ := maildir.ReadLock(dir); locked {
			return &control.Error{Code: control.CodeConflict, Message: fmt.Sprintf("the maildrop of %q is locked by a session; kick it first", name)}
		}
	}
	if err := s.be.users.Delete(name); err != nil {
		return userError(err)
	}
	s.KickUser(name, by)
	if purgeMail {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("user deleted, but removing the maildrop failed: %w", err)
		}
	}
	what := "deleted"
	if purgeMail {
		what = "deleted with mail"
	}
	return s.userChanged(name, what, by)
}

// Locks implements control.Daemon: every user's maildrop lock that is held.
func (s *Server) Locks() ([]control.Lock, error) {
	holders := map[string]string{}
	for _, in := range s.sessionInfos() {
		if in.State == pop3.StateTransaction || in.State == pop3.StateUpdate {
			holders[in.User] = in.ID
		}
	}
	var out []control.Lock
	for _, u := range s.be.users.Users() {
		dir, err := MaildirPath(s.be.settings().template, u)
		if err != nil {
			continue
		}
		li, ok, err := maildir.ReadLock(dir)
		if err != nil || !ok {
			continue
		}
		out = append(out, control.Lock{User: u.Name, Session: holders[u.Name], Owner: li.Owner, Host: li.Host,
			PID: li.PID, Since: li.Since, Refreshed: li.Refreshed,
			Stale: time.Since(li.Refreshed) > s.be.settings().lock.StaleLock})
	}
	return out, nil
}

// Unlock implements control.Daemon. A lock held by a session of this
// popd is released by kicking that session (no UPDATE); any other is
// removed from the maildir.
func (s *Server) Unlock(user, by string) error {
	_, dir, err := s.maildirOf(user)
	if err != nil {
		return err
	}
	if _, ok, _ := maildir.ReadLock(dir); !ok {
		return notFound("the maildrop of %q is not locked", user)
	}
	if n, _ := s.KickUser(user, by); n > 0 {
		for i := 0; i < 100; i++ { // the session releases it as it closes
			if _, ok, _ := maildir.ReadLock(dir); !ok {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := maildir.BreakLock(dir); err != nil {
		return err
	}
	s.log.Warn("maildrop unlocked", "user", user, "by", by)
	s.publish(control.Event{Type: event.Unlocked, User: user, By: by})
	return nil
}

// Penalties implements control.Daemon.
func (s *Server) Penalties() []control.Penalty {
	var out []control.Penalty
	for _, p := range s.be.penalties.list() {
		out = append(out, control.Penalty(p))
	}
	return out
}

// ClearPenalty implements control.Daemon.
func (s *Server) ClearPenalty(src, by string) error {
	p, err := netip.ParsePrefix(src)
	if err != nil {
		a, aerr := netip.ParseAddr(src)
		if aerr != nil {
			return invalid(fmt.Errorf("not an address or prefix: %q", src))
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	s.be.penalties.succeed(p.Masked())
	s.log.Info("penalty cleared", "source", p.String(), "by", by)
	return nil
}

// SetConfigSource gives Reload a way to read the configuration again (the
// -config file and the command line).
func (s *Server) SetConfigSource(f func() (config.Config, error)) {
	s.reloadMu.Lock()
	s.cfgSource = f
	s.reloadMu.Unlock()
}

// Reload implements control.Daemon: the configuration (when there is a
// source for it), the users file and the certificate. Settings that can
// change live apply to new sessions; the others are named in the log as
// needing a restart. A configuration that does not validate changes
// nothing.
func (s *Server) Reload(by string) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	var errs []error
	if s.cfgSource != nil {
		cfg, err := s.cfgSource()
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			return &control.Error{Code: control.CodeInvalid, Message: "configuration not reloaded: " + err.Error()}
		}
		if restart := needsRestart(s.cfg, cfg); len(restart) > 0 {
			s.log.Warn("configuration reloaded; these changes need a restart", "settings", strings.Join(restart, ", "))
		}
		s.applyConfig(cfg)
	}
	if err := s.be.users.Reload(); err != nil {
		errs = append(errs, err)
	}
	s.be.refreshAPOP()
	if s.certs != nil {
		if err := s.certs.Reload(); err != nil {
			errs = append(errs, err)
		}
	}
	s.log.Info("reload", "by", by, "err", errors.Join(errs...))
	if len(errs) == 0 {
		s.publish(control.Event{Type: event.UsersReloaded, Count: len(s.be.users.Users()), By: by})
	}
	return errors.Join(errs...)
}

// Stats implements control.Daemon.
func (s *Server) Stats() control.Stats {
	infos := s.sessionInfos()
	bytes := s.bytesClosed.Load()
	for _, in := range infos {
		bytes += in.Octets
	}
	return control.Stats{
		Version: Version, Uptime: time.Since(s.started), Sessions: len(infos),
		Logins: s.logins.total(), Failures: s.failures.total(),
		LoginsPerMin: float64(s.logins.lastMinute()), FailuresPerMin: float64(s.failures.lastMinute()),
		BytesSent: bytes,
	}
}

// minuteCounter counts events in all and over the last minute (per-second
// buckets).
type minuteCounter struct {
	mu      sync.Mutex
	all     int64
	buckets [60]int64
	stamps  [60]int64
}

func (m *minuteCounter) add() {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.all++
	i := now % 60
	if m.stamps[i] != now {
		m.stamps[i], m.buckets[i] = now, 0
	}
	m.buckets[i]++
}

func (m *minuteCounter) total() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.all
}

func (m *minuteCounter) lastMinute() int64 {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for i := range m.buckets {
		if now-m.stamps[i] < 60 {
			n += m.buckets[i]
		}
	}
	return n
}

// applyConfig puts the live-changeable settings of cfg in force for new
// sessions and logins. Called with reloadMu held.
func (s *Server) applyConfig(cfg config.Config) {
	s.be.set.Store(newSettings(cfg, s.log))
	s.be.penalties.setLimits(cfg.AuthFailureDelay.Duration, cfg.AuthPenaltyMax.Duration)
	s.conns.setLimits(cfg.MaxConnections, cfg.MaxConnectionsPerIP)
	s.pop3.Store(s.pop3Config(cfg))
	s.be.refreshAPOP()
	s.cfg = cfg
}

// needsRestart names the settings that differ between old and new and
// that only take effect at start: sockets, files, identities, logging.
func needsRestart(old, new config.Config) []string {
	var out []string
	for _, f := range []struct {
		name     string
		old, new any
	}{
		{"listen", old.Listen, new.Listen}, {"listen-tls", old.ListenTLS, new.ListenTLS},
		{"users", old.Users, new.Users}, {"control", old.Control, new.Control},
		{"tls-cert", old.TLSCert, new.TLSCert}, {"tls-key", old.TLSKey, new.TLSKey},
		{"proxy-from", old.ProxyFrom, new.ProxyFrom}, {"metrics", old.Metrics, new.Metrics},
		{"user", old.User, new.User}, {"group", old.Group, new.Group}, {"allow-root", old.AllowRoot, new.AllowRoot},
		{"admin-group", old.AdminGroup, new.AdminGroup}, {"monitor-group", old.MonitorGroup, new.MonitorGroup},
		{"log-level", old.LogLevel, new.LogLevel}, {"log-format", old.LogFormat, new.LogFormat},
	} {
		if f.old != f.new {
			out = append(out, f.name)
		}
	}
	return out
}
