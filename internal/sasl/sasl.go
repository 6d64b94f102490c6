package sasl

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Errors returned by Mechanism.Next when an exchange ends without
// authentication, and by New. Callers compare with errors.Is: the returned
// errors may wrap these with more detail (never a secret).
var (
	// ErrAuthFailed: the credentials are wrong, or the user is unknown or
	// has no secret the mechanism can use. When Credentials.Verify refused
	// the password, its error is wrapped too, so that the caller can tell,
	// say, a disabled user from a wrong password.
	ErrAuthFailed = errors.New("sasl: authentication failed")
	// ErrMalformed: the client's response does not follow the mechanism's
	// syntax, is longer than MaxResponseLen, or asks for something popd does
	// not offer (SCRAM channel binding).
	ErrMalformed = errors.New("sasl: malformed response")
	// ErrAuthz: the client asked to act as an authorization identity other
	// than the one it authenticates as; popd allows none.
	ErrAuthz = errors.New("sasl: authorization identity not allowed")
	// ErrUnknownMechanism: New was given a name not in Names.
	ErrUnknownMechanism = errors.New("sasl: unknown mechanism")
)

// errFinished is returned by Next called again after the exchange was over.
var errFinished = errors.New("sasl: exchange already finished")

// MaxResponseLen is the longest client response, in bytes after base64
// decoding, that a mechanism accepts.
const MaxResponseLen = 8 << 10

// Names lists the supported mechanisms, as advertised in the CAPA SASL line.
var Names = []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"}

// Credentials is how mechanisms reach user secrets (the server implements
// it with userdb). Its methods must be safe for concurrent use.
type Credentials interface {
	// Verify checks a plaintext password (PLAIN, LOGIN). Returns nil or an
	// error.
	Verify(user, password string) error
	// Plaintext returns the user's plaintext-equivalent secret, ok=false if
	// the user has none or doesn't exist (CRAM-MD5).
	Plaintext(user string) (secret string, ok bool)
	// SCRAM returns the user's stored SCRAM-SHA-256 credentials (ok=false
	// if none / unknown user). With ok=false, c may hold stand-ins for the
	// mechanism to go on with until the proof fails (RFC 5802 §5.1); they
	// should look like, and cost as much as, a real user's. Without them
	// the mechanism makes up its own.
	SCRAM(user string) (c SCRAMCredentials, ok bool)
}

// Mechanism is one server-side SASL exchange. It is not safe for concurrent
// use.
type Mechanism interface {
	// Next takes the client's response (nil for "no initial response",
	// empty non-nil for an empty one) and returns the next challenge;
	// done=true when finished (then err==nil means authenticated).
	Next(response []byte) (challenge []byte, done bool, err error)
	// User is the authenticated user once done without error (the
	// authorization identity; authzid != authcid is refused with ErrAuthz
	// unless authzid is empty), and "" before that or after a failure.
	User() string
	// Attempted is the user name the client gave, once it has, whether
	// the exchange succeeded or not: for logs of failed logins. It is the
	// client's word, not an authenticated identity.
	Attempted() string
}

var (
	_ Mechanism = (*plainMech)(nil)
	_ Mechanism = (*loginMech)(nil)
	_ Mechanism = (*cramMD5)(nil)
	_ Mechanism = (*scramMech)(nil)
)

// New starts an exchange of the mechanism called name (case-insensitive, one
// of Names), checking secrets through creds. serverNonce makes the random
// part of the CRAM-MD5 challenge and the SCRAM server nonce: 1 to 256
// characters of printable ASCII without ",", "<", ">", "@" or spaces (an
// exchange given another fails with a non-sentinel error); nil means 18 bytes from crypto/rand
// in unpadded base64url. challengeHost is the host name in the CRAM-MD5
// challenge ("" means "localhost").
func New(name string, creds Credentials, serverNonce func() string, challengeHost string) (Mechanism, error) {
	if serverNonce == nil {
		serverNonce = randomNonce
	}
	if challengeHost == "" {
		challengeHost = "localhost"
	}
	switch strings.ToUpper(name) {
	case "PLAIN":
		return &plainMech{creds: creds}, nil
	case "LOGIN":
		return &loginMech{creds: creds}, nil
	case "CRAM-MD5":
		return newCRAMMD5(creds, serverNonce, challengeHost), nil
	case "SCRAM-SHA-256":
		return &scramMech{creds: creds, nonce: serverNonce}, nil
	}
	// The name came from the client: it is not put in the error.
	return nil, ErrUnknownMechanism
}

// randomNonce returns 18 random bytes in unpadded base64url (24 characters).
func randomNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validNonce reports whether s is a usable server nonce: printable ASCII
// without ",", "<", ">" or "@" (RFC 5802 §7 "printable"; RFC 2195's msg-id).
func validNonce(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == ',' || c == '<' || c == '>' || c == '@' {
			return false
		}
	}
	return true
}

// validIdentity reports whether an authentication or authorization identity
// can be handed to Credentials: UTF-8 without NUL (RFC 4422 §4: identities
// are UTF-8 strings).
func validIdentity(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// authFailed wraps an error from Credentials.Verify with ErrAuthFailed.
func authFailed(err error) error {
	if errors.Is(err, ErrAuthFailed) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrAuthFailed, err)
}

// state is what every mechanism keeps about the end of its exchange.
type state struct {
	done      bool
	user      string
	attempted string
}

func (s *state) User() string { return s.user }

func (s *state) Attempted() string { return s.attempted }

// fail ends the exchange with err.
func (s *state) fail(err error) ([]byte, bool, error) {
	s.done = true
	s.user = ""
	return nil, true, err
}

// succeed ends the exchange with user authenticated.
func (s *state) succeed(user string) ([]byte, bool, error) {
	s.done = true
	s.user = user
	return nil, true, nil
}

// start is the common check at the top of Next.
func (s *state) start(response []byte) error {
	if s.done {
		return errFinished
	}
	if len(response) > MaxResponseLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxResponseLen)
	}
	return nil
}

// malformed wraps ErrMalformed with a reason (never the client's bytes).
func malformed(why string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, why)
}
