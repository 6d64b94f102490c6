package userdb

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// rfc7677Field is the RFC 7677 §3 example user ("pencil", the given salt,
// 4096 iterations) in Dovecot's format; `doveadm pw -t` verifies it.
const rfc7677Field = "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

// The derivation checked against the whole RFC 7677 §3 exchange: the
// client's proof opens with our StoredKey, and our ServerKey signs what the
// RFC's server signs.
func TestSCRAMKeysRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	stored, server := scramKeys("pencil", salt, 4096)
	const (
		clientFirstBare = "n=user,r=rOprNGfwEbeRWgbNEkqO"
		serverFirst     = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
		finalNoProof    = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
		proof           = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
		serverSig       = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
	)
	authMessage := clientFirstBare + "," + serverFirst + "," + finalNoProof
	p, _ := base64.StdEncoding.DecodeString(proof)
	clientKey := hmacSHA256(stored, authMessage)
	subtle.XORBytes(clientKey, clientKey, p)
	if h := sha256.Sum256(clientKey); !bytes.Equal(h[:], stored) {
		t.Error("the RFC's ClientProof does not open with our StoredKey")
	}
	if got := base64.StdEncoding.EncodeToString(hmacSHA256(server, authMessage)); got != serverSig {
		t.Errorf("ServerSignature = %s, want %s", got, serverSig)
	}
	if got := "{SCRAM-SHA-256}" + newSCRAM("pencil", salt, 4096).String(); got != rfc7677Field {
		t.Errorf("field = %s\nwant    %s", got, rfc7677Field)
	}
}

func TestSCRAMVerify(t *testing.T) {
	for _, field := range []string{rfc7677Field, strings.Replace(rfc7677Field, "SCRAM-SHA-256", "scram-sha-256", 1)} {
		s := parseSecret(field)
		if !s.ok || s.scheme != SchemeSCRAM {
			t.Fatalf("%s: scheme %q ok %v (%s)", field, s.scheme, s.ok, s.why)
		}
		if !s.verify("pencil") {
			t.Error("right password refused")
		}
		for _, wrong := range []string{"", "pencil ", "Pencil", "pencil\x00"} {
			if s.verify(wrong) {
				t.Errorf("wrong password %q accepted", wrong)
			}
		}
	}
	f, _ := open(t, "user:"+rfc7677Field+"\n")
	if u, err := f.Verify("user", "pencil"); err != nil || u.Scheme != SchemeSCRAM {
		t.Errorf("Verify = %v, %v", u.Scheme, err)
	}
	if _, err := f.Verify("user", "pen"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("Verify(wrong) = %v", err)
	}
}

// Hashes made by the real doveadm, when it is installed.
func TestSCRAMDoveadm(t *testing.T) {
	if _, err := exec.LookPath("doveadm"); err != nil {
		t.Skip("no doveadm")
	}
	for _, pw := range []string{"pencil", "pässwörd with spaces, and = signs", strings.Repeat("long", 100)} {
		out, err := exec.Command("doveadm", "pw", "-s", "SCRAM-SHA-256", "-p", pw).Output()
		if err != nil {
			t.Skipf("doveadm pw: %v", err)
		}
		field := strings.TrimSpace(string(out))
		s := parseSecret(field)
		if !s.ok || s.scheme != SchemeSCRAM {
			t.Fatalf("doveadm's %s: %s (%s)", field, s.scheme, s.why)
		}
		if !s.verify(pw) || s.verify(pw+"x") {
			t.Errorf("doveadm's hash does not verify %q exactly", pw)
		}
		// And doveadm verifies ours.
		h, err := Hash(SchemeSCRAM, pw)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("doveadm", "pw", "-t", h, "-p", pw).CombinedOutput(); err != nil || !strings.Contains(string(out), "(verified)") {
			t.Errorf("doveadm pw -t on our hash: %v: %s", err, out)
		}
	}
}

func TestSCRAMRefused(t *testing.T) {
	const (
		salt   = "W22ZaJ0SNY7soEsUEjb6gQ=="
		stored = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
		server = "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
	)
	for _, body := range []string{
		"",
		"4096",
		"4096," + salt + "," + stored,
		"4096," + salt + "," + stored + "," + server + ",x",
		"4095," + salt + "," + stored + "," + server, // Dovecot's minimum is 4096
		"1000," + salt + "," + stored + "," + server,
		"-4096," + salt + "," + stored + "," + server,
		"+4096," + salt + "," + stored + "," + server,
		"99999999999," + salt + "," + stored + "," + server,
		"10000001," + salt + "," + stored + "," + server,
		"4096,," + stored + "," + server,
		"4096,W22ZaJ0SNY7soEsUEjb6gQ," + stored + "," + server, // no padding
		"4096," + salt + "," + stored[:40] + "," + server,
		"4096," + salt + "," + stored + "," + server[:40] + "=",
		"4096," + salt + "," + server + "x," + server,
		"4096," + salt + ",c2hvcnQ=," + server,
		" 4096," + salt + "," + stored + "," + server,
	} {
		s := parseSecret("{SCRAM-SHA-256}" + body)
		if s.ok || s.scheme != SchemeSCRAM || s.why == "" {
			t.Errorf("%q: ok %v scheme %q why %q", body, s.ok, s.scheme, s.why)
		}
		if s.verify("pencil") {
			t.Errorf("%q: verify accepted", body)
		}
	}
	// Without the prefix it is no crypt(3) hash.
	if s := parseSecret(rfc7677Field[len("{SCRAM-SHA-256}"):]); s.ok {
		t.Error("prefix-less SCRAM accepted")
	}
	// Other SCRAM flavours are not supported.
	if s := parseSecret("{SCRAM-SHA-1}4096,W22ZaJ0SNY7soEsUEjb6gQ==,x,y"); s.ok || s.scheme != "SCRAM-SHA-1" {
		t.Errorf("SCRAM-SHA-1: %v %q", s.ok, s.scheme)
	}
}

func TestUserSCRAM(t *testing.T) {
	bcryptField, err := Hash("BLF-CRYPT", "pw")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := open(t, "user:"+rfc7677Field+"\n"+
		"plain:{PLAIN}pencil\n"+
		"clear:{CLEAR}pencil\n"+
		"blf:"+bcryptField+"\n"+
		"bad:{SCRAM-SHA-256}1000,x,y,z\n")

	u, _ := f.Lookup("user")
	it, salt, stored, server, ok := u.SCRAM()
	if !ok || it != 4096 || base64.StdEncoding.EncodeToString(salt) != "W22ZaJ0SNY7soEsUEjb6gQ==" {
		t.Fatalf("SCRAM() = %d, %x, ok %v", it, salt, ok)
	}
	if s, v := scramKeys("pencil", salt, it); !bytes.Equal(s, stored) || !bytes.Equal(v, server) {
		t.Error("stored keys differ from the derivation")
	}
	// The slices are copies.
	stored[0] ^= 0xff
	if _, _, stored2, _, _ := u.SCRAM(); stored2[0] == stored[0] {
		t.Error("SCRAM() returned the user's own slice")
	}
	if u.AllowsCleartextEquivalent() {
		t.Error("SCRAM user allows cleartext equivalents")
	}

	var salts [][]byte
	for _, name := range []string{"plain", "clear"} {
		u, _ := f.Lookup(name)
		it, salt, stored, server, ok := u.SCRAM()
		if !ok || it != scramIterations || len(salt) != scramSaltLen {
			t.Fatalf("%s: SCRAM() = %d, %x, %v", name, it, salt, ok)
		}
		if s, v := scramKeys("pencil", salt, it); !bytes.Equal(s, stored) || !bytes.Equal(v, server) {
			t.Errorf("%s: keys are not those of the password", name)
		}
		// Deterministic: the salt of the first challenge is the one the
		// proof is checked with.
		if it2, salt2, stored2, server2, _ := u.SCRAM(); it2 != it || !bytes.Equal(salt2, salt) || !bytes.Equal(stored2, stored) || !bytes.Equal(server2, server) {
			t.Errorf("%s: SCRAM() differs between calls", name)
		}
		if !u.AllowsCleartextEquivalent() {
			t.Errorf("%s: PLAIN user does not allow cleartext equivalents", name)
		}
		salts = append(salts, salt)
	}
	if bytes.Equal(salts[0], salts[1]) {
		t.Error("two users got the same salt")
	}

	for _, name := range []string{"blf", "bad"} {
		u, _ := f.Lookup(name)
		if _, _, _, _, ok := u.SCRAM(); ok {
			t.Errorf("%s: SCRAM() ok", name)
		}
		if u.AllowsCleartextEquivalent() {
			t.Errorf("%s: allows cleartext equivalents", name)
		}
	}
	if _, _, _, _, ok := (User{}).SCRAM(); ok {
		t.Error("zero User has SCRAM credentials")
	}
	if (User{}).AllowsCleartextEquivalent() {
		t.Error("zero User allows cleartext equivalents")
	}
}
