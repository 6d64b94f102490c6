package server

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"popd/internal/pop3"
	"popd/internal/sasl"
	"popd/internal/userdb"
)

var (
	_ pop3.SASLBackend = (*backend)(nil)
	_ pop3.APOPBackend = (*backend)(nil)
	_ pop3.SASLAborter = (*penalizedSASL)(nil)
)

// Mechanisms implements pop3.SASLBackend. CRAM-MD5 needs a plaintext-
// equivalent secret, so it is offered only with -apop.
func (b *backend) Mechanisms(pop3.ConnInfo) []string {
	if b.settings().apop {
		return []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"}
	}
	return []string{"PLAIN", "LOGIN", "SCRAM-SHA-256"}
}

// NewSASL implements pop3.SASLBackend: a mechanism from package sasl whose
// failures, and exchanges the client abandons, are answered like any failed
// login (delay, penalty).
func (b *backend) NewSASL(ctx context.Context, c pop3.ConnInfo, name string) (pop3.SASL, error) {
	m, err := sasl.New(name, credentials{b}, nil, b.settings().hostname)
	if err != nil {
		return nil, err
	}
	return &penalizedSASL{Mechanism: m, b: b, ctx: ctx, c: c}, nil
}

type penalizedSASL struct {
	sasl.Mechanism
	b   *backend
	ctx context.Context
	c   pop3.ConnInfo
}

func (p *penalizedSASL) Next(resp []byte) ([]byte, bool, error) {
	start := time.Now()
	ch, done, err := p.Mechanism.Next(resp)
	if err != nil {
		return nil, true, p.b.failed(p.ctx, p.c, start, p.Attempted())
	}
	return ch, done, nil
}

// Abort implements pop3.SASLAborter: an exchange cancelled with "*" (or cut
// short by a garbled response) is a failed attempt, or a client could
// probe, and make the server derive SCRAM keys, for free.
func (p *penalizedSASL) Abort() {
	p.b.failed(p.ctx, p.c, time.Now(), p.Attempted())
}

// OpenAuthenticated implements pop3.SASLBackend.
func (b *backend) OpenAuthenticated(ctx context.Context, c pop3.ConnInfo, name string) (pop3.Mailbox, error) {
	u, ok := b.users.Lookup(name)
	if !ok || u.Disabled || !u.Usable() {
		return nil, b.failed(ctx, c, time.Now(), name)
	}
	return b.open(ctx, c, u)
}

// credentials gives the SASL mechanisms the users' secrets.
type credentials struct{ b *backend }

func (c credentials) Verify(user, password string) error {
	_, err := c.b.verify(user, password)
	return err
}

// Plaintext is for CRAM-MD5: only with -apop, only for {PLAIN} secrets.
func (c credentials) Plaintext(user string) (string, bool) {
	u, ok := c.b.users.Lookup(user)
	if !ok || !c.b.settings().apop || !u.AllowsCleartextEquivalent() {
		return "", false
	}
	return u.Plaintext()
}

// SCRAM gives every name credentials of the same shape and cost: the
// user's own, or userdb's stand-ins (see userdb.File.SCRAM).
func (c credentials) SCRAM(user string) (sasl.SCRAMCredentials, bool) {
	it, salt, stored, server, known := c.b.users.SCRAM(user)
	return sasl.SCRAMCredentials{Iterations: it, Salt: salt, StoredKey: stored, ServerKey: server}, known
}

// APOPEnabled implements pop3.APOPBackend: with -apop, when some user has
// a secret APOP can use.
func (b *backend) APOPEnabled() bool { return b.settings().apop && b.apopUsers.Load() }

// refreshAPOP notes whether any user can use APOP; called on every reload.
func (b *backend) refreshAPOP() {
	for _, u := range b.users.Users() {
		if u.AllowsCleartextEquivalent() {
			b.apopUsers.Store(true)
			return
		}
	}
	b.apopUsers.Store(false)
}

// LoginAPOP implements pop3.APOPBackend (RFC 1939 §7): digest is the MD5
// of the timestamp and the shared secret, in lower-case hex.
func (b *backend) LoginAPOP(ctx context.Context, c pop3.ConnInfo, name, timestamp, digest string) (pop3.Mailbox, error) {
	start := time.Now()
	u, ok := b.checkAPOP(name, timestamp, digest)
	if !ok {
		return nil, b.failed(ctx, c, start, name)
	}
	return b.open(ctx, c, u)
}

// checkAPOP checks an APOP digest (lower-case hex) of timestamp for the
// user called name, who must have a {PLAIN} secret and not be disabled.
func (b *backend) checkAPOP(name, timestamp, digest string) (userdb.User, bool) {
	var u userdb.User
	secret, ok := "", false
	if userdb.ValidName(name) == nil {
		if u, ok = b.users.Lookup(name); ok && u.AllowsCleartextEquivalent() {
			secret, ok = u.Plaintext()
		} else {
			ok = false
		}
	}
	sum := md5.Sum([]byte(timestamp + secret)) // computed either way
	match := subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(digest)) == 1
	return u, ok && match && !u.Disabled
}

// checkCRAM checks a CRAM-MD5 response of challenge for the user called
// name (RFC 2195 §2: the HMAC-MD5 of the challenge keyed with the shared
// secret, in hex) like checkAPOP: a {PLAIN} user, not disabled. A name
// without a usable secret gets the same work done with a dummy one.
func (b *backend) checkCRAM(name, challenge, digest string) (userdb.User, bool) {
	var u userdb.User
	secret, ok := "", false
	if userdb.ValidName(name) == nil {
		if u, ok = b.users.Lookup(name); ok {
			secret, ok = u.Plaintext()
		}
	}
	if !ok {
		secret = "popd-cram-md5-dummy-secret"
	}
	mac := hmac.New(md5.New, []byte(secret))
	mac.Write([]byte(challenge))
	match := subtle.ConstantTimeCompare([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(strings.ToLower(digest))) == 1
	return u, ok && match && !u.Disabled
}
