// Package pop3test has in-memory doubles for testing POP3 sessions without
// disks, password hashes or the server package: a Backend with its users and
// their mailboxes, a Mailbox that records what UPDATE was asked to do and can
// fail on demand, and the client end of a session that reads like the
// examples of RFC 1939 (see Start).
package pop3test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"slices"
	"sync"

	"popd/internal/pop3"
)

var (
	_ pop3.Backend     = (*Backend)(nil)
	_ pop3.SASLBackend = (*Backend)(nil)
	_ pop3.APOPBackend = (*Backend)(nil)
)

// User is an account of a Backend.
type User struct {
	Password string
	// Secret is the APOP shared secret; empty, APOP fails for this user.
	Secret  string
	Mailbox *Mailbox
	// Err, when set, is what a login with good credentials gets instead of
	// the maildrop: pop3.ErrPerm, say, or a plain error the session must
	// not show the client.
	Err error
}

// Backend is an in-memory pop3.Backend with both add-ons: SASL, of which it
// implements PLAIN (RFC 4616), and APOP. Set its fields before sessions
// start and leave them alone while they run.
type Backend struct {
	Users map[string]*User
	// APOP is what APOPEnabled reports.
	APOP bool
	// Mechs is what Mechanisms offers. NewSASL starts "PLAIN" and fails for
	// any other name, so a test can offer a mechanism that cannot start.
	Mechs []string

	mu     sync.Mutex
	logins []Login
}

// Login is a successful login as the Backend saw it.
type Login struct {
	User   string
	Method string // "USER", "APOP" or "SASL"
	Conn   pop3.ConnInfo
}

// Logins returns the successful logins so far, oldest first.
func (b *Backend) Logins() []Login {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.logins)
}

// Login implements pop3.Backend.
func (b *Backend) Login(_ context.Context, c pop3.ConnInfo, username, password string) (pop3.Mailbox, error) {
	u := b.Users[username]
	if u == nil || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return nil, pop3.ErrAuth
	}
	return b.open(c, username, "USER", u)
}

// open hands out u's maildrop, locked, and records the login.
func (b *Backend) open(c pop3.ConnInfo, name, method string, u *User) (pop3.Mailbox, error) {
	if u.Err != nil {
		return nil, u.Err
	}
	if err := u.Mailbox.Lock(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.logins = append(b.logins, Login{User: name, Method: method, Conn: c})
	b.mu.Unlock()
	return u.Mailbox, nil
}

// APOPEnabled implements pop3.APOPBackend.
func (b *Backend) APOPEnabled() bool { return b.APOP }

// LoginAPOP implements pop3.APOPBackend (RFC 1939 §7).
func (b *Backend) LoginAPOP(_ context.Context, c pop3.ConnInfo, user, timestamp, digest string) (pop3.Mailbox, error) {
	u := b.Users[user]
	if !b.APOP || u == nil || u.Secret == "" || APOPDigest(timestamp, u.Secret) != digest {
		return nil, pop3.ErrAuth
	}
	return b.open(c, user, "APOP", u)
}

// APOPDigest is the digest a client sends with APOP: MD5 of the greeting's
// timestamp and the shared secret, in lower-case hex (RFC 1939 §7).
func APOPDigest(timestamp, secret string) string {
	sum := md5.Sum([]byte(timestamp + secret))
	return hex.EncodeToString(sum[:])
}

// Mechanisms implements pop3.SASLBackend.
func (b *Backend) Mechanisms(pop3.ConnInfo) []string { return b.Mechs }

// errNoMechanism is what NewSASL says to anything but PLAIN: the session
// must hide it behind a generic SYS/TEMP.
var errNoMechanism = errors.New("pop3test: only PLAIN is implemented")

// NewSASL implements pop3.SASLBackend.
func (b *Backend) NewSASL(_ context.Context, _ pop3.ConnInfo, mechanism string) (pop3.SASL, error) {
	if mechanism != "PLAIN" {
		return nil, errNoMechanism
	}
	return &plain{b: b}, nil
}

// OpenAuthenticated implements pop3.SASLBackend.
func (b *Backend) OpenAuthenticated(_ context.Context, c pop3.ConnInfo, user string) (pop3.Mailbox, error) {
	u := b.Users[user]
	if u == nil {
		return nil, pop3.ErrAuth
	}
	return b.open(c, user, "SASL", u)
}

// plain is the server side of SASL PLAIN (RFC 4616): one message,
// "authzid NUL authcid NUL passwd", the authzid empty or the authcid.
type plain struct {
	b               *Backend
	user, attempted string
}

// errMalformed is not a *pop3.Error: the session answers it as a failed
// login.
var errMalformed = errors.New("pop3test: malformed PLAIN message")

func (p *plain) Next(response []byte) ([]byte, bool, error) {
	if response == nil {
		return []byte{}, false, nil // RFC 4616 §2: an empty challenge
	}
	parts := bytes.Split(response, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return nil, false, errMalformed
	}
	authz, authc, pass := string(parts[0]), string(parts[1]), parts[2]
	p.attempted = authc
	u := p.b.Users[authc]
	if u == nil || (authz != "" && authz != authc) ||
		subtle.ConstantTimeCompare([]byte(u.Password), pass) != 1 {
		return nil, false, pop3.ErrAuth
	}
	p.user = authc
	return nil, true, nil
}

func (p *plain) User() string      { return p.user }
func (p *plain) Attempted() string { return p.attempted }
