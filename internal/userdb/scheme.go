package userdb

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Canonical scheme names, as Dovecot spells them.
const (
	SchemeBcrypt = "BLF-CRYPT"
	SchemeSHA512 = "SHA512-CRYPT"
	SchemeSHA256 = "SHA256-CRYPT"
	SchemeArgon2 = "ARGON2ID"
	SchemePlain  = "PLAIN"
	SchemeSCRAM  = "SCRAM-SHA-256"

	// DefaultScheme is what Hash uses for scheme "", and what Add and
	// SetPassword write.
	DefaultScheme = SchemeBcrypt
)

// MaxPasswordLen is the longest password, in bytes, that Hash stores and
// Verify checks; longer ones are refused without being hashed.
const MaxPasswordLen = 1024

const (
	// bcryptCost is the cost of new BLF-CRYPT hashes (Dovecot's default).
	bcryptCost = 10

	// Parameters of new ARGON2ID hashes.
	argon2Memory  = 64 * 1024 // KiB
	argon2Time    = 3
	argon2Threads = 1
	argon2SaltLen = 16
	argon2KeyLen  = 32

	// Limits on ARGON2ID hashes read from the file, so that a typo cannot
	// make every login allocate unbounded memory or spin forever.
	argon2MaxMemory = 4 * 1024 * 1024 // KiB: 4 GiB
	argon2MaxTime   = 1000
)

// dummyHash is a BLF-CRYPT cost-10 hash of a password nobody types. Verify
// checks against it when there is no real hash to check, so that a missing
// user costs the same time as a present one.
const dummyHash = "$2y$10$QRpgYjt3xpvRh.qhU/NK7OU1Ww6REF.iWnPRDC6MJwWmSS2pvV3DS"

// secret is a parsed password field. It is immutable once made.
type secret struct {
	scheme string // canonical when known; as written otherwise
	ok     bool   // a supported scheme with a well-formed hash
	why    string // when !ok: why, for the load-time log (never the hash)

	plain  string        // PLAIN: the password itself
	bcrypt []byte        // BLF-CRYPT
	sha    *shaCryptHash // SHA256-CRYPT, SHA512-CRYPT
	argon  *argon2Hash   // ARGON2ID
	scram  *scramHash    // SCRAM-SHA-256
}

// canonicalScheme maps a scheme name written in any case to the name popd
// uses, and reports whether popd supports it. "CRYPT" is not in this list:
// parseSecret handles it by looking at the hash.
func canonicalScheme(name string) (string, bool) {
	switch strings.ToUpper(name) {
	case "BLF-CRYPT":
		return SchemeBcrypt, true
	case "SHA512-CRYPT":
		return SchemeSHA512, true
	case "SHA256-CRYPT":
		return SchemeSHA256, true
	case "ARGON2ID":
		return SchemeArgon2, true
	case "PLAIN", "CLEAR", "CLEARTEXT":
		return SchemePlain, true
	case "SCRAM-SHA-256":
		return SchemeSCRAM, true
	}
	return name, false
}

// isSchemeName reports whether s looks like a Dovecot scheme name
// ("SHA512-CRYPT", "PLAIN.b64"); it keeps "{" in a bare password from being
// mistaken for a scheme prefix.
func isSchemeName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// detectCrypt names the scheme of a hash written without a {SCHEME} prefix
// (Dovecot's default scheme, CRYPT, hands such hashes to crypt(3), which
// recognises them by their "$id$").
func detectCrypt(h string) (string, bool) {
	switch {
	case strings.HasPrefix(h, "$2y$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2a$"):
		return SchemeBcrypt, true
	case strings.HasPrefix(h, "$6$"):
		return SchemeSHA512, true
	case strings.HasPrefix(h, "$5$"):
		return SchemeSHA256, true
	case strings.HasPrefix(h, "$argon2id$"):
		return SchemeArgon2, true
	}
	return "CRYPT", false
}

// parseSecret parses the password field of a passwd-file line.
func parseSecret(field string) *secret {
	if field == "" {
		return &secret{why: "no password"}
	}
	scheme, h := "", field
	if rest, ok := strings.CutPrefix(field, "{"); ok {
		if name, after, ok := strings.Cut(rest, "}"); ok && isSchemeName(name) {
			scheme, h = name, after
		}
	}
	known := false
	if scheme == "" || strings.EqualFold(scheme, "CRYPT") {
		scheme, known = detectCrypt(h)
		if !known {
			return &secret{scheme: scheme, why: "unsupported crypt(3) hash"}
		}
	} else if scheme, known = canonicalScheme(scheme); !known {
		return &secret{scheme: scheme, why: "unsupported password scheme"}
	}
	s := &secret{scheme: scheme}
	var err error
	switch scheme {
	case SchemePlain:
		if h == "" {
			return &secret{scheme: scheme, why: "empty password"}
		}
		s.plain = h
	case SchemeBcrypt:
		err = checkBcrypt(h)
		s.bcrypt = []byte(h)
	case SchemeSHA512:
		s.sha, err = parseSHACrypt(sha512Crypt, h)
	case SchemeSHA256:
		s.sha, err = parseSHACrypt(sha256Crypt, h)
	case SchemeArgon2:
		s.argon, err = parseArgon2(h)
	case SchemeSCRAM:
		s.scram, err = parseSCRAM(h)
	}
	if err != nil {
		return &secret{scheme: scheme, why: "malformed " + scheme + " hash"}
	}
	s.ok = true
	return s
}

// checkBcrypt accepts only the hashes crypt(3) and Dovecot write: "$2a$",
// "$2b$" or "$2y$", a two-digit cost, 53 characters of salt and hash.
func checkBcrypt(h string) error {
	if len(h) != 60 || h[0] != '$' || h[1] != '2' || !strings.ContainsRune("aby", rune(h[2])) || h[3] != '$' || h[6] != '$' {
		return errMalformedHash
	}
	for i := 7; i < len(h); i++ {
		if strings.IndexByte(cryptAlphabet, h[i]) < 0 {
			return errMalformedHash
		}
	}
	if _, err := bcrypt.Cost([]byte(h)); err != nil {
		return errMalformedHash
	}
	return nil
}

// verify reports whether password matches, in time that does not depend on
// how much of it matches: the password as sent, or else its prepared form
// (RFC 8265 OpaqueString, SASLprep's successor; see saslprep.go), so that
// every hash already stored keeps verifying from the bytes it was made of.
func (s *secret) verify(password string) bool {
	if !s.ok {
		return false
	}
	if s.check(password) {
		return true
	}
	p := secondForm(password)
	return p != "" && s.check(p)
}

// check reports whether password, byte for byte, is the one hashed.
func (s *secret) check(password string) bool {
	switch s.scheme {
	case SchemePlain:
		// Compare digests so that the time does not depend on the lengths
		// either.
		a, b := sha256.Sum256([]byte(s.plain)), sha256.Sum256([]byte(password))
		return subtle.ConstantTimeCompare(a[:], b[:]) == 1
	case SchemeBcrypt:
		return bcrypt.CompareHashAndPassword(s.bcrypt, []byte(password)) == nil
	case SchemeSHA512, SchemeSHA256:
		return subtle.ConstantTimeCompare([]byte(s.sha.compute(password)), []byte(s.sha.digest)) == 1
	case SchemeArgon2:
		return s.argon.verify(password)
	case SchemeSCRAM:
		return s.scram.verify(password)
	}
	return false
}

// spendDummy costs about what verifying password against a BLF-CRYPT
// cost-10 hash costs: twice when verify would check its prepared form too.
func spendDummy(password string) {
	_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
	if p := secondForm(password); p != "" {
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(p))
	}
}

// argon2Hash is a parsed PHC string "$argon2id$v=19$m=M,t=T,p=P$salt$hash".
type argon2Hash struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

var b64 = base64.RawStdEncoding

func parseArgon2(s string) (*argon2Hash, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return nil, errMalformedHash
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, errMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return nil, errMalformedHash
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return nil, errMalformedHash
		}
		vals[i] = n
	}
	h := &argon2Hash{memory: uint32(vals[0]), time: uint32(vals[1])}
	if vals[2] < 1 || vals[2] > 255 || h.time < 1 || h.time > argon2MaxTime ||
		uint64(h.memory) < 8*vals[2] || h.memory > argon2MaxMemory {
		return nil, errMalformedHash
	}
	h.threads = uint8(vals[2])
	var err error
	if h.salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return nil, errMalformedHash
	}
	if h.key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(h.key) < 4 || len(h.key) > 1024 {
		return nil, errMalformedHash
	}
	return h, nil
}

func (h *argon2Hash) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.time, h.threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

func (h *argon2Hash) verify(password string) bool {
	k := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(k, h.key) == 1
}

// Hash returns password hashed with scheme (any case; "" means
// DefaultScheme), written as the password field of a passwd-file line:
// "{SCHEME}hash". New hashes use BLF-CRYPT cost 10 with the "$2y$" prefix
// Dovecot writes, SHA-crypt with a random 16-character salt and 5000 rounds,
// ARGON2ID with m=65536, t=3, p=1, and SCRAM-SHA-256 with a random 16-byte
// salt and 4096 iterations, as Dovecot writes them. PLAIN stores the
// password itself. The password is taken as given, not prepared, as doveadm
// pw takes it; Verify also tries the client's password prepared (see
// saslprep.go).
//
// It returns an error wrapping ErrUnsupportedScheme for a scheme it cannot
// write, and one wrapping ErrInvalidPassword for a password that cannot be
// stored: empty, longer than MaxPasswordLen, containing NUL, CR or LF,
// longer than the 72 bytes BLF-CRYPT reads, or, for PLAIN, containing ":".
func Hash(scheme, password string) (string, error) {
	if scheme == "" {
		scheme = DefaultScheme
	}
	canon, ok := canonicalScheme(scheme)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedScheme, scheme)
	}
	if password == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidPassword)
	}
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidPassword, MaxPasswordLen)
	}
	if strings.ContainsAny(password, "\x00\r\n") {
		return "", fmt.Errorf("%w: contains NUL, CR or LF", ErrInvalidPassword)
	}
	var h string
	switch canon {
	case SchemePlain:
		if strings.Contains(password, ":") {
			return "", fmt.Errorf("%w: a PLAIN password cannot contain \":\"", ErrInvalidPassword)
		}
		h = password
	case SchemeBcrypt:
		if len(password) > 72 {
			return "", fmt.Errorf("%w: longer than the 72 bytes BLF-CRYPT uses", ErrInvalidPassword)
		}
		b, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
		if err != nil {
			return "", fmt.Errorf("userdb: bcrypt: %w", err)
		}
		// x/crypto writes "$2a$"; the algorithm is the same, and Dovecot
		// and crypt(3) write "$2y$".
		h = "$2y$" + string(b[4:])
	case SchemeSHA512, SchemeSHA256:
		v := sha512Crypt
		if canon == SchemeSHA256 {
			v = sha256Crypt
		}
		var err error
		if h, err = newSHACrypt(v, password); err != nil {
			return "", err
		}
	case SchemeArgon2:
		a := &argon2Hash{memory: argon2Memory, time: argon2Time, threads: argon2Threads, salt: make([]byte, argon2SaltLen)}
		if _, err := rand.Read(a.salt); err != nil {
			return "", fmt.Errorf("userdb: random salt: %w", err)
		}
		a.key = argon2.IDKey([]byte(password), a.salt, a.time, a.memory, a.threads, argon2KeyLen)
		h = a.String()
	case SchemeSCRAM:
		salt := make([]byte, scramSaltLen)
		if _, err := rand.Read(salt); err != nil {
			return "", fmt.Errorf("userdb: random salt: %w", err)
		}
		h = newSCRAM(password, salt, scramIterations).String()
	}
	return "{" + canon + "}" + h, nil
}

// randomCryptString returns n random characters of the crypt alphabet.
func randomCryptString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("userdb: random salt: %w", err)
	}
	for i := range b {
		b[i] = cryptAlphabet[b[i]&0x3f]
	}
	return string(b), nil
}
