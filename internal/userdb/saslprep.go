package userdb

import (
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// Passwords in UTF-8 (RFC 6856 §2.2, RFC 4616, RFC 5034).
//
// A client may send a password in any of several spellings of the same
// characters: "ä" as one code point or as "a" and a combining mark, a
// no-break space for a space. SASLprep (RFC 4013) and its Standards Track
// successor, the OpaqueString profile of RFC 8265 §4.2, map them to one
// prepared form: non-ASCII spaces to U+0020, then Unicode NFC. popd uses
// OpaqueString.
//
// But hashes are made of bytes, and every hash already in a users file was
// made of the password as it was typed, unprepared: that is what doveadm
// pw and Hash do, and what Dovecot checks. So Verify compares twice:
//
//  1. the password as the client sent it, byte for byte: every stored hash
//     keeps verifying from the bytes it was made of, whatever they are,
//     also where OpaqueString would change or refuse them;
//  2. only when that fails, and the password's prepared form differs from
//     it, the prepared form: a password stored as most keyboards type it
//     (NFC) also verifies from a client that sent it decomposed.
//
// A hash of an unprepared spelling (a decomposed one, say) is matched only
// by those exact bytes: the stored form is never prepared, it cannot be.
// A password OpaqueString refuses (control or private-use characters,
// unassigned code points, invalid UTF-8) gets only the first comparison:
// it is not refused, since a hash of it may be stored. The second
// comparison costs a second hash computation, so an unknown user is made
// to cost the same (spendDummy).
//
// Printable ASCII is its own prepared form: for such passwords, as most
// are, nothing changes.

// preparePassword returns password prepared with the OpaqueString profile
// of RFC 8265, and false when the profile refuses it or it is not UTF-8.
func preparePassword(password string) (string, bool) {
	if printableASCII(password) {
		return password, password != ""
	}
	// OpaqueString would turn invalid octets into U+FFFD instead.
	if !utf8.ValidString(password) {
		return "", false
	}
	p, err := precis.OpaqueString.String(password)
	return p, err == nil
}

// secondForm is the prepared form of password to compare when the password
// as sent did not match: "" when there is none (it is its own prepared form,
// or cannot be prepared) or it is too long to hash (see MaxPasswordLen:
// NFC may lengthen a string).
func secondForm(password string) string {
	p, ok := preparePassword(password)
	if !ok || p == password || len(p) > MaxPasswordLen {
		return ""
	}
	return p
}

// printableASCII reports whether s holds only octets 0x20-0x7E.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
