package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// RFC 6856 test users: josé's name and password are UTF-8, stored (by
// userdb.Hash, as doveadm pw does) exactly as given, in NFC.
var (
	jose = account{"jos\u00e9", "p\u00e4ssw\u00f6rd caf\u00e9", ""}
	// zoë's hash was made from the decomposed (NFD) spelling of her
	// password, as a hash made before popd prepared passwords may be.
	zoe = account{"zo\u00eb", "n\u0061\u0308ive", "SHA512-CRYPT"}
	// tabby's password holds a character SASLprep prohibits.
	tabby = account{"tabby", "tab\there", "ARGON2ID"}
)

const (
	joseNFD     = "jose\u0301"
	josePassNFD = "pa\u0308sswo\u0308rd cafe\u0301"
	needsUTF8   = "-ERR [UTF8] message needs UTF-8 mode (send UTF8 before logging in)"
)

// josé's mail: an ASCII message, one with RFC 6532 UTF-8 header fields, and
// one whose header is ASCII and body 8-bit.
var utf8Mail = []struct{ stored, wire string }{
	{"Subject: plain\n\nascii\n", "Subject: plain\r\n\r\nascii\r\n"},
	{"From: J\u00f6rg <j\u00f6rg@b\u00fccher.example>\nSubject: caf\u00e9\n\n.body\n",
		"From: J\u00f6rg <j\u00f6rg@b\u00fccher.example>\r\nSubject: caf\u00e9\r\n\r\n.body\r\n"},
	{"Subject: 8bit\n\n\u00e9t\u00e9\n", "Subject: 8bit\r\n\r\n\u00e9t\u00e9\r\n"},
}

func utf8Env(t *testing.T) *env {
	e := newEnv(t, []account{alice, jose, zoe, tabby}, nil)
	for _, m := range utf8Mail {
		e.deliver(jose.name, m.stored)
	}
	return e
}

// A client that never says UTF8 (RFC 6856 §2.1): it may log in with UTF-8
// (§2.2, the USER argument of the capability), sees every message listed,
// and is refused the one whose header is not ASCII (§5).
func TestUTF8WithoutUTF8Mode(t *testing.T) {
	t.Parallel()
	e := utf8Env(t)
	c := e.dial()
	if capa := capaOf(c); !slices.Contains(capa, "UTF8 USER") {
		t.Fatalf("CAPA %q lacks UTF8 USER", capa)
	}
	c.Err("USER jos\xe9", "-ERR user name is not valid UTF-8")
	c.Err("USER jos\u00e9\ue000", "-ERR user name contains a character not allowed in user names")
	// The decomposed spellings of both name and password log in.
	c.OK("USER " + joseNFD)
	c.OK("PASS " + josePassNFD)
	c.Err("UTF8", "-ERR command not valid in this state")
	if capa := capaOf(c); !slices.Contains(capa, "UTF8 USER") {
		t.Fatalf("CAPA in TRANSACTION %q lacks UTF8 USER", capa)
	}
	c.OK("LIST")
	want := ""
	for i, m := range utf8Mail {
		want += fmt.Sprintf("%d %d\r\n", i+1, len(m.wire))
	}
	if got := c.Multi(); got != want {
		t.Errorf("LIST = %q, want %q", got, want)
	}
	c.OK("RETR 1")
	if got := unstuff(c.Multi()); got != utf8Mail[0].wire {
		t.Errorf("RETR 1 = %q", got)
	}
	c.Err("RETR 2", needsUTF8)
	c.Err("TOP 2 0", needsUTF8)
	c.OK("RETR 3")
	if got := unstuff(c.Multi()); got != utf8Mail[2].wire {
		t.Errorf("RETR 3 = %q", got)
	}
	c.OK("DELE 3")
	c.OK("QUIT")
	if n := len(e.files(jose.name)); n != 2 {
		t.Errorf("%d messages left, want 2", n)
	}
}

// A client in UTF-8 mode gets every message as it is stored, and may not
// start TLS any more (§2.1).
func TestUTF8Mode(t *testing.T) {
	t.Parallel()
	e := utf8Env(t)
	c := e.dial()
	c.Err("UTF8 now", "-ERR syntax error")
	c.OK("UTF8")
	c.Err("STLS", "-ERR STLS is not allowed after UTF8")
	c.OK("USER " + jose.name)
	c.OK("PASS " + jose.pass)
	for i, m := range utf8Mail {
		if got, want := c.OK(fmt.Sprintf("RETR %d", i+1)), fmt.Sprintf("+OK %d octets", len(m.wire)); got != want {
			t.Errorf("RETR %d = %q, want %q", i+1, got, want)
		}
		if got := unstuff(c.Multi()); got != m.wire {
			t.Errorf("RETR %d sent %q, want %q", i+1, got, m.wire)
		}
	}
	c.OK("TOP 2 0")
	if got, want := c.Multi(), strings.SplitAfter(utf8Mail[1].wire, "\r\n\r\n")[0]; got != want {
		t.Errorf("TOP 2 0 = %q, want %q", got, want)
	}
	c.OK("QUIT")
}

// Passwords: every hash already stored keeps verifying from the bytes it
// was made of; the prepared form (RFC 8265 OpaqueString) of what the client
// sends is tried as well.
func TestUTF8Passwords(t *testing.T) {
	t.Parallel()
	e := utf8Env(t)
	for _, tc := range []struct {
		a    account
		pass string
		ok   bool
	}{
		{jose, jose.pass, true},
		{jose, josePassNFD, true},
		{jose, "p\u00e4ssw\u00f6rd\u00a0caf\u00e9", true}, // a no-break space
		{jose, "p\u00e4ssw\u00f6rd cafe", false},
		{zoe, zoe.pass, true},      // the raw NFD bytes of the stored hash
		{zoe, "n\u00e4ive", false}, // NFC: its prepared form is not what was hashed
		{tabby, tabby.pass, true},  // SASLprep would refuse it; the raw compare does not
		{alice, alice.pass, true},
	} {
		c := e.dial()
		c.OK("USER " + tc.a.name)
		if tc.ok {
			c.OK("PASS " + tc.pass)
			c.OK("QUIT")
		} else {
			c.Err("PASS "+tc.pass, "-ERR [AUTH] invalid user name or password")
		}
	}
	c := e.dial()
	c.OK("USER " + jose.name)
	c.Err("PASS p\xe4ssw\xf6rd", "-ERR password is not valid UTF-8")
	c.Err("PASS "+jose.pass, "-ERR send USER first")
}
