package userdb

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Drepper's test vectors, from the SHA-crypt specification.
var shaCryptVectors = []struct{ hash, password string }{
	{"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"},
	{"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "Hello world!"},
	{"$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5", "This is just a test"},
	{"$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1", "a very much longer text to encrypt.  This one even stretches over morethan one line."},
	{"$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/", "we have a short salt string but not a short password"},
	{"$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD", "a short string"},
	{"$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC", "the minimum number is still observed"},
	{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
	{"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"},
	{"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0", "This is just a test"},
	{"$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1", "a very much longer text to encrypt.  This one even stretches over morethan one line."},
	{"$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0", "we have a short salt string but not a short password"},
	{"$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1", "a short string"},
	{"$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.", "the minimum number is still observed"},
}

// The spec's vectors as inputs: the setting given to crypt(3) and what it
// returns (salt cut to 16 characters, rounds raised to 1000).
func TestSHACryptSpec(t *testing.T) {
	inputs := []struct {
		v               *shaCryptVariant
		rounds          int
		explicit        bool
		salt, key, want string
	}{
		{sha256Crypt, 5000, false, "saltstring", "Hello world!", shaCryptVectors[0].hash},
		{sha256Crypt, 10000, true, "saltstringsaltstring", "Hello world!", shaCryptVectors[1].hash},
		{sha256Crypt, 10, true, "roundstoolow", "the minimum number is still observed", shaCryptVectors[6].hash},
		{sha512Crypt, 5000, true, "toolongsaltstring", "This is just a test", shaCryptVectors[9].hash},
		{sha512Crypt, 10, true, "roundstoolow", "the minimum number is still observed", shaCryptVectors[13].hash},
	}
	for _, in := range inputs {
		h := &shaCryptHash{v: in.v, rounds: max(in.rounds, shaCryptRoundsMin), explicit: in.explicit, salt: in.salt[:min(len(in.salt), 16)]}
		h.digest = h.compute(in.key)
		if got := h.String(); got != in.want {
			t.Errorf("crypt(%q, %q rounds=%d) =\n %s\nwant\n %s", in.key, in.salt, in.rounds, got, in.want)
		}
	}
}

func TestVerifySchemes(t *testing.T) {
	type vec struct{ field, password string }
	var vecs []vec
	for _, v := range shaCryptVectors {
		scheme := "{SHA256-CRYPT}"
		if strings.HasPrefix(v.hash, "$6$") {
			scheme = "{SHA512-CRYPT}"
		}
		vecs = append(vecs, vec{scheme + v.hash, v.password})
		// Without a scheme, or with {CRYPT}: recognised by the "$5$"/"$6$".
		for _, field := range []string{v.hash, "{CRYPT}" + v.hash} {
			if s := parseSecret(field); !s.ok || !s.verify(v.password) {
				t.Errorf("%s: refused (%s)", field, s.why)
			}
		}
	}
	vecs = append(vecs,
		// The example in PHP's password_verify manual page: a $2y$ hash
		// made by crypt_blowfish.
		vec{"{BLF-CRYPT}$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", "rasmuslerdorf"},
		// crypt_blowfish's own test vectors.
		vec{"{blf-crypt}$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
		vec{"$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
		vec{"{BLF-CRYPT}" + dummyHash, "popd-dummy-password-never-matches"},
		// The reference implementation's Argon2id vector (phc-winner-argon2
		// test.c): "password", salt "somesalt", t=2, m=2^16, p=1.
		vec{"{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password"},
		// Made by this package's Hash, pinned.
		vec{"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$i0BbnUDtco/NJOs/qY9RYg$/N8xR2HTNu8t81gCJT1kKUmF7Wd/kxNZfIORwwbb2ts", "correct horse"},
		vec{"{PLAIN}secret", "secret"},
		vec{"{Plain}with spaces and ünïcødé", "with spaces and ünïcødé"},
		vec{"{CLEAR}x", "x"},
		vec{"{CLEARTEXT}{braces}", "{braces}"},
	)
	// A bcrypt hash made now, rewritten with $2y$.
	b, err := bcrypt.GenerateFromPassword([]byte("fresh pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	vecs = append(vecs, vec{"{BLF-CRYPT}$2y$" + string(b[4:]), "fresh pw"})

	for _, v := range vecs {
		s := parseSecret(v.field)
		if !s.ok {
			t.Errorf("%s: refused: %s", v.field, s.why)
			continue
		}
		if !s.verify(v.password) {
			t.Errorf("%s: right password %q refused", v.field, v.password)
		}
		for _, wrong := range []string{v.password + "x", v.password[:len(v.password)-1]} {
			if s.verify(wrong) {
				t.Errorf("%s: wrong password %q accepted", v.field, wrong)
			}
		}
	}
}

// Hashes made by a real crypt(3) implementation at test time.
func TestVerifyOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	for _, c := range []struct {
		flag, scheme, salt string
	}{
		{"-5", "SHA256-CRYPT", "abcdefghABCDEFGH"},
		{"-6", "SHA512-CRYPT", "x./yz0123"},
		{"-6", "SHA512-CRYPT", "rounds=7000$pqrs"},
		{"-5", "SHA256-CRYPT", "rounds=1234$0"},
	} {
		for _, pw := range []string{"pw", "pässwörd with spaces", strings.Repeat("long", 40)} {
			out, err := exec.Command("openssl", "passwd", c.flag, "-salt", c.salt, pw).Output()
			if err != nil {
				t.Fatalf("openssl: %v", err)
			}
			h := strings.TrimSpace(string(out))
			s := parseSecret(h)
			if !s.ok || s.scheme != c.scheme {
				t.Errorf("openssl %s: %s (%s)", h, s.scheme, s.why)
				continue
			}
			if !s.verify(pw) || s.verify(pw+"!") {
				t.Errorf("openssl hash %s does not verify %q exactly", h, pw)
			}
		}
	}
}

func TestRefusedSchemes(t *testing.T) {
	tests := []struct{ field, scheme string }{
		{"", ""},
		{"{PLAIN}", "PLAIN"},
		{"abJnggxhB/yWI", "CRYPT"},        // DES crypt
		{"{CRYPT}abJnggxhB/yWI", "CRYPT"}, // DES crypt
		{"{crypt}abJnggxhB/yWI", "CRYPT"}, // DES crypt
		{"$1$salt$qJH7.N4xYta3aEG/dfqo/0", "CRYPT"},
		{"{MD5-CRYPT}$1$salt$qJH7.N4xYta3aEG/dfqo/0", "MD5-CRYPT"},
		{"{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "SSHA"},
		{"{PLAIN.b64}c2VjcmV0", "PLAIN.b64"},
		{"{unknown}x", "unknown"},
		{"*", "CRYPT"},
		{"!", "CRYPT"},
		{"!$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "CRYPT"},
		{"plaintext-without-scheme", "CRYPT"},
		{"$y$j9T$abcdef", "CRYPT"}, // yescrypt
		// Malformed hashes of known schemes.
		{"{SHA512-CRYPT}$6$saltstring$short", "SHA512-CRYPT"},
		{"{SHA512-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "SHA512-CRYPT"},
		{"$6$rounds=10$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.", "SHA512-CRYPT"},
		{"$6$rounds=01000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.", "SHA512-CRYPT"},
		{"$6$rounds=x$s$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.", "SHA512-CRYPT"},
		{"$5$toolongsaltstring$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5", "SHA256-CRYPT"},
		{"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc!", "SHA256-CRYPT"},
		{"$5$saltstring", "SHA256-CRYPT"},
		{"{BLF-CRYPT}$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "BLF-CRYPT"},
		{"$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe", "BLF-CRYPT"},
		{"$2y$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "BLF-CRYPT"},
		{"$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "ARGON2ID"},
		{"$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "ARGON2ID"},
		{"$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "ARGON2ID"},
		{"$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "ARGON2ID"},
		{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "ARGON2ID"},
		{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ", "ARGON2ID"},
		{"{ARGON2I}$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", "ARGON2I"},
	}
	for _, tt := range tests {
		s := parseSecret(tt.field)
		if s.ok {
			t.Errorf("%q accepted", tt.field)
		}
		if s.scheme != tt.scheme {
			t.Errorf("%q: scheme %q, want %q", tt.field, s.scheme, tt.scheme)
		}
		if s.why == "" {
			t.Errorf("%q: no reason", tt.field)
		}
		if s.verify("") || s.verify("qJH7") || s.verify("password") {
			t.Errorf("%q: verify accepted something", tt.field)
		}
	}
}

// A refused user never gets in, and Verify says why without saying it to
// the log again.
func TestVerifyRefusedUser(t *testing.T) {
	f, logs := open(t, "des:abJnggxhB/yWI\nempty:\nplain:{PLAIN}\nbad6:$6$saltstring$short\n")
	for _, name := range []string{"des", "empty", "plain", "bad6"} {
		u, ok := f.Lookup(name)
		if !ok || u.Usable() {
			t.Errorf("%s: present %v, usable %v", name, ok, u.Usable())
		}
		if _, ok := u.Plaintext(); ok {
			t.Errorf("%s: Plaintext ok", name)
		}
		for _, pw := range []string{"testtest"} {
			if _, err := f.Verify(name, pw); !errors.Is(err, ErrUnsupportedScheme) {
				t.Errorf("Verify(%s, %q) = %v, want ErrUnsupportedScheme", name, pw, err)
			}
		}
		if !strings.Contains(logs.String(), "user="+name) {
			t.Errorf("refused user %s not logged", name)
		}
	}
	if strings.Contains(logs.String(), "abJnggxhB") || strings.Contains(logs.String(), "saltstring") {
		t.Errorf("hash in log: %s", logs)
	}
}

func TestHash(t *testing.T) {
	const pw = "ünïcødé: pässwörd"
	for _, scheme := range []string{"BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID", "SCRAM-SHA-256", "PLAIN"} {
		pw := pw
		if scheme == "PLAIN" {
			pw = strings.ReplaceAll(pw, ":", "")
		}
		h, err := Hash(scheme, pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", scheme, err)
		}
		if !strings.HasPrefix(h, "{"+scheme+"}") {
			t.Errorf("Hash(%q) = %s, want the {%s} prefix", scheme, h, scheme)
		}
		body := h[len(scheme)+2:]
		if strings.ContainsAny(body, ":\n\r") {
			t.Errorf("Hash(%q) = %s: cannot be stored in the file", scheme, h)
		}
		s := parseSecret(h)
		if !s.ok || s.scheme != scheme {
			t.Fatalf("Hash(%q) = %s: parsed as %s (%s)", scheme, h, s.scheme, s.why)
		}
		if !s.verify(pw) || s.verify(pw[1:]) {
			t.Errorf("Hash(%q) does not round-trip", scheme)
		}
		// Without the prefix, as Dovecot's default CRYPT scheme reads it
		// (PLAIN and SCRAM-SHA-256 are no crypt(3) hashes).
		if scheme != "PLAIN" && scheme != "SCRAM-SHA-256" {
			if s := parseSecret(body); !s.ok || s.scheme != scheme || !s.verify(pw) {
				t.Errorf("Hash(%q) without prefix does not verify", scheme)
			}
		}
	}
	for _, scheme := range []string{"", "blf-crypt"} {
		if h, err := Hash(scheme, "pw"); err != nil || !strings.HasPrefix(h, "{BLF-CRYPT}$2y$10$") {
			t.Errorf("Hash(%q) = %s, %v; want BLF-CRYPT $2y$ cost 10", scheme, h, err)
		}
	}
	for _, scheme := range []string{"clear", "CLEARTEXT", "plain"} {
		if h, err := Hash(scheme, "pw"); err != nil || h != "{PLAIN}pw" {
			t.Errorf("Hash(%q) = %s, %v", scheme, h, err)
		}
	}
	// bcrypt reads 72 bytes, as crypt(3) does: the longest storable password.
	long := strings.Repeat("xy", 36)
	h, err := Hash("", long)
	if err != nil {
		t.Fatal(err)
	}
	if s := parseSecret(h); !s.verify(long) || s.verify(long[:71]) {
		t.Error("72-byte password does not round-trip")
	}

	for _, scheme := range []string{"SHA512-CRYPT", "SCRAM-SHA-256"} {
		h1, _ := Hash(scheme, "pw")
		h2, _ := Hash(scheme, "pw")
		if h1 == h2 {
			t.Errorf("%s: same salt twice", scheme)
		}
	}
	// SCRAM-SHA-256 as Dovecot writes it: 4096 iterations, a 16-byte salt.
	if h, _ := Hash("scram-sha-256", "pw"); !strings.HasPrefix(h, "{SCRAM-SHA-256}4096,") || len(strings.Split(h, ",")[1]) != 24 {
		t.Errorf("Hash(SCRAM-SHA-256) = %s", h)
	}

	bad := []struct {
		scheme, pw string
		err        error
	}{
		{"CRYPT", "pw", ErrUnsupportedScheme},
		{"MD5-CRYPT", "pw", ErrUnsupportedScheme},
		{"SSHA", "pw", ErrUnsupportedScheme},
		{"", "", ErrInvalidPassword},
		{"", "a\x00b", ErrInvalidPassword},
		{"", "a\nb", ErrInvalidPassword},
		{"SHA512-CRYPT", "a\rb", ErrInvalidPassword},
		{"PLAIN", "a:b", ErrInvalidPassword},
		{"BLF-CRYPT", strings.Repeat("x", 73), ErrInvalidPassword},
		{"SHA512-CRYPT", strings.Repeat("x", MaxPasswordLen+1), ErrInvalidPassword},
	}
	for _, b := range bad {
		h, err := Hash(b.scheme, b.pw)
		if !errors.Is(err, b.err) {
			t.Errorf("Hash(%q, %q) = %q, %v; want %v", b.scheme, b.pw, h, err, b.err)
		}
		if err != nil && b.pw != "" && strings.Contains(err.Error(), b.pw) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestPlaintext(t *testing.T) {
	f, _ := open(t, "a:{PLAIN}pa\nb:{clear}pb\nc:$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1\n")
	for name, want := range map[string]string{"a": "pa", "b": "pb", "c": ""} {
		u, _ := f.Lookup(name)
		got, ok := u.Plaintext()
		if got != want || ok != (want != "") {
			t.Errorf("%s: Plaintext() = %q, %v", name, got, ok)
		}
	}
	if _, ok := (User{}).Plaintext(); ok {
		t.Error("zero User has a plaintext")
	}
	_ = fmt.Sprint
}
