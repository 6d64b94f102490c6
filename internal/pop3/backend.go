package pop3

import (
	"context"
	"io"
	"net"
)

// Backend is what a Session needs from the rest of popd: a way to turn
// credentials into an open, exclusively locked maildrop. The protocol package
// knows nothing of disks or user files; the server package supplies a Backend.
type Backend interface {
	// Login checks the credentials and, when they are good, opens the
	// maildrop, taking its exclusive lock (RFC 1939 §4) before returning.
	// Errors that the client should see are *Error values (ErrAuth,
	// ErrInUse, ...); any other error is logged and answered with a generic
	// -ERR [SYS/TEMP].
	Login(ctx context.Context, c ConnInfo, username, password string) (Mailbox, error)
}

// ConnInfo describes the client side of a session, for the Backend's logs and
// policies.
type ConnInfo struct {
	SessionID  string
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	TLS        bool
	// TrustedPlaintext lets passwords cross this connection in clear even
	// under Config.RequireTLS: whoever accepted the connection trusts its
	// peer to have protected the client's side (a mail proxy that logs in
	// for clients it served over TLS). The session judges no addresses.
	TrustedPlaintext bool
	// Probe marks a proxy's health check (a PROXY header for the proxy's
	// own connection): its session end is logged at debug level when it
	// did not log in.
	Probe bool
}

// Mailbox is an open, locked maildrop as a POP3 session sees it: a fixed list
// of messages indexed 0..Count()-1 for the whole session. (Message number n on
// the wire is index n-1.)
type Mailbox interface {
	// Count is the number of messages in the maildrop when it was opened.
	Count() int
	// Size is the exact size of message i in octets as RETR sends it, before
	// byte-stuffing: every line ending is CRLF, and a last line without one
	// counts the CRLF that will be added (RFC 1939 §11 "exact size").
	// It returns an error when the size cannot be found (the file vanished).
	Size(i int) (int64, error)
	// UID is the unique-id listing of message i (RFC 1939 §7): 1-70 octets in
	// 0x21-0x7E, stable across sessions and restarts.
	UID(i int) string
	// Open returns message i in network form: exactly Size(i) octets, every
	// line ending in CRLF (an empty message yields nothing). The caller
	// byte-stuffs and terminates it.
	Open(i int) (io.ReadCloser, error)
	// Update is the UPDATE state (RFC 1939 §6): remove the messages in
	// deleted, mark the ones in retrieved as seen, then the caller Closes.
	// An error means some deleted messages were not removed.
	Update(deleted, retrieved []int) error
	// Close releases the lock without changing anything on disk.
	Close() error
}

// Pender is an optional add-on to Mailbox: Pending reports that Update left
// work to Close that need not keep the client (moving many messages to
// cur/ after the deletions were done). The session then answers QUIT before
// it calls Close; otherwise after, so that the client can log in again at
// once.
type Pender interface {
	Pending() bool
}

// SASLBackend is an optional add-on to Backend for AUTH (RFC 5034).
type SASLBackend interface {
	// Mechanisms lists the SASL mechanisms to offer on a connection.
	Mechanisms(c ConnInfo) []string
	// NewSASL starts an exchange with the named mechanism (upper case);
	// ctx ends with the session.
	NewSASL(ctx context.Context, c ConnInfo, mechanism string) (SASL, error)
	// OpenAuthenticated opens, locked, the maildrop of a user whom a SASL
	// exchange has authenticated. Errors are as for Login.
	OpenAuthenticated(ctx context.Context, c ConnInfo, user string) (Mailbox, error)
}

// SASL is one server-side SASL exchange.
type SASL interface {
	// Next takes the client's decoded response (nil when the client sent
	// no initial response) and returns the next challenge, or done. Done
	// with a nil error means authenticated as User(); an *Error is sent as
	// it is, any other error as -ERR [AUTH].
	Next(response []byte) (challenge []byte, done bool, err error)
	User() string
	// Attempted is the user name the client gave, for logging a failure.
	Attempted() string
}

// SASLAborter is an optional add-on to SASL. A session calls Abort when an
// exchange ends before the mechanism is done: the client cancelled it with
// "*" (RFC 5034 §4), or sent a response the session could not take (not
// base64, too long). The session counts it as a failed login; Abort is where
// the backend does what it does for one, such as a penalty delay (so that
// cancelling is no free way to probe). It may block until the session's
// context is done.
type SASLAborter interface {
	Abort()
}

// APOPBackend is an optional add-on to Backend for APOP (RFC 1939 §7).
type APOPBackend interface {
	// APOPEnabled reports whether APOP is offered (a timestamp in the
	// greeting): only when some user has a secret it can work with.
	APOPEnabled() bool
	// LoginAPOP checks digest = MD5(timestamp secret) and opens the
	// maildrop; errors are as for Login.
	LoginAPOP(ctx context.Context, c ConnInfo, user, timestamp, digest string) (Mailbox, error)
}
