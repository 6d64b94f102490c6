package sasl

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"popd/internal/userdb"
)

var rfc7677Salt, _ = base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")

// RFC 7677 §3, byte for byte: user "user", password "pencil".
func TestSCRAMRFC7677(t *testing.T) {
	creds := &mapCreds{scram: map[string]SCRAMCredentials{"user": DeriveSCRAM("pencil", rfc7677Salt, 4096)}}
	for _, initial := range []bool{true, false} {
		m, err := New("SCRAM-SHA-256", creds, fixedNonce("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"), "")
		if err != nil {
			t.Fatal(err)
		}
		if !initial {
			step(t, m, nil, "", false)
		}
		step(t, m, []byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", false)
		step(t, m, []byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", false)
		if m.User() != "" {
			t.Error("User() set before the end")
		}
		finish(t, m, []byte{}, nil, "user")
	}
}

func scramCreds() *mapCreds {
	return &mapCreds{scram: map[string]SCRAMCredentials{
		"user":       DeriveSCRAM("pencil", rfc7677Salt, 4096),
		"a,b=c":      DeriveSCRAM("pw", []byte("0123456789abcdef"), 4096),
		"ünï":        DeriveSCRAM("pässwörd", []byte("another salt"), 5000),
		"short key":  {Iterations: 4096, Salt: []byte("s"), StoredKey: []byte("x"), ServerKey: []byte("y")},
		"no salt":    {Iterations: 4096, StoredKey: make([]byte, 32), ServerKey: make([]byte, 32)},
		"iterations": DeriveSCRAM("pw", []byte("salt"), 0),
	}}
}

func TestSCRAM(t *testing.T) {
	creds := scramCreds()
	for _, c := range []*scramClient{
		{user: "user", pass: "pencil"},
		{user: "user", pass: "pencil", authz: "user"},
		{user: "user", pass: "pencil", flag: "y"},
		{user: "a,b=c", pass: "pw"}, // RFC 5802 §5.1 escaping
		{user: "a,b=c", pass: "pw", authz: "a,b=c"},
		{user: "ünï", pass: "pässwörd"},
	} {
		c.cnonce = "fyko+d2lbbFgONRv9qkxdawL"
		m, err := runSCRAM(t, creds, c)
		if err != nil || m.User() != c.user {
			t.Errorf("%+v: %v, User() = %q", c, err, m.User())
		}
	}

	for _, tc := range []struct {
		c    scramClient
		want error
	}{
		{scramClient{user: "user", pass: "pencil "}, ErrAuthFailed},
		{scramClient{user: "user", pass: ""}, ErrAuthFailed},
		{scramClient{user: "nobody", pass: "pencil"}, ErrAuthFailed},
		{scramClient{user: "short key", pass: "pw"}, ErrAuthFailed},
		{scramClient{user: "no salt", pass: "pw"}, ErrAuthFailed},
		{scramClient{user: "iterations", pass: "pw"}, ErrAuthFailed},
		{scramClient{user: "user", pass: "pencil", authz: "root"}, ErrAuthz},
		{scramClient{user: "user", pass: "pencil", flag: "p=tls-unique"}, ErrMalformed},
		{scramClient{user: "user", pass: "pencil", flag: "x"}, ErrMalformed},
	} {
		tc.c.cnonce = "rOprNGfwEbeRWgbNEkqO"
		m, err := runSCRAM(t, creds, &tc.c)
		if !errors.Is(err, tc.want) || m.User() != "" {
			t.Errorf("%+v: %v, want %v; User() = %q", tc.c, err, tc.want, m.User())
		}
	}
}

// RFC 5802 §5.1: an unknown user gets a server-first that looks like a real
// one, the same each time, and fails only at the proof.
func TestSCRAMUnknownUser(t *testing.T) {
	creds := scramCreds()
	first := func(user string) string {
		m, _ := New("SCRAM-SHA-256", creds, fixedNonce("N"), "")
		return string(step(t, m, []byte("n,,n="+user+",r=c"), "*", false))
	}
	a, b, c := first("nobody"), first("nobody"), first("somebody")
	if a != b {
		t.Errorf("fake salt changes: %q, %q", a, b)
	}
	if a == c {
		t.Errorf("two unknown users, one salt: %q", a)
	}
	for _, sf := range []string{a, c} {
		attrs := strings.Split(sf, ",")
		salt, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(attrs[1], "s="))
		if len(attrs) != 3 || attrs[0] != "r=cN" || err != nil || len(salt) != 16 || attrs[2] != "i=4096" {
			t.Errorf("fake server-first %q", sf)
		}
	}
}

func TestSCRAMMalformed(t *testing.T) {
	creds := scramCreds()
	const (
		cfirst = "n,,n=user,r=abc"
		nonce  = "abcSRV"
	)
	start := func(t *testing.T) Mechanism {
		m, err := New("SCRAM-SHA-256", creds, fixedNonce("SRV"), "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// client-first.
	for _, msg := range []string{
		"",
		"n",
		"n,",
		"n,,",
		"n,,r=abc,n=user",
		"n,,n=user",
		"n,,n=user,",
		"n,,n=user,r=",
		"n,,n=,r=abc",
		"n,,n=us=2Der,r=abc",
		"n,,n=user=,r=abc",
		"n,,n=user=3,r=abc",
		"n,,m=x,n=user,r=abc",
		"n,,n=user,r=a b",
		"n,,n=user,r=a\x7f",
		"n,,n=user,r=abc,1=x",
		"n,,n=user,r=abc,x",
		"n,,n=\xffuser,r=abc",
		"n,,n=us\x00er,r=abc",
		"n,a,n=user,r=abc",
		"n,a=,n=user,r=abc",
		"n,a=us=er,n=user,r=abc",
		"n,x=user,n=user,r=abc",
		"p=tls-server-end-point,,n=user,r=abc",
		"p,,n=user,r=abc",
		"N,,n=user,r=abc",
		"n,,n=user,r=abc," + strings.Repeat("x", MaxResponseLen),
	} {
		m := start(t)
		finish(t, m, []byte(msg), ErrMalformed, "")
	}
	// Extensions are ignored.
	step(t, start(t), []byte("n,,n=user,r=abc,x=1,Y=2"), "*", false)
	// Asked once; nothing again is malformed.
	m := start(t)
	step(t, m, nil, "", false)
	finish(t, m, nil, ErrMalformed, "")

	// client-final: build a good one, then break it.
	c := &scramClient{user: "user", pass: "pencil", cnonce: "abc"}
	m = start(t)
	sf := step(t, m, c.first(), "*", false)
	good := string(c.final(t, sf))
	goodProof := good[strings.LastIndex(good, ",p=")+3:]
	for _, msg := range []string{
		"",
		"c=biws,r=" + nonce,
		"c=biws,r=" + nonce + ",p=",
		"c=biws,r=" + nonce + ",p=!!!!",
		"c=biws,r=" + nonce + ",p=" + goodProof[:40] + "=",
		"c=biws,r=" + nonce + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 33)),
		"c=biws,r=" + nonce + "x,p=" + goodProof,
		"c=biws,r=abc,p=" + goodProof,
		"c=biws,r=" + nonce[:5] + ",p=" + goodProof,
		"c=eSws,r=" + nonce + ",p=" + goodProof, // "y,," but the header was "n,,"
		"c=biwsbiws,r=" + nonce + ",p=" + goodProof,
		"c=biw,r=" + nonce + ",p=" + goodProof,
		"r=" + nonce + ",c=biws,p=" + goodProof,
		"c=biws,p=" + goodProof,
		"c=biws,r=" + nonce + ",1=x,p=" + goodProof,
		"c=biws,r=" + nonce + ",p=" + goodProof + "," + strings.Repeat("x", MaxResponseLen),
	} {
		m := start(t)
		step(t, m, c.first(), "*", false)
		finish(t, m, []byte(msg), ErrMalformed, "")
	}
	// A flipped bit in the proof is a failed authentication.
	p, _ := base64.StdEncoding.DecodeString(goodProof)
	p[7] ^= 1
	m = start(t)
	step(t, m, c.first(), "*", false)
	finish(t, m, []byte(strings.TrimSuffix(good, goodProof)+base64.StdEncoding.EncodeToString(p)), ErrAuthFailed, "")
	// Extensions in client-final are allowed; this one is not covered by
	// the proof, so it fails as an authentication, not as a syntax error.
	m = start(t)
	step(t, m, c.first(), "*", false)
	finish(t, m, []byte(strings.Replace(good, ",p=", ",x=1,p=", 1)), ErrAuthFailed, "")

	// The final empty response must be empty.
	for _, last := range [][]byte{[]byte("x"), []byte("v=")} {
		m := start(t)
		step(t, m, c.first(), "*", false)
		step(t, m, []byte(good), "*", false)
		finish(t, m, last, ErrMalformed, "")
	}
	m = start(t)
	step(t, m, c.first(), "*", false)
	step(t, m, []byte(good), "*", false)
	finish(t, m, nil, nil, "user")

	// A broken nonce source fails closed.
	for _, n := range []string{"", "a,b", "a b", "\xff"} {
		m, _ := New("SCRAM-SHA-256", creds, fixedNonce(n), "")
		if ch, done, err := m.Next([]byte(cfirst)); !done || err == nil || ch != nil {
			t.Errorf("nonce %q: %q, %v, %v", n, ch, done, err)
		}
	}
}

func TestSCRAMDefaultNonce(t *testing.T) {
	creds := scramCreds()
	var seen []string
	for range 2 {
		m, _ := New("SCRAM-SHA-256", creds, nil, "")
		sf := step(t, m, []byte("n,,n=user,r=abc"), "*", false)
		r := strings.TrimPrefix(strings.Split(string(sf), ",")[0], "r=abc")
		if len(r) < 16 || !printable(r) {
			t.Errorf("server nonce %q", r)
		}
		seen = append(seen, r)
	}
	if seen[0] == seen[1] {
		t.Error("same server nonce twice")
	}
}

func TestUnescapeSASLName(t *testing.T) {
	for in, want := range map[string]string{
		"user": "user", "a=2Cb": "a,b", "a=3Db": "a=b", "=3D=2C": "=,", "=2C=2C": ",,", "ü": "ü",
	} {
		if got, ok := unescapeSASLName(in); !ok || got != want {
			t.Errorf("unescape(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"=", "a=", "=2", "=2c", "=3d", "a,b", "=41", "=3"} {
		if got, ok := unescapeSASLName(in); ok {
			t.Errorf("unescape(%q) = %q, ok", in, got)
		}
	}
}

// userdbCreds is how the server plugs userdb into Credentials.
type userdbCreds struct{ f *userdb.File }

func (c userdbCreds) Verify(user, password string) error {
	_, err := c.f.Verify(user, password)
	return err
}

func (c userdbCreds) Plaintext(user string) (string, bool) {
	u, ok := c.f.Lookup(user)
	if !ok {
		return "", false
	}
	return u.Plaintext()
}

func (c userdbCreds) SCRAM(user string) (SCRAMCredentials, bool) {
	u, ok := c.f.Lookup(user)
	if !ok {
		return SCRAMCredentials{}, false
	}
	it, salt, stored, server, ok := u.SCRAM()
	return SCRAMCredentials{Iterations: it, Salt: salt, StoredKey: stored, ServerKey: server}, ok
}

// userdb's {SCRAM-SHA-256} hashes and its PLAIN users work through the
// exchange, and userdb's derivation is DeriveSCRAM's.
func TestSCRAMWithUserdb(t *testing.T) {
	const pw = "pässwörd, with = and spaces"
	h, err := userdb.Hash("SCRAM-SHA-256", pw)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users")
	content := "hashed:" + h + "\n" +
		"rfc:{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\n" +
		"plain:{PLAIN}" + strings.ReplaceAll(pw, ":", "") + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := userdb.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := userdbCreds{f}

	for user, pass := range map[string]string{"hashed": pw, "rfc": "pencil", "plain": pw} {
		c, ok := creds.SCRAM(user)
		if !ok {
			t.Fatalf("%s: no SCRAM credentials", user)
		}
		d := DeriveSCRAM(pass, c.Salt, c.Iterations)
		if !bytes.Equal(d.StoredKey, c.StoredKey) || !bytes.Equal(d.ServerKey, c.ServerKey) {
			t.Errorf("%s: userdb and DeriveSCRAM disagree", user)
		}
		m, err := runSCRAM(t, creds, &scramClient{user: user, pass: pass, cnonce: "cn"})
		if err != nil || m.User() != user {
			t.Errorf("%s: %v, User() = %q", user, err, m.User())
		}
		if _, err := runSCRAM(t, creds, &scramClient{user: user, pass: pass + "x", cnonce: "cn"}); !errors.Is(err, ErrAuthFailed) {
			t.Errorf("%s, wrong password: %v", user, err)
		}
		// PLAIN and LOGIN go through userdb.Verify for SCRAM users too.
		m, _ = New("PLAIN", creds, nil, "")
		finish(t, m, []byte("\x00"+user+"\x00"+pass), nil, user)
	}
	// CRAM-MD5 only for the PLAIN user.
	for user, want := range map[string]error{"plain": nil, "hashed": ErrAuthFailed, "nobody": ErrAuthFailed} {
		m, _ := New("CRAM-MD5", creds, nil, "")
		ch := step(t, m, nil, "*", false)
		resp := user + " " + hex.EncodeToString(hmacMD5(pw, ch))
		finish(t, m, []byte(resp), want, user)
	}
	// userdb's errors come through PLAIN.
	m, _ := New("PLAIN", creds, nil, "")
	if _, _, err := m.Next([]byte("\x00hashed\x00wrong")); !errors.Is(err, ErrAuthFailed) || !errors.Is(err, userdb.ErrBadPassword) {
		t.Errorf("PLAIN wrong password: %v", err)
	}
}
