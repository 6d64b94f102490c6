package sasl

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

func testCreds() *mapCreds {
	return &mapCreds{
		plain: map[string]string{
			"tim":   "tanstaaftanstaaf",
			"alice": "secret pw",
			"bob":   "bob's pw",
			"ünï":   "pässwörd",
		},
		noCleartext: map[string]bool{"bob": true},
	}
}

func TestNew(t *testing.T) {
	for _, name := range Names {
		for _, n := range []string{name, strings.ToLower(name)} {
			m, err := New(n, testCreds(), nil, "")
			if err != nil || m == nil {
				t.Errorf("New(%q) = %v, %v", n, m, err)
			}
		}
	}
	for _, n := range []string{"", "DIGEST-MD5", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1", "XOAUTH2", "PLAIN "} {
		if m, err := New(n, testCreds(), nil, ""); !errors.Is(err, ErrUnknownMechanism) || m != nil {
			t.Errorf("New(%q) = %v, %v", n, m, err)
		}
	}
}

func TestPLAIN(t *testing.T) {
	creds := testCreds()
	newPlain := func() Mechanism {
		m, err := New("PLAIN", creds, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// Initial response.
	for _, msg := range []string{"\x00alice\x00secret pw", "alice\x00alice\x00secret pw", "\x00ünï\x00pässwörd"} {
		m := newPlain()
		user := strings.Split(msg, "\x00")[1]
		finish(t, m, []byte(msg), nil, user)
	}
	// No initial response: an empty challenge first.
	m := newPlain()
	step(t, m, nil, "", false)
	finish(t, m, []byte("\x00alice\x00secret pw"), nil, "alice")

	failures := []struct {
		msg  string
		want error
	}{
		{"\x00alice\x00wrong", ErrAuthFailed},
		{"\x00alice\x00secret pw\x00", ErrMalformed},
		{"\x00nobody\x00secret pw", ErrAuthFailed},
		{"bob\x00alice\x00secret pw", ErrAuthz},
		{"bob\x00alice\x00wrong", ErrAuthz},
		{"", ErrMalformed},
		{"alice", ErrMalformed},
		{"alice\x00secret pw", ErrMalformed},
		{"\x00\x00secret pw", ErrMalformed},
		{"\x00alice\x00", ErrMalformed},
		{"\x00al\xffice\x00secret pw", ErrMalformed},
		{"\xff\x00alice\x00secret pw", ErrMalformed},
		{"\x00alice\x00" + strings.Repeat("x", MaxResponseLen), ErrMalformed},
	}
	for _, f := range failures {
		finish(t, newPlain(), []byte(f.msg), f.want, "")
	}
	// Verify's own error comes through, with ErrAuthFailed.
	_, _, err := newPlain().Next([]byte("\x00alice\x00wrong"))
	if !errors.Is(err, errTestBadPassword) || !errors.Is(err, ErrAuthFailed) {
		t.Errorf("err = %v, want both ErrAuthFailed and Verify's error", err)
	}
	if strings.Contains(err.Error(), "wrong") && !strings.Contains(errTestBadPassword.Error(), "wrong") {
		t.Errorf("password in error: %v", err)
	}
	// An empty initial response is an empty message, not "none".
	finish(t, newPlain(), []byte{}, ErrMalformed, "")
	// Asked once; nothing again is malformed.
	m = newPlain()
	step(t, m, nil, "", false)
	finish(t, m, nil, ErrMalformed, "")
}

func TestLOGIN(t *testing.T) {
	creds := testCreds()
	newLogin := func() Mechanism {
		m, err := New("login", creds, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := newLogin()
	step(t, m, nil, "Username:", false)
	step(t, m, []byte("alice"), "Password:", false)
	finish(t, m, []byte("secret pw"), nil, "alice")

	// The initial response is the user name.
	m = newLogin()
	step(t, m, []byte("ünï"), "Password:", false)
	finish(t, m, []byte("pässwörd"), nil, "ünï")

	m = newLogin()
	step(t, m, []byte("alice"), "Password:", false)
	finish(t, m, []byte("wrong"), ErrAuthFailed, "")

	m = newLogin()
	step(t, m, nil, "Username:", false)
	step(t, m, []byte("nobody"), "Password:", false)
	finish(t, m, []byte("secret pw"), ErrAuthFailed, "")

	m = newLogin()
	step(t, m, []byte("alice"), "Password:", false)
	finish(t, m, []byte{}, ErrAuthFailed, "")

	for _, name := range [][]byte{{}, []byte("a\x00b"), []byte("\xff"), bytes.Repeat([]byte("x"), MaxResponseLen+1)} {
		finish(t, newLogin(), name, ErrMalformed, "")
		m := newLogin()
		step(t, m, nil, "Username:", false)
		finish(t, m, name, ErrMalformed, "")
	}
	m = newLogin()
	step(t, m, nil, "Username:", false)
	finish(t, m, nil, ErrMalformed, "")

	m = newLogin()
	step(t, m, []byte("alice"), "Password:", false)
	finish(t, m, bytes.Repeat([]byte("x"), MaxResponseLen+1), ErrMalformed, "")
}

// RFC 2195 §2's example, with the challenge fixed to the RFC's.
func TestCRAMMD5RFC2195(t *testing.T) {
	m, err := New("CRAM-MD5", testCreds(), fixedNonce("1896"), "postoffice.reston.mci.net")
	if err != nil {
		t.Fatal(err)
	}
	m.(*cramMD5).now = func() time.Time { return time.Unix(697170952, 0) }
	step(t, m, nil, "<1896.697170952@postoffice.reston.mci.net>", false)
	finish(t, m, []byte("tim b913a602c7eda7a495b4e6e7334d3890"), nil, "tim")
}

func TestCRAMMD5(t *testing.T) {
	creds := testCreds()
	creds.plain["with space"] = "sp"
	start := func(t *testing.T) (Mechanism, []byte) {
		m, err := New("CRAM-MD5", creds, nil, "pop.example")
		if err != nil {
			t.Fatal(err)
		}
		return m, step(t, m, nil, "*", false)
	}
	digest := func(secret string, ch []byte) string {
		h := hmacMD5(secret, ch)
		return fmt.Sprintf("%x", h)
	}
	_, ch := start(t)
	if !regexp.MustCompile(`^<[A-Za-z0-9_-]{24}\.[0-9]+@pop\.example>$`).Match(ch) {
		t.Errorf("challenge %q", ch)
	}
	if _, ch2 := start(t); bytes.Equal(ch, ch2) {
		t.Error("same challenge twice")
	}

	for _, user := range []string{"alice", "ünï", "with space"} {
		m, ch := start(t)
		finish(t, m, []byte(user+" "+digest(creds.plain[user], ch)), nil, user)
	}
	// Upper-case hex is accepted.
	m, ch := start(t)
	finish(t, m, []byte("alice "+strings.ToUpper(digest("secret pw", ch))), nil, "alice")

	for _, tc := range []struct {
		name string
		resp func(ch []byte) string
		want error
	}{
		{"wrong secret", func(ch []byte) string { return "alice " + digest("secret", ch) }, ErrAuthFailed},
		{"other challenge", func(ch []byte) string { return "alice " + digest("secret pw", []byte("<1.2@x>")) }, ErrAuthFailed},
		{"unknown user", func(ch []byte) string { return "nobody " + digest("secret pw", ch) }, ErrAuthFailed},
		{"dummy secret", func(ch []byte) string { return "nobody " + digest(cramDummySecret, ch) }, ErrAuthFailed},
		{"no plaintext", func(ch []byte) string { return "bob " + digest("bob's pw", ch) }, ErrAuthFailed},
		{"empty", func(ch []byte) string { return "" }, ErrMalformed},
		{"no user", func(ch []byte) string { return " " + digest("secret pw", ch) }, ErrMalformed},
		{"no space", func(ch []byte) string { return "alice" + digest("secret pw", ch) }, ErrMalformed},
		{"short digest", func(ch []byte) string { return "alice " + digest("secret pw", ch)[1:] }, ErrMalformed},
		{"long digest", func(ch []byte) string { return "alice " + digest("secret pw", ch) + "0" }, ErrMalformed},
		{"not hex", func(ch []byte) string { return "alice " + strings.Repeat("g", 32) }, ErrMalformed},
		{"bad name", func(ch []byte) string { return "\xff " + digest("secret pw", ch) }, ErrMalformed},
		{"too long", func(ch []byte) string { return strings.Repeat("x", MaxResponseLen) + " " + digest("secret pw", ch) }, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ch := start(t)
			finish(t, m, []byte(tc.resp(ch)), tc.want, "")
		})
	}
	// CRAM-MD5 is server-first.
	for _, ir := range [][]byte{{}, []byte("alice 0123")} {
		m, _ := New("CRAM-MD5", creds, nil, "")
		finish(t, m, ir, ErrMalformed, "")
	}
	// A broken nonce source fails closed.
	m, _ = New("CRAM-MD5", creds, fixedNonce("a@b"), "")
	if ch, done, err := m.Next(nil); !done || err == nil || ch != nil {
		t.Errorf("bad nonce: %q, %v, %v", ch, done, err)
	}
}

// No error shows a password, a proof, or a key.
func TestNoSecretsShown(t *testing.T) {
	const pw = "SuperSecretPassword"
	creds := &mapCreds{plain: map[string]string{"alice": pw + "x"}}
	var errs []error
	for _, msg := range []string{"\x00alice\x00" + pw, "\x00alice\x00" + pw + "\x00", "x\x00alice\x00" + pw} {
		m, _ := New("PLAIN", creds, nil, "")
		_, _, err := m.Next([]byte(msg))
		errs = append(errs, err)
	}
	m, _ := New("LOGIN", creds, nil, "")
	m.Next([]byte("alice"))
	_, _, err := m.Next([]byte(pw))
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("error %v", err)
		}
	}

	c := DeriveSCRAM(pw, []byte("salt"), 4096)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("creds", "c", c)
	shown := fmt.Sprintf("%v %+v %#v %s %x %q", c, c, c, c, c, c) + logs.String()
	for _, key := range [][]byte{c.StoredKey, c.ServerKey} {
		for _, enc := range []string{fmt.Sprintf("%x", key), fmt.Sprintf("%v", key), string(key)} {
			if strings.Contains(shown, enc) {
				t.Errorf("key shown: %s", shown)
			}
		}
	}
	if !strings.Contains(shown, "4096") {
		t.Errorf("iterations not shown: %s", shown)
	}
}
