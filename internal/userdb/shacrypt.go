package userdb

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt, as specified by Ulrich Drepper in "Unix crypt using SHA-256 and
// SHA-512" (https://www.akkadia.org/drepper/SHA-crypt.txt) and implemented by
// glibc's crypt(3) for the "$5$" and "$6$" prefixes. Dovecot calls these
// SHA256-CRYPT and SHA512-CRYPT.

const (
	shaCryptRoundsDefault = 5000
	shaCryptRoundsMin     = 1000
	shaCryptRoundsMax     = 999999999
	shaCryptSaltMax       = 16
)

// cryptAlphabet is the crypt(3) base-64 alphabet (not RFC 4648's).
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// shaCryptVariant describes one of the two SHA-crypt flavours.
type shaCryptVariant struct {
	prefix  string // "$5$" or "$6$"
	newHash func() hash.Hash
	size    int // digest size in bytes
	// order lists the digest bytes in the order the spec encodes them, three
	// at a time (B2, B1, B0), the last group padded at the front with -1.
	order []int
	// encLen is the length of the encoded digest.
	encLen int
}

var sha256Crypt = &shaCryptVariant{
	prefix:  "$5$",
	newHash: sha256.New,
	size:    sha256.Size,
	order: []int{
		0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14,
		15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29,
		-1, 31, 30,
	},
	encLen: 43,
}

var sha512Crypt = &shaCryptVariant{
	prefix:  "$6$",
	newHash: sha512.New,
	size:    sha512.Size,
	order: []int{
		0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4,
		47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51,
		31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35,
		15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19,
		62, 20, 41, -1, -1, 63,
	},
	encLen: 86,
}

// shaCryptHash is a parsed "$5$[rounds=N$]salt$digest" string.
type shaCryptHash struct {
	v        *shaCryptVariant
	rounds   int
	explicit bool // "rounds=" was written
	salt     string
	digest   string // encoded, as stored
}

var errMalformedHash = errors.New("userdb: malformed password hash")

// parseSHACrypt parses s, which must be exactly what crypt(3) would write:
// rounds within 1000..999999999 without leading zeros, a salt of at most 16
// characters, and a digest of the right length in the crypt alphabet. Anything
// else could never verify under glibc either, so it is refused at load time
// rather than silently failing at every login.
func parseSHACrypt(v *shaCryptVariant, s string) (*shaCryptHash, error) {
	rest, ok := strings.CutPrefix(s, v.prefix)
	if !ok {
		return nil, errMalformedHash
	}
	h := &shaCryptHash{v: v, rounds: shaCryptRoundsDefault}
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, ok := strings.Cut(r, "$")
		if !ok {
			return nil, errMalformedHash
		}
		n, err := strconv.Atoi(num)
		if err != nil || strconv.Itoa(n) != num || n < shaCryptRoundsMin || n > shaCryptRoundsMax {
			return nil, errMalformedHash
		}
		h.rounds, h.explicit, rest = n, true, after
	}
	salt, digest, ok := strings.Cut(rest, "$")
	if !ok || len(salt) > shaCryptSaltMax || len(digest) != v.encLen {
		return nil, errMalformedHash
	}
	if strings.ContainsAny(salt, ":\n\r\x00") {
		return nil, errMalformedHash
	}
	for i := 0; i < len(digest); i++ {
		if strings.IndexByte(cryptAlphabet, digest[i]) < 0 {
			return nil, errMalformedHash
		}
	}
	h.salt, h.digest = salt, digest
	return h, nil
}

// setting is the part of the hash before the digest, as crypt(3) writes it.
func (h *shaCryptHash) setting() string {
	var b strings.Builder
	b.WriteString(h.v.prefix)
	if h.explicit {
		b.WriteString("rounds=")
		b.WriteString(strconv.Itoa(h.rounds))
		b.WriteByte('$')
	}
	b.WriteString(h.salt)
	b.WriteByte('$')
	return b.String()
}

// String returns the whole hash.
func (h *shaCryptHash) String() string { return h.setting() + h.digest }

// compute returns the encoded digest of key under h's variant, rounds and salt.
func (h *shaCryptHash) compute(key string) string {
	return h.v.encode(h.v.sum([]byte(key), []byte(h.salt), h.rounds))
}

// sum is the algorithm of the spec, steps 1-21, returning the final digest C.
func (v *shaCryptVariant) sum(key, salt []byte, rounds int) []byte {
	// Steps 4-8: digest B = H(key salt key).
	alt := v.newHash()
	alt.Write(key)
	alt.Write(salt)
	alt.Write(key)
	b := alt.Sum(nil)

	// Steps 1-3, 9-12: digest A.
	ctx := v.newHash()
	ctx.Write(key)
	ctx.Write(salt)
	n := len(key)
	for ; n > v.size; n -= v.size {
		ctx.Write(b)
	}
	ctx.Write(b[:n])
	for n = len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			ctx.Write(b)
		} else {
			ctx.Write(key)
		}
	}
	a := ctx.Sum(nil)

	// Steps 13-16: byte sequence P, len(key) bytes of H(key repeated).
	alt.Reset()
	for range len(key) {
		alt.Write(key)
	}
	p := repeatTo(alt.Sum(nil), len(key))

	// Steps 17-20: byte sequence S, len(salt) bytes of H(salt repeated
	// 16+A[0] times).
	alt.Reset()
	for range 16 + int(a[0]) {
		alt.Write(salt)
	}
	s := repeatTo(alt.Sum(nil), len(salt))

	// Step 21: the rounds.
	c := a
	for i := range rounds {
		ctx.Reset()
		if i&1 != 0 {
			ctx.Write(p)
		} else {
			ctx.Write(c)
		}
		if i%3 != 0 {
			ctx.Write(s)
		}
		if i%7 != 0 {
			ctx.Write(p)
		}
		if i&1 != 0 {
			ctx.Write(c)
		} else {
			ctx.Write(p)
		}
		c = ctx.Sum(c[:0])
	}
	return c
}

// repeatTo returns n bytes made of d repeated.
func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, d[:min(len(d), n-len(out))]...)
	}
	return out
}

// encode is step 22: the digest's bytes, three at a time in the spec's order,
// each group written least significant six bits first.
func (v *shaCryptVariant) encode(c []byte) string {
	out := make([]byte, 0, v.encLen)
	for i := 0; i < len(v.order); i += 3 {
		var w uint32
		chars := 4
		for j, idx := range v.order[i : i+3] {
			if idx < 0 {
				chars--
				continue
			}
			w |= uint32(c[idx]) << (8 * (2 - j))
		}
		for range chars {
			out = append(out, cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	return string(out)
}

// newSHACrypt returns a hash of key with a fresh random salt and the default
// rounds.
func newSHACrypt(v *shaCryptVariant, key string) (string, error) {
	salt, err := randomCryptString(shaCryptSaltMax)
	if err != nil {
		return "", err
	}
	h := &shaCryptHash{v: v, rounds: shaCryptRoundsDefault, salt: salt}
	h.digest = h.compute(key)
	return h.String(), nil
}
