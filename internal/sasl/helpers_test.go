package sasl

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// errTestBadPassword is what mapCreds.Verify returns for a wrong password.
var errTestBadPassword = errors.New("test: wrong password")

// mapCreds is Credentials backed by maps.
type mapCreds struct {
	plain       map[string]string           // Verify and Plaintext
	scram       map[string]SCRAMCredentials // SCRAM
	noCleartext map[string]bool             // users whose plaintext Plaintext hides
}

func (c *mapCreds) Verify(user, password string) error {
	p, ok := c.plain[user]
	if !ok || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
		return errTestBadPassword
	}
	return nil
}

func (c *mapCreds) Plaintext(user string) (string, bool) {
	p, ok := c.plain[user]
	if !ok || c.noCleartext[user] {
		return "", false
	}
	return p, true
}

func (c *mapCreds) SCRAM(user string) (SCRAMCredentials, bool) {
	s, ok := c.scram[user]
	return s, ok
}

// step runs one Next and fails the test on an unexpected outcome.
func step(t *testing.T, m Mechanism, resp []byte, wantChallenge string, wantDone bool) []byte {
	t.Helper()
	ch, done, err := m.Next(resp)
	if err != nil || done != wantDone {
		t.Fatalf("Next(%q) = %q, done %v, %v; want done %v", resp, ch, done, err, wantDone)
	}
	if wantChallenge != "*" && string(ch) != wantChallenge {
		t.Fatalf("Next(%q) challenge %q, want %q", resp, ch, wantChallenge)
	}
	return ch
}

// finish runs the last Next and checks it ends with an error matching want
// (nil: success as user).
func finish(t *testing.T, m Mechanism, resp []byte, want error, user string) {
	t.Helper()
	ch, done, err := m.Next(resp)
	if !done || ch != nil {
		t.Fatalf("Next(%q) = %q, done %v, %v; want done", resp, ch, done, err)
	}
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("Next(%q): err %v, want %v", resp, err, want)
	}
	if want == nil && m.User() != user {
		t.Fatalf("User() = %q, want %q", m.User(), user)
	}
	if want != nil && m.User() != "" {
		t.Fatalf("failed exchange: User() = %q", m.User())
	}
	// Finished is finished.
	if ch, done, err := m.Next(nil); !done || err == nil || ch != nil {
		t.Fatalf("Next after the end = %q, %v, %v", ch, done, err)
	}
}

// fixedNonce returns a serverNonce func that always returns s.
func fixedNonce(s string) func() string { return func() string { return s } }

// scramClient is a SCRAM-SHA-256 client written from RFC 5802 independently
// of the server code.
type scramClient struct {
	user, pass, authz, cnonce string
	flag                      string // "n" unless set

	gs2, bare, authMessage string
	salted                 []byte
}

func scramEscape(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

func (c *scramClient) first() []byte {
	flag := c.flag
	if flag == "" {
		flag = "n"
	}
	c.gs2 = flag + ","
	if c.authz != "" {
		c.gs2 += "a=" + scramEscape(c.authz)
	}
	c.gs2 += ","
	c.bare = "n=" + scramEscape(c.user) + ",r=" + c.cnonce
	return []byte(c.gs2 + c.bare)
}

// final answers server-first; it returns the client-final message.
func (c *scramClient) final(t *testing.T, serverFirst []byte) []byte {
	t.Helper()
	attrs := strings.Split(string(serverFirst), ",")
	if len(attrs) != 3 || !strings.HasPrefix(attrs[0], "r="+c.cnonce) || !strings.HasPrefix(attrs[1], "s=") || !strings.HasPrefix(attrs[2], "i=") {
		t.Fatalf("bad server-first %q", serverFirst)
	}
	salt, err := base64.StdEncoding.DecodeString(attrs[1][2:])
	if err != nil {
		t.Fatal(err)
	}
	iter, err := strconv.Atoi(attrs[2][2:])
	if err != nil {
		t.Fatal(err)
	}
	if c.salted, err = pbkdf2.Key(sha256.New, c.pass, salt, iter, 32); err != nil {
		t.Fatal(err)
	}
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(c.gs2)) + "," + attrs[0]
	c.authMessage = c.bare + "," + string(serverFirst) + "," + withoutProof
	clientKey := mac(c.salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	proof := mac(storedKey[:], c.authMessage)
	subtle.XORBytes(proof, proof, clientKey)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof))
}

// serverFinal is the server-final message the client expects.
func (c *scramClient) serverFinal() string {
	return "v=" + base64.StdEncoding.EncodeToString(mac(mac(c.salted, "Server Key"), c.authMessage))
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// runSCRAM runs a whole exchange with c and returns the error that ended
// it; it fails the test if the exchange does not go as RFC 5802 says.
func runSCRAM(t *testing.T, creds Credentials, c *scramClient) (Mechanism, error) {
	t.Helper()
	m, err := New("scram-sha-256", creds, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	sf, done, err := m.Next(c.first())
	if done {
		return m, err
	}
	sfin, done, err := m.Next(c.final(t, sf))
	if done {
		if err == nil {
			t.Fatal("done without server-final")
		}
		return m, err
	}
	if string(sfin) != c.serverFinal() {
		t.Fatalf("server-final %q, want %q", sfin, c.serverFinal())
	}
	ch, done, err := m.Next([]byte{})
	if !done || ch != nil {
		t.Fatalf("after the empty response: %q, %v, %v", ch, done, err)
	}
	return m, err
}

func hmacMD5(secret string, msg []byte) []byte {
	h := hmac.New(md5.New, []byte(secret))
	h.Write(msg)
	return h.Sum(nil)
}
