package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// SCRAMCredentials is what a SCRAM-SHA-256 server stores for a user
// (RFC 5802 §3): the salt and iteration count given to the client, and the
// two keys derived from the salted password. StoredKey and ServerKey are
// secrets: String, GoString and LogValue never show them.
type SCRAMCredentials struct {
	Iterations           int
	Salt                 []byte
	StoredKey, ServerKey []byte
}

// fakeIterations is the iteration count of the fake credentials of unknown
// users when Credentials gives no stand-ins: the one userdb uses for new
// hashes and for PLAIN users.
const fakeIterations = 4096

// DeriveSCRAM derives SCRAM-SHA-256 credentials from a password (RFC 5802 §3,
// RFC 7677):
//
//	SaltedPassword := Hi(password, salt, i)   ; PBKDF2-HMAC-SHA-256
//	ClientKey      := HMAC(SaltedPassword, "Client Key")
//	StoredKey      := H(ClientKey)
//	ServerKey      := HMAC(SaltedPassword, "Server Key")
//
// The password is used as given, without SASLprep, as Dovecot does.
// userdb has the same derivation for its {SCRAM-SHA-256} hashes; the tests
// check that the two agree. With iterations below 1 (or should PBKDF2 ever
// fail) the keys are nil, and match no proof.
func DeriveSCRAM(password string, salt []byte, iterations int) SCRAMCredentials {
	c := SCRAMCredentials{Iterations: iterations, Salt: bytes.Clone(salt)}
	if iterations < 1 {
		return c
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return c
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	c.StoredKey = stored[:]
	c.ServerKey = hmacSHA256(salted, "Server Key")
	return c
}

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// String shows the iteration count only.
func (c SCRAMCredentials) String() string {
	return fmt.Sprintf("SCRAMCredentials{Iterations: %d}", c.Iterations)
}

// GoString keeps %#v from printing the keys.
func (c SCRAMCredentials) GoString() string { return "sasl." + c.String() }

// LogValue keeps slog from printing the keys.
func (c SCRAMCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("iterations", c.Iterations))
}

// usable reports whether c can check a proof.
func (c SCRAMCredentials) usable() bool {
	return c.Iterations >= 1 && len(c.Salt) > 0 &&
		len(c.StoredKey) == sha256.Size && len(c.ServerKey) == sha256.Size
}

// fakeKey keys the fake credentials of unknown users. It is random per
// process: the fake salt of a name stays the same for as long as popd runs.
var fakeKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
})

// fakeSCRAM returns credentials for a user who has none, when Credentials
// gives no stand-ins: deterministic for the name, unknown to anyone, and
// costing the derivation a PLAIN user's credentials cost (RFC 5802 §5.1: a
// server SHOULD go on with the exchange for an unknown user, and fail it at
// the proof).
func fakeSCRAM(user string) SCRAMCredentials {
	mac := hmac.New(sha256.New, fakeKey())
	mac.Write([]byte("popd fake SCRAM password\x00" + user))
	password := base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
	mac.Reset()
	mac.Write([]byte("popd fake SCRAM salt\x00" + user))
	return DeriveSCRAM(password, mac.Sum(nil)[:16], fakeIterations)
}

// scramMech is SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding.
type scramMech struct {
	state
	creds Credentials
	nonce func() string

	step  int  // 0: waiting for client-first; 1: for client-final; 2: for the empty reply
	asked bool // the empty challenge for client-first was sent

	name            string // authentication identity, unescaped
	gs2Header       string // "n,," or "y,," (with "a=..." when given)
	clientFirstBare string
	serverFirst     string
	fullNonce       string // c-nonce + s-nonce
	cred            SCRAMCredentials
	known           bool // cred are the user's own, not fake
}

func (m *scramMech) Next(response []byte) ([]byte, bool, error) {
	if err := m.start(response); err != nil {
		return m.fail(err)
	}
	switch m.step {
	case 0:
		// RFC 5802 §5 / RFC 4422 §5: SCRAM is client-first; without an
		// initial response the server sends an empty challenge.
		if response == nil && !m.asked {
			m.asked = true
			return []byte{}, false, nil
		}
		return m.clientFirst(string(response))
	case 1:
		return m.clientFinal(string(response))
	default:
		// RFC 5034 §4: POP3 has no "additional data with success", so the
		// server-final message went as a challenge; the client answers it
		// with an empty response.
		if len(response) != 0 {
			return m.fail(malformed("SCRAM: non-empty response to server-final"))
		}
		return m.succeed(m.name)
	}
}

// clientFirst handles client-first-message and returns server-first-message.
func (m *scramMech) clientFirst(msg string) ([]byte, bool, error) {
	// RFC 5802 §7:
	//	client-first-message = gs2-header client-first-message-bare
	//	gs2-header      = gs2-cbind-flag "," [ authzid ] ","
	//	gs2-cbind-flag  = ("p=" cb-name) / "n" / "y"
	//	authzid         = "a=" saslname
	//	client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
	if !utf8.ValidString(msg) || strings.ContainsRune(msg, 0) {
		return m.fail(malformed("SCRAM: client-first not UTF-8"))
	}
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return m.fail(malformed("SCRAM: no GS2 header"))
	}
	switch {
	case flag == "n":
		// The client does not support channel binding.
	case flag == "y":
		// The client supports channel binding but thinks the server does
		// not. That is true (popd does not offer SCRAM-SHA-256-PLUS), so
		// this is no downgrade (RFC 5802 §6).
	case strings.HasPrefix(flag, "p="):
		return m.fail(malformed("SCRAM: channel binding is not supported"))
	default:
		return m.fail(malformed("SCRAM: bad GS2 channel-binding flag"))
	}
	a, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return m.fail(malformed("SCRAM: GS2 header not terminated"))
	}
	var authzid string
	if a != "" {
		v, ok := strings.CutPrefix(a, "a=")
		if !ok {
			return m.fail(malformed("SCRAM: bad authzid"))
		}
		if authzid, ok = unescapeSASLName(v); !ok || authzid == "" {
			return m.fail(malformed("SCRAM: bad authzid"))
		}
	}
	m.gs2Header = msg[:len(msg)-len(bare)]
	m.clientFirstBare = bare

	attrs := strings.Split(bare, ",")
	// RFC 5802 §5.1: "m" is reserved; its presence MUST fail the exchange.
	if strings.HasPrefix(attrs[0], "m=") {
		return m.fail(malformed("SCRAM: mandatory extension not supported"))
	}
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return m.fail(malformed("SCRAM: client-first needs n= and r="))
	}
	// RFC 5802 §5.1: '=' not followed by "2C" or "3D" MUST fail.
	name, ok := unescapeSASLName(attrs[0][2:])
	if !ok || name == "" {
		return m.fail(malformed("SCRAM: bad user name"))
	}
	cnonce := attrs[1][2:]
	if !printable(cnonce) {
		return m.fail(malformed("SCRAM: bad client nonce"))
	}
	if !validExtensions(attrs[2:]) {
		return m.fail(malformed("SCRAM: bad extension"))
	}
	m.attempted = name
	// popd lets users act only as themselves.
	if authzid != "" && authzid != name {
		return m.fail(ErrAuthz)
	}
	m.name = name

	// RFC 5802 §5.1: an unknown user goes on, with credentials nobody
	// knows, to fail at the proof. Credentials' own stand-ins come first:
	// the user database makes them like a PLAIN user's, at the cost of one,
	// and a second derivation here would give the name away.
	switch c, ok := m.creds.SCRAM(name); {
	case ok && c.usable():
		m.cred, m.known = c, true
	case c.usable():
		m.cred = c
	default:
		m.cred = fakeSCRAM(name)
	}
	snonce := m.nonce()
	if !validNonce(snonce) {
		return m.fail(errors.New("sasl: SCRAM: invalid server nonce"))
	}
	m.fullNonce = cnonce + snonce
	// RFC 5802 §7:
	//	server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
	m.serverFirst = "r=" + m.fullNonce +
		",s=" + base64.StdEncoding.EncodeToString(m.cred.Salt) +
		",i=" + strconv.Itoa(m.cred.Iterations)
	m.step = 1
	return []byte(m.serverFirst), false, nil
}

// clientFinal handles client-final-message and returns server-final-message.
func (m *scramMech) clientFinal(msg string) ([]byte, bool, error) {
	// RFC 5802 §7:
	//	client-final-message-without-proof = channel-binding "," nonce ["," extensions]
	//	client-final-message = client-final-message-without-proof "," proof
	//	channel-binding = "c=" base64  ; base64 of gs2-header [cbind-data]
	//	proof           = "p=" base64
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return m.fail(malformed("SCRAM: client-final has no proof"))
	}
	withoutProof := msg[:i]
	proof, err := base64.StdEncoding.Strict().DecodeString(msg[i+len(",p="):])
	if err != nil || len(proof) != sha256.Size {
		return m.fail(malformed("SCRAM: bad proof"))
	}
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return m.fail(malformed("SCRAM: client-final needs c= and r="))
	}
	// Without channel binding, c= is the GS2 header itself (RFC 5802 §6).
	cb, err := base64.StdEncoding.Strict().DecodeString(attrs[0][2:])
	if err != nil || string(cb) != m.gs2Header {
		return m.fail(malformed("SCRAM: channel binding does not match the GS2 header"))
	}
	if attrs[1][2:] != m.fullNonce {
		return m.fail(malformed("SCRAM: nonce mismatch"))
	}
	if !validExtensions(attrs[2:]) {
		return m.fail(malformed("SCRAM: bad extension"))
	}

	// RFC 5802 §3:
	//	AuthMessage     := client-first-message-bare + "," + server-first-message + "," + client-final-message-without-proof
	//	ClientSignature := HMAC(StoredKey, AuthMessage)
	//	ClientProof     := ClientKey XOR ClientSignature
	//	ServerSignature := HMAC(ServerKey, AuthMessage)
	// The server recovers ClientKey from the proof and checks that its hash
	// is StoredKey.
	authMessage := m.clientFirstBare + "," + m.serverFirst + "," + withoutProof
	clientKey := hmacSHA256(m.cred.StoredKey, authMessage)
	subtle.XORBytes(clientKey, clientKey, proof)
	stored := sha256.Sum256(clientKey)
	match := subtle.ConstantTimeCompare(stored[:], m.cred.StoredKey) == 1
	if !match || !m.known {
		return m.fail(ErrAuthFailed)
	}
	m.step = 2
	serverSignature := hmacSHA256(m.cred.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), false, nil
}

// unescapeSASLName decodes a saslname (RFC 5802 §5.1, §7): "=2C" is ",",
// "=3D" is "=", any other "=" is an error, as is a raw ",".
func unescapeSASLName(s string) (string, bool) {
	if !strings.ContainsAny(s, "=,") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ',':
			return "", false
		case '=':
			switch {
			case strings.HasPrefix(s[i:], "=2C"):
				b.WriteByte(',')
			case strings.HasPrefix(s[i:], "=3D"):
				b.WriteByte('=')
			default:
				return "", false
			}
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// printable reports whether s is a non-empty RFC 5802 §7 "printable":
// %x21-2B / %x2D-7E, that is visible ASCII except ",".
func printable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// validExtensions checks that each attribute is "ALPHA=value" (RFC 5802 §7
// attr-val); their meaning is ignored, as the RFC requires of unknown ones.
func validExtensions(attrs []string) bool {
	for _, a := range attrs {
		if len(a) < 2 || a[1] != '=' || !('a' <= a[0] && a[0] <= 'z' || 'A' <= a[0] && a[0] <= 'Z') {
			return false
		}
	}
	return true
}
