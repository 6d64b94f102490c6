package userdb

import (
	"bytes"
	"slices"
	"testing"
)

// derivations runs f and returns the iteration count of every SCRAM key
// derivation it made, in order.
func derivations(t *testing.T, f func()) []int {
	t.Helper()
	var got []int
	hook := func(iterations int) { got = append(got, iterations) }
	if !scramDeriveHook.CompareAndSwap(nil, &hook) {
		t.Fatal("derivation hook already set")
	}
	defer scramDeriveHook.Store(nil)
	f()
	return got
}

// Issue 9: SCRAM-SHA-256 must not tell whether a user exists. Every name —
// a {SCRAM-SHA-256} user, a {PLAIN} user, a user whose scheme SCRAM cannot
// use, an unknown or invalid name — costs the same work before
// server-first: one key derivation with the iteration count announced, the
// same count for all, and a salt of the same length that stays the same
// from one exchange to the next.
func TestFileSCRAMSameWorkForEveryName(t *testing.T) {
	bcryptField, err := Hash("BLF-CRYPT", "pw")
	if err != nil {
		t.Fatal(err)
	}
	scramField, err := Hash(SchemeSCRAM, "pw")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := open(t, "rfc:"+rfc7677Field+"\n"+
		"hashed:"+scramField+"\n"+
		"plain:{PLAIN}pencil\n"+
		"off:{PLAIN}pencil::::::nologin\n"+
		"blf:"+bcryptField+"\n"+
		"bad:{SCRAM-SHA-256}1000,x,y,z\n"+
		"md5:{MD5-CRYPT}$1$abc$def\n")

	salts := map[string][]byte{}
	for _, tc := range []struct {
		name  string
		known bool
	}{
		{"rfc", true}, {"hashed", true}, {"plain", true}, {"off", true},
		{"blf", false}, {"bad", false}, {"md5", false},
		{"nobody", false}, {"../etc", false}, {"", false}, {"Plain", false},
	} {
		var it int
		var salt, stored, server []byte
		var known bool
		work := derivations(t, func() { it, salt, stored, server, known = f.SCRAM(tc.name) })
		if known != tc.known {
			t.Errorf("%q: known = %v, want %v", tc.name, known, tc.known)
		}
		if it != scramIterations || len(salt) != scramSaltLen || len(stored) != 32 || len(server) != 32 {
			t.Errorf("%q: i=%d, %d-byte salt, keys %d and %d bytes", tc.name, it, len(salt), len(stored), len(server))
		}
		if !slices.Equal(work, []int{scramIterations}) {
			t.Errorf("%q: derivations before server-first %v, want one of %d iterations", tc.name, work, scramIterations)
		}
		// Stable: a second exchange gets the same salt, count and keys.
		it2, salt2, stored2, server2, known2 := f.SCRAM(tc.name)
		if it2 != it || !bytes.Equal(salt2, salt) || !bytes.Equal(stored2, stored) || !bytes.Equal(server2, server) || known2 != known {
			t.Errorf("%q: SCRAM differs between calls", tc.name)
		}
		for other, s := range salts {
			if bytes.Equal(s, salt) {
				t.Errorf("%q and %q have the same salt", tc.name, other)
			}
		}
		salts[tc.name] = salt
	}

	// The user's own credentials for known users: the proof of the right
	// password opens them.
	for name, pw := range map[string]string{"rfc": "pencil", "hashed": "pw", "plain": "pencil"} {
		it, salt, stored, server, _ := f.SCRAM(name)
		if s, v := scramKeys(pw, salt, it); !bytes.Equal(s, stored) || !bytes.Equal(v, server) {
			t.Errorf("%s: not the keys of the password", name)
		}
	}
	// A stand-in is not the keys of any password a client could guess from
	// the name.
	it, salt, stored, _, _ := f.SCRAM("nobody")
	for _, pw := range []string{"", "nobody", "pw"} {
		if s, _ := scramKeys(pw, salt, it); bytes.Equal(s, stored) {
			t.Errorf("stand-in keys are those of %q", pw)
		}
	}
}
