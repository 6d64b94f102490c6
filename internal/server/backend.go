package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"popd/internal/config"
	"popd/internal/maildir"
	"popd/internal/pop3"
	"popd/internal/userdb"
)

// backend turns credentials into an open maildrop: userdb checks the
// password, the template locates the Maildir, maildir locks and scans it.
// It also applies the login policies: failure delays growing per source,
// and LOGIN-DELAY.
type backend struct {
	users     *userdb.File
	penalties *penalties
	set       atomic.Pointer[settings] // swapped whole by a reload
	apopUsers atomic.Bool              // some user has a secret APOP can use
	log       *slog.Logger
	// onPenalty, if set, is told when a source's failures in a row grow
	// its delay.
	onPenalty func(source string, failures int, delay time.Duration)
	// hooks are told of lock waits and stale locks broken.
	hooks Hooks
	// checks times the password checks; a failure takes at least the
	// longest (see checkTimes).
	checks checkTimes
	// onFailure, if set (by tests), is told of each failed login: the name
	// tried, and how long after the attempt began it is answered.
	onFailure atomic.Pointer[func(user string, after time.Duration)]

	mu         sync.Mutex
	lastLogins map[string]time.Time // for LOGIN-DELAY and the console

	// held are the penalties to announce after their login.failed, by
	// session (hold); under mu.
	held map[string]penaltyNote
}

func (b *backend) recordLogin(user string) {
	b.mu.Lock()
	b.lastLogins[user] = time.Now()
	b.mu.Unlock()
}

func (b *backend) lastLogin(user string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastLogins[user]
}

// settings are the backend's parts of the configuration, replaced whole
// when the configuration is reloaded.
type settings struct {
	template   string // maildir template
	loginDelay time.Duration
	apop       bool
	hostname   string
	lock       maildir.Options
}

func newSettings(cfg config.Live, log *slog.Logger) *settings {
	return &settings{
		template:   cfg.Maildir,
		loginDelay: cfg.LoginDelay.Duration,
		apop:       cfg.APOP,
		hostname:   hostname(cfg),
		lock:       maildir.Options{StaleLock: cfg.LockStale.Duration, UIDLFormat: cfg.UIDLFormat, Logger: log},
	}
}

// hostname is cfg.Hostname, else the system's.
func hostname(cfg config.Live) string {
	if cfg.Hostname != "" {
		return cfg.Hostname
	}
	h, _ := os.Hostname()
	return h
}

func newBackend(users *userdb.File, log *slog.Logger, onPenalty func(string, int, time.Duration)) *backend {
	return &backend{
		users:      users,
		penalties:  newPenalties(),
		log:        log,
		onPenalty:  onPenalty,
		lastLogins: map[string]time.Time{},
		held:       map[string]penaltyNote{},
	}
}

// apply puts live settings in force for the logins to come.
func (b *backend) apply(live config.Live) {
	b.set.Store(newSettings(live, b.log))
	b.penalties.setLimits(live.AuthFailureDelay.Duration, live.AuthPenaltyMax.Duration)
	b.refreshAPOP()
}

func (b *backend) settings() *settings { return b.set.Load() }

func (b *backend) Login(ctx context.Context, c pop3.ConnInfo, name, password string) (pop3.Mailbox, error) {
	start := time.Now()
	u, err := b.checkPassword(name, password)
	if err != nil {
		return nil, b.failed(ctx, c, start, name)
	}
	return b.open(ctx, c, u)
}

// checkPassword is verify, and the log line that a user refused for what
// the users file says (its scheme, disabled) earns.
func (b *backend) checkPassword(name, password string) (userdb.User, error) {
	u, err := b.verify(name, password)
	switch {
	case errors.Is(err, userdb.ErrUnsupportedScheme):
		b.log.Warn("user has an unsupported password scheme; login refused", "user", name)
	case errors.Is(err, userdb.ErrDisabled):
		b.log.Info("login refused: user is disabled", "user", name)
	}
	return u, err
}

// verify is users.Verify, timed for checkTimes.
func (b *backend) verify(name, password string) (userdb.User, error) {
	start := time.Now()
	defer func() { b.checks.observe(time.Since(start)) }()
	return b.users.Verify(name, password)
}

// failed answers a failed login for user (the name the client gave, "" if
// none): the same [AUTH] error whether the user exists or not (RFC 3206 §4),
// after the same time from start — the failure delay, doubled with each
// failure in a row from the same source, and never less than the longest
// password check of late (checkTimes), so that a small -auth-failure-delay
// does not let the check's own time tell the names apart. Only this
// session's goroutine waits. The penalty the failure earns is told after
// the session has told the failure itself (held).
func (b *backend) failed(ctx context.Context, c pop3.ConnInfo, start time.Time, user string) error {
	delay, note := b.penalize(source(c.RemoteAddr), user)
	b.hold(c.SessionID, note)
	after := max(delay, b.checks.slowest())
	if f := b.onFailure.Load(); f != nil {
		(*f)(user, after)
	}
	wait(ctx, start.Add(after))
	return pop3.ErrAuth
}

// penalize records a failed login from src for user and returns the delay
// it earns — the source's delay before this failure (the failure delay,
// doubled for each failure in a row before it) — and the penalty to tell
// (announce) once the failure has been.
func (b *backend) penalize(src netip.Prefix, user string) (time.Duration, penaltyNote) {
	delay := b.penalties.delay(src)
	n, next := b.penalties.failAs(src, user)
	return delay, penaltyNote{source: src.String(), failures: n, next: next}
}

// penaltyNote is what a failed login did to its source's penalty.
type penaltyNote struct {
	source   string
	failures int // in a row, this one included
	next     time.Duration
}

// announce logs and publishes a penalty that grew: from a source's second
// failure in a row on. It comes after the failure's own log line and
// event, which it follows from.
func (b *backend) announce(n penaltyNote) {
	if n.failures < 2 {
		return
	}
	b.log.Info("login penalty", "source", n.source, "failures", n.failures, "next_delay", n.next)
	if b.onPenalty != nil {
		b.onPenalty(n.source, n.failures, n.next)
	}
}

// hold keeps a session's penalty note until the session has told its
// failed login (release); a session has one login at a time, so one note.
func (b *backend) hold(session string, n penaltyNote) {
	if session == "" {
		b.announce(n)
		return
	}
	b.mu.Lock()
	b.held[session] = n
	b.mu.Unlock()
}

// release announces the note held for session, if any: after its
// login.failed, or as it closes.
func (b *backend) release(session string) {
	b.mu.Lock()
	n, ok := b.held[session]
	delete(b.held, session)
	b.mu.Unlock()
	if ok {
		b.announce(n)
	}
}

// errLoginDelay: RFC 2449 §8.1.2.
var errLoginDelay = &pop3.Error{Code: "LOGIN-DELAY", Text: "minimum time between logins has not elapsed"}

// open opens u's maildrop for an authenticated session.
func (b *backend) open(ctx context.Context, c pop3.ConnInfo, u userdb.User) (pop3.Mailbox, error) {
	// The credentials were right, whatever happens to the maildrop.
	b.penalties.clearFor(source(c.RemoteAddr), u.Name)
	set := b.settings()
	if set.loginDelay > 0 {
		undo, ok := b.chargeLoginDelay(u.Name, set.loginDelay)
		if !ok {
			return nil, errLoginDelay
		}
		mb, err := b.openMaildrop(c, u, set)
		if err != nil {
			undo()
		}
		return mb, err
	}
	return b.openMaildrop(c, u, set)
}

// chargeLoginDelay starts user's LOGIN-DELAY (RFC 2449 §6.5, §8.1.2) now,
// or reports false while the last one runs. It is taken before the
// maildrop is opened, so that two racing logins cannot both pass; undo
// gives it back, for a login that did not get in (IN-USE, SYS/TEMP): the
// delay is between sessions, and a refused login had none, so a client
// that retries after [IN-USE] is not then told [LOGIN-DELAY] as well.
func (b *backend) chargeLoginDelay(user string, delay time.Duration) (undo func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	last, seen := b.lastLogins[user]
	if seen && time.Since(last) < delay {
		return nil, false
	}
	now := time.Now()
	b.lastLogins[user] = now
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch {
		case !b.lastLogins[user].Equal(now): // a later login got in meanwhile
		case seen:
			b.lastLogins[user] = last
		default:
			delete(b.lastLogins, user)
		}
	}, true
}

// openMaildrop locks and opens u's maildrop.
func (b *backend) openMaildrop(c pop3.ConnInfo, u userdb.User, set *settings) (pop3.Mailbox, error) {
	loc, err := maildir.Locate(set.template, u.Name, u.Home, u.Mail)
	if err != nil {
		b.log.Error("locating maildrop", "user", u.Name, "err", err)
		return nil, pop3.ErrPerm
	}
	opt := set.lock
	opt.Owner = fmt.Sprintf("popd session %s from %s", c.SessionID, addrString(c.RemoteAddr))
	opt.Control = loc.Control
	opt.LockWaited, opt.StaleLockBroken = b.hooks.LockWaited, b.hooks.StaleLockBroken
	mb, err := maildir.Open(loc.Path, opt)
	switch {
	case errors.Is(err, maildir.ErrLocked):
		return nil, pop3.ErrInUse
	case errors.Is(err, os.ErrPermission) || errors.Is(err, maildir.ErrUnsafe):
		b.log.Error("opening maildrop", "user", u.Name, "err", err)
		return nil, pop3.ErrPerm
	case err != nil:
		b.log.Error("opening maildrop", "user", u.Name, "err", err)
		return nil, pop3.ErrTemp
	}
	return mailbox{mb}, nil
}

// wait sleeps until t or until ctx is done.
func wait(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
