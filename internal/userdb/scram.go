package userdb

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// SCRAM-SHA-256 secrets (RFC 5802, RFC 7677), written as Dovecot writes them
// (src/auth/password-scheme-scram.c):
//
//	{SCRAM-SHA-256}<iterations>,<base64 salt>,<base64 StoredKey>,<base64 ServerKey>
//
// in standard, padded base64. The derivation below is the same as
// sasl.DeriveSCRAM's (userdb does not import sasl); the sasl tests check
// that the two agree.

const (
	// scramIterations and scramSaltLen are what Hash and Dovecot use for
	// new hashes, and what User.SCRAM uses for PLAIN users.
	scramIterations = 4096
	scramSaltLen    = 16

	// Iteration counts accepted from the file. Dovecot refuses fewer than
	// 4096 (RFC 5802 §5.1's minimum). The maximum keeps a typo from making
	// every Verify spin for minutes; it is far above what a login can
	// afford.
	scramMinIterations = 4096
	scramMaxIterations = 10_000_000

	scramMaxSaltLen = 1024
)

// scramHash is a parsed {SCRAM-SHA-256} password field.
type scramHash struct {
	iterations int
	salt       []byte
	storedKey  []byte
	serverKey  []byte
}

// scramKeys derives StoredKey and ServerKey (RFC 5802 §3):
//
//	SaltedPassword := Hi(password, salt, i)   ; PBKDF2-HMAC-SHA-256
//	ClientKey      := HMAC(SaltedPassword, "Client Key")
//	StoredKey      := H(ClientKey)
//	ServerKey      := HMAC(SaltedPassword, "Server Key")
//
// The password is used as given, without SASLprep, as Dovecot does. On the
// impossible PBKDF2 error the keys are nil and match nothing.
func scramKeys(password string, salt []byte, iterations int) (storedKey, serverKey []byte) {
	if h := scramDeriveHook.Load(); h != nil {
		(*h)(iterations)
	}
	if iterations < 1 {
		return nil, nil
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, nil
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return stored[:], hmacSHA256(salted, "Server Key")
}

// scramDeriveHook, when set (by tests), is told of every derivation.
var scramDeriveHook atomic.Pointer[func(iterations int)]

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

func newSCRAM(password string, salt []byte, iterations int) *scramHash {
	h := &scramHash{iterations: iterations, salt: salt}
	h.storedKey, h.serverKey = scramKeys(password, salt, iterations)
	return h
}

var b64Std = base64.StdEncoding.Strict()

// parseSCRAM parses "<iterations>,<salt>,<StoredKey>,<ServerKey>".
func parseSCRAM(s string) (*scramHash, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return nil, errMalformedHash
	}
	n, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil || n < scramMinIterations || n > scramMaxIterations {
		return nil, errMalformedHash
	}
	h := &scramHash{iterations: int(n)}
	if h.salt, err = b64Std.DecodeString(f[1]); err != nil || len(h.salt) == 0 || len(h.salt) > scramMaxSaltLen {
		return nil, errMalformedHash
	}
	if h.storedKey, err = b64Std.DecodeString(f[2]); err != nil || len(h.storedKey) != sha256.Size {
		return nil, errMalformedHash
	}
	if h.serverKey, err = b64Std.DecodeString(f[3]); err != nil || len(h.serverKey) != sha256.Size {
		return nil, errMalformedHash
	}
	return h, nil
}

func (h *scramHash) String() string {
	return strconv.Itoa(h.iterations) + "," + b64Std.EncodeToString(h.salt) + "," +
		b64Std.EncodeToString(h.storedKey) + "," + b64Std.EncodeToString(h.serverKey)
}

// verify derives StoredKey from password with the stored salt and count,
// and compares. A password with a NUL is refused: HMAC pads its key with
// zero bytes, so "pw" and "pw\x00" would both match (Dovecot, in C, stops
// at the NUL instead).
func (h *scramHash) verify(password string) bool {
	if strings.IndexByte(password, 0) >= 0 {
		return false
	}
	stored, _ := scramKeys(password, h.salt, h.iterations)
	return subtle.ConstantTimeCompare(stored, h.storedKey) == 1
}

// madeUpSaltKey keys the salts made up for names without a stored one:
// PLAIN users (User.SCRAM) and the stand-ins of File.SCRAM. It is random
// per process, so a salt stays the same for as long as popd runs (SCRAM
// needs the salt of the first challenge to be the one the proof is checked
// with, and a salt that changed from one try to the next would give an
// unknown name away), tells nothing about the password, and a PLAIN user's
// cannot be told from a stand-in's. A restart changes them all.
var madeUpSaltKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails (crypto/rand crashes the program instead)
	return k
})

func madeUpSalt(name string) []byte {
	mac := hmac.New(sha256.New, madeUpSaltKey())
	mac.Write([]byte("popd SCRAM-SHA-256 salt\x00" + name))
	return mac.Sum(nil)[:scramSaltLen]
}

// standInPassword is a password nobody knows, for the stand-in credentials
// of name and for the derivation spent on a stored user.
func standInPassword(name string) string {
	mac := hmac.New(sha256.New, madeUpSaltKey())
	mac.Write([]byte("popd SCRAM-SHA-256 stand-in password\x00" + name))
	return base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
}

// SCRAM returns the user's SCRAM-SHA-256 credentials (RFC 5802 §3), for the
// SCRAM-SHA-256 SASL mechanism: as stored for a {SCRAM-SHA-256} user; derived
// now for a PLAIN user, with 4096 iterations and a salt made from the name
// and a per-process random key (the same for every call while the process
// runs, different after a restart). ok is false for any other scheme or a
// user that is not Usable. The slices are the caller's own. SCRAM does not
// look at Disabled. The mechanism uses File.SCRAM, which costs the same for
// every name.
func (u User) SCRAM() (iterations int, salt, storedKey, serverKey []byte, ok bool) {
	if u.sec == nil || !u.sec.ok {
		return 0, nil, nil, nil, false
	}
	switch u.sec.scheme {
	case SchemeSCRAM:
		h := u.sec.scram
		return h.iterations, bytes.Clone(h.salt), bytes.Clone(h.storedKey), bytes.Clone(h.serverKey), true
	case SchemePlain:
		salt := madeUpSalt(u.Name)
		storedKey, serverKey := scramKeys(u.sec.plain, salt, scramIterations)
		return scramIterations, salt, storedKey, serverKey, storedKey != nil
	}
	return 0, nil, nil, nil, false
}

// AllowsCleartextEquivalent reports whether the user's password is stored in
// the PLAIN scheme (also written CLEAR or CLEARTEXT), so that mechanisms
// that need the shared secret itself (APOP, CRAM-MD5) can be offered; see
// Plaintext.
func (u User) AllowsCleartextEquivalent() bool {
	_, ok := u.Plaintext()
	return ok
}

// SCRAM returns SCRAM-SHA-256 credentials for name, for the SCRAM-SHA-256
// mechanism, whoever name is; known reports whether they are the user's own
// (those of User.SCRAM). Any other name (unknown, invalid, or a user whose
// scheme SCRAM cannot use) gets stand-ins that look like a PLAIN user's: the
// same iteration count, a salt made the same way and as stable, and keys
// from a password nobody knows, so that the exchange can go on to fail at
// the proof (RFC 5802 §5.1). Like User.SCRAM it does not look at Disabled.
//
// Every call costs one key derivation of the returned iteration count,
// whoever name is: a stored {SCRAM-SHA-256} user, whose keys need none,
// is given one anyway. So neither server-first nor the time it takes tells
// whether the user exists, or how the password is stored. (A user stored
// with a count other than the default still shows it in i=; Hash and
// doveadm both write 4096.)
func (f *File) SCRAM(name string) (iterations int, salt, storedKey, serverKey []byte, known bool) {
	if u, ok := f.tab.Load().users[name]; ok {
		if it, salt, stored, server, ok := u.SCRAM(); ok {
			if u.sec.scheme == SchemeSCRAM {
				scramKeys(standInPassword(name), salt, it) // the work the others do
			}
			return it, salt, stored, server, true
		}
	}
	salt = madeUpSalt(name)
	storedKey, serverKey = scramKeys(standInPassword(name), salt, scramIterations)
	return scramIterations, salt, storedKey, serverKey, false
}
