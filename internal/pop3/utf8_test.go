package pop3_test

import (
	"regexp"
	"strings"
	"testing"

	"popd/internal/pop3"
	"popd/internal/pop3/pop3test"
)

// josé's messages, in network form: what a client in UTF-8 mode gets, and
// what one that never said UTF8 may or may not get (RFC 6856 §2.1).
var joseMsgs = []string{
	"Subject: plain\r\n\r\nbody\r\n",                                            // ASCII
	"Subject: caf\u00e9\r\n\r\nbody\r\n",                                        // an RFC 6532 header
	"Subject: 8bit\r\n\r\ncaf\u00e9 \xe9t\xe9\r\n",                              // 8-bit body, ASCII header
	"Subject: caf\xe9\r\n\r\nLatin-1 header\r\n",                                // raw 8-bit header, not even UTF-8
	"X-Long: " + strings.Repeat("a", 5000) + "\r\nSubject: \u00e9\r\n\r\nb\r\n", // past any one buffer
	"X-Long: " + strings.Repeat("a", 5000) + "\r\n\r\n\u00e9\r\n",               // the same, body only
	"Subject: no body \u00e9",                                                   // all header
}

// The strings a client may type: NFC "josé", its NFD spelling, and the
// password in both forms.
const (
	joseNFC = "jos\u00e9"
	joseNFD = "jose\u0301"
	passNFC = "p\u00e4ssw\u00f6rd"
	passNFD = "pa\u0308sswo\u0308rd"
)

// utf8Backend is newBackend with josé, whose name and password are UTF-8
// (stored, as a users file should have them, in NFC).
func utf8Backend() *pop3test.Backend {
	b := newBackend()
	b.Users[joseNFC] = &pop3test.User{Password: passNFC, Secret: "s\u00e9cret", Mailbox: pop3test.NewMailbox(joseMsgs...)}
	return b
}

// Responses of the UTF8 extension.
const (
	utf8OK      = "+OK UTF-8 mode enabled\r\n"
	locked7     = "+OK maildrop locked and ready, 7 messages\r\n"
	needsUTF8   = "-ERR [UTF8] message needs UTF-8 mode (send UTF8 before logging in)\r\n"
	nameNotUTF8 = "-ERR user name is not valid UTF-8\r\n"
	nameBadChar = "-ERR user name contains a character not allowed in user names\r\n"
	passNotUTF8 = "-ERR password is not valid UTF-8\r\n"
	stlsUTF8    = "-ERR STLS is not allowed after UTF8\r\n"
)

// jose logs in as josé with the names and password as given.
func jose(name, pass string) string { return "USER " + name + "\r\nPASS " + pass }

var utf8Rows = []struct {
	env, send, want string
	then            pop3.State
}{
	// RFC 6856 §2: the UTF8 capability, with USER (§2.2), in both states.
	{"", "CAPA", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"alice", "CAPA", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), T},
	// §2.1: STLS after UTF8 is refused, so it is not offered either.
	{"", "UTF8\r\nCAPA", utf8OK + capa("USER", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"", "UTF8\r\nSTLS", utf8OK + stlsUTF8, A},
	{"tls", "UTF8\r\nCAPA", utf8OK + capa("USER", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},

	// §2.1 the UTF8 command: no arguments, AUTHORIZATION only.
	{"", "UTF8", utf8OK, A},
	{"", "utf8", utf8OK, A},
	{"", "UTF8\r\nUTF8", utf8OK + utf8OK, A},
	{"", "UTF8 x", syntax, A},
	{"", "UTF8 ", utf8OK, A},                                    // as "CAPA "
	{"user", "UTF8\r\nPASS correct horse", utf8OK + locked3, T}, // between USER and PASS
	{"alice", "UTF8", wrongState, T},
	{"", "UTF8\r\nUSER alice\r\nPASS correct horse\r\nUTF8", utf8OK + sendPass + locked3 + wrongState, T},

	// §2.2: UTF-8 names and passwords, before UTF8 or after it; names are
	// prepared (RFC 8265 UsernameCasePreserved: width folding, NFC), so
	// the NFD and fullwidth spellings reach josé.
	{"", jose(joseNFC, passNFC), sendPass + locked7, T},
	{"", "UTF8\r\n" + jose(joseNFC, passNFC), utf8OK + sendPass + locked7, T},
	{"", jose(joseNFD, passNFC), sendPass + locked7, T},
	{"", jose("\uff4a\uff4f\uff53\u00e9", passNFC), sendPass + locked7, T},
	{"", "APOP " + joseNFC + " 0123456789abcdef0123456789abcdef", authFailed, A},
	// ...and only valid UTF-8, without characters SASLprep prohibits.
	{"", "USER jos\xe9", nameNotUTF8, A},
	{"", "USER jos\xe9\r\nPASS " + passNFC, nameNotUTF8 + "-ERR send USER first\r\n", A},
	{"", "USER \xc0\xaf", nameNotUTF8, A},        // an overlong "/"
	{"", "USER \xed\xa0\x80", nameNotUTF8, A},    // a surrogate
	{"", "USER jos\u00e9\ue000", nameBadChar, A}, // private use
	{"", "USER jos\u00e9\u200e", nameBadChar, A}, // a direction mark
	{"", "USER a\tb", nameBadChar, A},            // a control character
	{"", "USER ab\u0007", nameBadChar, A},
	{"", "APOP jos\xe9 0123456789abcdef0123456789abcdef", nameNotUTF8, A},
	{"", "APOP jos\u00e9\ue000 0123456789abcdef0123456789abcdef", nameBadChar, A},
	{"", "USER " + joseNFC + "\r\nPASS p\xe4ssw\xf6rd", sendPass + passNotUTF8, A},
	{"", "USER " + joseNFC + "\r\nPASS p\xe4ss\r\nPASS " + passNFC, sendPass + passNotUTF8 + "-ERR send USER first\r\n", A},
	{"", "PASS p\xe4ss", "-ERR send USER first\r\n", A},
	// A password is not prepared here: the Backend compares it (userdb
	// compares both forms), and this Backend compares bytes.
	{"", jose(joseNFC, passNFD), sendPass + authFailed, A},
	{"", jose(joseNFC, "p\u00e4ss\ue000"), sendPass + authFailed, A},

	// §2.1, §4, §5: a client that never said UTF8 gets no message whose
	// header is not ASCII; it still sees them listed, and may delete them.
	{"", jose(joseNFC, passNFC) + "\r\nRETR 1", sendPass + locked7 + multi("+OK 24 octets", "Subject: plain", "", "body"), T},
	{"", jose(joseNFC, passNFC) + "\r\nRETR 2", sendPass + locked7 + needsUTF8, T},
	{"", jose(joseNFC, passNFC) + "\r\nTOP 2 0", sendPass + locked7 + needsUTF8, T},
	{"", jose(joseNFC, passNFC) + "\r\nRETR 3", sendPass + locked7 + multi("+OK 28 octets", "Subject: 8bit", "", "caf\u00e9 \xe9t\xe9"), T},
	{"", jose(joseNFC, passNFC) + "\r\nRETR 4", sendPass + locked7 + needsUTF8, T},
	{"", jose(joseNFC, passNFC) + "\r\nRETR 5", sendPass + locked7 + needsUTF8, T},
	{"", jose(joseNFC, passNFC) + "\r\nTOP 6 0", sendPass + locked7 + multi("+OK top of message follows", "X-Long: "+strings.Repeat("a", 5000), ""), T},
	{"", jose(joseNFC, passNFC) + "\r\nTOP 7 0", sendPass + locked7 + needsUTF8, T},
	{"", jose(joseNFC, passNFC) + "\r\nLIST 2\r\nUIDL 2", sendPass + locked7 + "+OK 2 24\r\n+OK 2 uid-2\r\n", T},
	{"", jose(joseNFC, passNFC) + "\r\nRETR 2\r\nLAST\r\nDELE 2\r\nSTAT", sendPass + locked7 + needsUTF8 + "+OK 0\r\n+OK message 2 deleted\r\n+OK 6 10148\r\n", T},
	{"", jose(joseNFC, passNFC) + "\r\nRETR 8", sendPass + locked7 + noSuch, T}, // the usual checks come first
	// In UTF-8 mode every message is sent as it is.
	{"", "UTF8\r\n" + jose(joseNFC, passNFC) + "\r\nRETR 2", utf8OK + sendPass + locked7 + multi("+OK 24 octets", "Subject: caf\u00e9", "", "body"), T},
	{"", "UTF8\r\n" + jose(joseNFC, passNFC) + "\r\nTOP 2 0", utf8OK + sendPass + locked7 + multi("+OK top of message follows", "Subject: caf\u00e9", ""), T},
	{"", "UTF8\r\n" + jose(joseNFC, passNFC) + "\r\nRETR 4", utf8OK + sendPass + locked7 + multi("+OK 33 octets", "Subject: caf\xe9", "", "Latin-1 header"), T},
	{"", "UTF8\r\n" + jose(joseNFC, passNFC) + "\r\nTOP 7 0", utf8OK + sendPass + locked7 + multi("+OK top of message follows", "Subject: no body \u00e9"), T},
	// A message that vanished is reported as before.
	{"bob", "RETR 1", vanished, T},
	{"bob", "RETR 2", vanished, T},
}

func TestUTF8Commands(t *testing.T) {
	for i, r := range utf8Rows {
		t.Run(name(i, r.env, r.send), func(t *testing.T) {
			t.Parallel()
			b := utf8Backend()
			c := start(t, r.env, b)
			c.Do(r.send, r.want)
			if got := c.Session.Info().State; got != r.then {
				t.Errorf("state %v, want %v", got, r.then)
			}
			c.Hangup()
			c.Wait()
			if ups := released(t, b); len(ups) > 0 {
				t.Errorf("maildrop updated without QUIT: %v", ups)
			}
			for _, l := range b.Logins() {
				if b.Users[l.User] == nil {
					t.Errorf("logged in as %q", l.User)
				}
			}
		})
	}
}

// RFC 6856 §2.2: the APOP user name is prepared like USER's.
func TestUTF8APOP(t *testing.T) {
	b := utf8Backend()
	c := pop3test.Start(t, newConfig(t, b))
	ts := regexp.MustCompile(`<[^>]+>`).FindString(c.Greeting)
	c.Do("APOP "+joseNFD+" "+pop3test.APOPDigest(ts, "s\u00e9cret"), locked7)
	if l := b.Logins(); len(l) != 1 || l[0].User != joseNFC || l[0].Method != "APOP" {
		t.Errorf("logins %+v", l)
	}
}

// RFC 6856 §2.1: without UTF-8 mode nothing outside ASCII goes to the
// client as is, not even a configured IMPLEMENTATION; in UTF-8 mode it does.
func TestUTF8ResponseText(t *testing.T) {
	b := utf8Backend()
	cfg := newConfig(t, b)
	cfg.Implementation = "popd-\u00e9t\u00e9\r\nX"
	c := pop3test.Start(t, cfg)
	c.Do("CAPA", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd-?t???X"))
	c.Do("UTF8", utf8OK)
	c.Do("CAPA", capa("USER", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd-\u00e9t\u00e9??X"))
}
