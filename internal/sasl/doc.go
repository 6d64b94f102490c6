// Package sasl implements the server side of the SASL mechanisms popd offers
// to the POP3 AUTH command (RFC 5034): PLAIN (RFC 4616), LOGIN
// (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195) and SCRAM-SHA-256
// (RFC 5802, RFC 7677).
//
// A Mechanism works on raw bytes: the caller (the pop3 package) decodes the
// client's base64 lines, hands them to Mechanism.Next, and base64-encodes
// the challenges it returns. Mechanisms reach user secrets only through the
// small Credentials interface, which the server implements with userdb.
//
// # Exchange
//
// The first call to Next carries the client's initial response, or nil when
// the AUTH command had none. Each call returns the next challenge, or
// done=true when the exchange is over: then a nil error means the client
// authenticated as Mechanism.User, and ErrAuthFailed, ErrMalformed or
// ErrAuthz (possibly wrapped) say why not. SCRAM-SHA-256 sends its
// server-final message ("v=...") as a challenge, as RFC 5034 §4 requires
// for POP3, and is done after the client's empty reply to it.
//
// # Security
//
// Secrets and proofs are compared with crypto/subtle (or hmac.Equal). An
// unknown user costs the same work as a known one and fails at the same
// step: CRAM-MD5 checks the digest against a dummy secret, and SCRAM
// continues with stand-in credentials (RFC 5802 §5.1): those Credentials
// gives (the server's come from userdb.File.SCRAM, which makes every name
// cost one key derivation), or else fake ones derived from a per-process
// random key and the user name, so that the salt and iteration count look
// like a real user's. Responses longer than MaxResponseLen are refused. No
// error returned by this package contains a password, a proof or any other
// secret.
//
// SCRAM passwords are not SASLprep-ed (RFC 4013): like Dovecot, which writes
// the hashes popd reads, popd hashes the password bytes as given. The two
// agree for every password a client does not change under SASLprep, which
// includes every printable ASCII password.
package sasl
