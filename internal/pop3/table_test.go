package pop3_test

import (
	"strings"
	"testing"

	"popd/internal/pop3"
)

// rows is the protocol as the client sees it: in the state that env sets
// up (see start), send goes out in one write (CRLF-separated commands are
// pipelined), the server answers exactly want, and the session is then in
// state then. A session left open must end without another word when the
// client hangs up; one that closes (X) must close on its own.
var rows = []struct {
	env, send, want string
	then            pop3.State
}{
	// RFC 1939 §7 USER and PASS.
	{"", "USER alice", sendPass, A},
	{"", "user alice", sendPass, A},
	{"", "USER", syntax, A},
	{"", "USER ", syntax, A},
	{"", "USER two words", sendPass, A}, // the rest of the line is the name
	{"", "PASS correct horse", "-ERR send USER first\r\n", A},
	{"user", "PASS correct horse", locked3, T}, // a password may hold spaces
	{"user", "pass correct horse", locked3, T},
	{"user", "PASS correct  horse", authFailed, A},
	{"user", "PASS", authFailed, A},
	{"user", "PASS wrong\r\nPASS correct horse", authFailed + "-ERR send USER first\r\n", A},
	{"user", "USER bob\r\nPASS correct horse", sendPass + authFailed, A},
	{"", "USER nobody\r\nPASS x", sendPass + authFailed, A},
	{"", "USER carol\r\nPASS pw", sendPass + inUse, A}, // RFC 1939 §8
	{"", "USER dave\r\nPASS pw", sendPass + "-ERR [SYS/PERM] the maildrop cannot be opened, contact the administrator\r\n", A},
	{"", "USER erin\r\nPASS pw", sendPass + sysTemp, A}, // the Backend's error stays in the log
	{"", "USER a\r\nPASS x\r\nUSER a\r\nPASS x\r\nUSER a\r\nPASS x", sendPass + authFailed + sendPass + authFailed + sendPass + tooMany, X},
	{"", "USER carol\r\nPASS pw\r\nUSER carol\r\nPASS pw\r\nUSER carol\r\nPASS pw", sendPass + inUse + sendPass + inUse + sendPass + inUse, A},
	{"max1", "USER a\r\nPASS x", sendPass + tooMany, X},
	{"strict", "USER alice", plaintext, A},
	{"strict", "PASS x", "-ERR send USER first\r\n", A},
	{"strict+tls", "USER alice\r\nPASS correct horse", sendPass + locked3, T},
	{"strict+trusted", "USER alice\r\nPASS correct horse", sendPass + locked3, T}, // a trusted proxy logs in for its clients

	// RFC 1939 §7 APOP; a good digest needs the greeting (TestAPOP).
	{"", "APOP alice 0123456789abcdef0123456789abcdef", authFailed, A},
	{"", "APOP alice", syntax, A},
	{"", "APOP", syntax, A},
	{"", "APOP alice x y", syntax, A},
	{"bare", "APOP alice x", "-ERR APOP is not available\r\n", A},
	{"noapop", "APOP alice x", "-ERR APOP is not available\r\n", A},

	// RFC 5034 AUTH; AUTH alone lists the mechanisms (RFC 1734 clients).
	{"", "AUTH", multi("+OK", "PLAIN", "CRAM-MD5"), A},
	{"", "AUTH ", multi("+OK", "PLAIN", "CRAM-MD5"), A},
	{"bare", "AUTH", multi("+OK"), A},
	{"strict", "AUTH", multi("+OK", "CRAM-MD5"), A},
	{"strict+tls", "AUTH", multi("+OK", "PLAIN", "CRAM-MD5"), A},
	{"strict+trusted", "AUTH", multi("+OK", "PLAIN", "CRAM-MD5"), A},
	{"", "AUTH PLAIN " + plain("", "alice", "correct horse"), locked3, T},
	{"", "auth plain " + plain("", "alice", "correct horse"), locked3, T},
	{"", "AUTH PLAIN " + plain("alice", "alice", "correct horse"), locked3, T},
	{"", "AUTH PLAIN " + plain("bob", "alice", "correct horse"), authFailed, A},
	{"", "AUTH PLAIN " + plain("", "alice", "wrong"), authFailed, A},
	{"", "AUTH PLAIN " + plain("", "carol", "pw"), inUse, A},
	{"", "AUTH PLAIN " + plain("", "dave", "pw"), "-ERR [SYS/PERM] the maildrop cannot be opened, contact the administrator\r\n", A},
	{"", "AUTH PLAIN =", authFailed, A}, // an empty initial response
	{"", "AUTH PLAIN %%%", "-ERR invalid base64 in authentication exchange\r\n", A},
	{"", "AUTH PLAIN\r\n" + plain("", "alice", "correct horse"), "+ \r\n" + locked3, T},
	{"", "AUTH PLAIN\r\n*", "+ \r\n-ERR authentication cancelled\r\n", A}, // RFC 5034 §4
	{"", "AUTH PLAIN\r\n=", "+ \r\n" + authFailed, A},
	{"", "AUTH PLAIN\r\n%%%", "+ \r\n-ERR invalid base64 in authentication exchange\r\n", A},
	{"", "AUTH PLAIN\r\n" + strings.Repeat("QUFB", 2000), "+ \r\n" + authFailed, A},          // responses may exceed 255 octets
	{"", "AUTH PLAIN\r\n" + strings.Repeat("QUFB", 2730) + "QUE=", "+ \r\n" + authFailed, A}, // 8192 octets
	{"", "AUTH PLAIN\r\n" + strings.Repeat("QUFB", 2731), "+ \r\n" + saslLong, A},            // 8193
	{"", "AUTH PLAIN\r\n" + strings.Repeat("QUFB", 2732), "+ \r\n" + saslLong, A},
	{"", "AUTH PLAIN", "+ \r\n", A}, // and the client hangs up mid-exchange
	{"", "AUTH PLAIN x y", syntax, A},
	{"", "AUTH  PLAIN", syntax, A},
	{"", "AUTH X-UNKNOWN", "-ERR unsupported authentication mechanism\r\n", A},
	{"", "AUTH CRAM-MD5", sysTemp, A}, // offered, but the Backend cannot start it
	{"strict", "AUTH PLAIN " + plain("", "alice", "correct horse"), plaintext, A},
	{"strict", "AUTH LOGIN", plaintext, A},
	{"strict+tls", "AUTH PLAIN " + plain("", "alice", "correct horse"), locked3, T},
	{"strict+trusted", "AUTH PLAIN " + plain("", "alice", "correct horse"), locked3, T},

	// RFC 2595 §4 STLS; after it the client speaks TLS or nothing.
	{"", "STLS", "+OK begin TLS negotiation\r\n", A},
	{"", "STLS now", syntax, A},
	{"tls", "STLS", "-ERR TLS is already active\r\n", A},
	{"bare", "STLS", "-ERR STLS is not available\r\n", A},
	{"tls", "USER alice\r\nPASS correct horse", sendPass + locked3, T},

	// RFC 1081 RPOP is refused.
	{"", "RPOP alice", "-ERR RPOP is not supported: it trusts the client's port; use USER and PASS\r\n", A},

	// RFC 2449 §5 CAPA, in both states.
	{"", "CAPA", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"", "capa", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"", "CAPA x", syntax, A},
	{"tls", "CAPA", capa("USER", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"strict", "CAPA", capa("STLS", "SASL CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"strict+tls", "CAPA", capa("USER", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"strict+trusted", "CAPA", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"strict+trusted+tls", "CAPA", capa("USER", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), A},
	{"bare", "CAPA", capa("USER", "IMPLEMENTATION popd"), A},
	{"capa", "CAPA", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "LOGIN-DELAY 900", "EXPIRE NEVER", "IMPLEMENTATION popd-test"), A},
	{"alice", "CAPA", capa("USER", "STLS", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), T},
	{"tls+alice", "CAPA", capa("USER", "SASL PLAIN CRAM-MD5", "IMPLEMENTATION popd"), T},

	// RFC 1939 §4 QUIT in AUTHORIZATION: no UPDATE.
	{"", "QUIT", "+OK bye\r\n", X},
	{"", "quit", "+OK bye\r\n", X},
	{"", "QUIT now", "+OK bye\r\n", X}, // arguments are ignored
	{"user", "QUIT", "+OK bye\r\n", X},
	{"tls", "QUIT", "+OK bye\r\n", X},
	{"", "QUIT\r\nNOOP", "+OK bye\r\n", X}, // nothing after QUIT is run

	// RFC 1939 §4: the TRANSACTION commands wait for a login...
	{"", "NOOP", wrongState, A},
	{"", "STAT", wrongState, A},
	{"", "LIST", wrongState, A},
	{"", "LIST 1", wrongState, A},
	{"", "RETR 1", wrongState, A},
	{"", "TOP 1 1", wrongState, A},
	{"", "DELE 1", wrongState, A},
	{"", "RSET", wrongState, A},
	{"", "LAST", wrongState, A},
	{"", "UIDL", wrongState, A},
	{"user", "STAT", wrongState, A},
	{"tls", "STAT", wrongState, A},
	// ...and the AUTHORIZATION ones end with it.
	{"alice", "USER alice", wrongState, T},
	{"alice", "PASS correct horse", wrongState, T},
	{"alice", "APOP alice 0123456789abcdef0123456789abcdef", wrongState, T},
	{"alice", "AUTH", wrongState, T},
	{"alice", "AUTH PLAIN " + plain("", "alice", "correct horse"), wrongState, T},
	{"alice", "STLS", wrongState, T},
	{"alice", "RPOP alice", wrongState, T},

	// RFC 1939 §3: verbs are case-insensitive, lines end in CRLF (a bare
	// LF is taken too), and RFC 2449 §4 bounds them at 255 octets.
	{"", "FOO", unknown, A},
	{"", "", unknown, A},
	{"", " NOOP", unknown, A},
	{"", "NOOP\x00", unknown, A},
	{"alice", "FOO", unknown, T},
	{"alice", "", unknown, T},
	{"", "NOOP\nQUIT", wrongState + "+OK bye\r\n", X},
	{"", "QUIT " + strings.Repeat("x", 248), "+OK bye\r\n", X}, // 255 octets
	{"", "QUIT " + strings.Repeat("x", 249), tooLong, A},       // 256
	{"", strings.Repeat("x", 5000) + "\r\nQUIT", tooLong + "+OK bye\r\n", X},
	{"alice", "NOOP " + strings.Repeat("x", 300), tooLong, T},

	// RFC 1939 §5 STAT, LIST.
	{"alice", "STAT", "+OK 3 47\r\n", T},
	{"alice", "stat", "+OK 3 47\r\n", T},
	{"alice", "STAT 1", syntax, T},
	{"alice", "LIST", multi("+OK scan listing follows", "1 19", "2 28", "3 0"), T},
	{"alice", "LIST ", multi("+OK scan listing follows", "1 19", "2 28", "3 0"), T},
	{"alice", "LIST 2", "+OK 2 28\r\n", T},
	{"alice", "LIST 02", "+OK 2 28\r\n", T},
	{"alice", "LIST 3", "+OK 3 0\r\n", T},
	{"alice", "LIST 0", noSuch, T},
	{"alice", "LIST 4", noSuch, T},
	{"alice", "LIST 4294967297", noSuch, T},
	{"alice", "LIST 18446744073709551617", noSuch, T},
	{"alice", "LIST -1", syntax, T},
	{"alice", "LIST +1", syntax, T},
	{"alice", "LIST 1x", syntax, T},
	{"alice", "LIST 0x1", syntax, T},
	{"alice", "LIST  1", syntax, T},
	{"alice", "LIST 1 ", syntax, T},
	{"alice", "LIST 1 2", syntax, T},

	// RFC 1939 §7 UIDL.
	{"alice", "UIDL", multi("+OK unique-id listing follows", "1 uid-1", "2 uid-2", "3 uid-3"), T},
	{"alice", "UIDL 3", "+OK 3 uid-3\r\n", T},
	{"alice", "UIDL 4", noSuch, T},
	{"alice", "UIDL x", syntax, T},
	{"alice", "UIDL 1 2", syntax, T},

	// RFC 1939 §5 RETR, byte-stuffed (§3).
	{"alice", "RETR 1", multi("+OK 19 octets", "Subject: 1", "", "one"), T},
	{"alice", "RETR 2", multi("+OK 28 octets", "Subject: 2", "", "..dot", "b2", "b3"), T},
	{"alice", "retr 3", multi("+OK 0 octets"), T},
	{"alice", "RETR", syntax, T},
	{"alice", "RETR 1 2", syntax, T},
	{"alice", "RETR one", syntax, T},
	{"alice", "RETR 0", noSuch, T},
	{"alice", "RETR 4", noSuch, T},

	// RFC 1939 §7 TOP: the header, the blank line, n body lines.
	{"alice", "TOP 2 0", multi("+OK top of message follows", "Subject: 2", ""), T},
	{"alice", "TOP 2 1", multi("+OK top of message follows", "Subject: 2", "", "..dot"), T},
	{"alice", "TOP 2 18446744073709551617", multi("+OK top of message follows", "Subject: 2", "", "..dot", "b2", "b3"), T},
	{"alice", "TOP 3 10", multi("+OK top of message follows"), T},
	{"alice", "TOP", syntax, T},
	{"alice", "TOP 1", syntax, T},
	{"alice", "TOP 1 x", syntax, T},
	{"alice", "TOP 1 -1", syntax, T},
	{"alice", "TOP x 1", syntax, T},
	{"alice", "TOP 1 1 1", syntax, T},
	{"alice", "TOP 4 1", noSuch, T},
	{"alice", "TOP 4 x", noSuch, T}, // the message is checked first

	// RFC 1939 §5 DELE, NOOP, RSET; RFC 1081 LAST.
	{"alice", "DELE 1", "+OK message 1 deleted\r\n", T},
	{"alice", "DELE", syntax, T},
	{"alice", "DELE 1 2", syntax, T},
	{"alice", "DELE 4", noSuch, T},
	{"alice", "NOOP", "+OK\r\n", T},
	{"alice", "NOOP x", syntax, T},
	{"alice", "RSET", "+OK 3 messages\r\n", T},
	{"alice", "RSET x", syntax, T},
	{"alice", "LAST", "+OK 0\r\n", T},
	{"alice", "LAST x", syntax, T},
	{"alice", "RETR 2\r\nLAST", multi("+OK 28 octets", "Subject: 2", "", "..dot", "b2", "b3") + "+OK 2\r\n", T},
	{"alice", "TOP 3 0\r\nLIST 2\r\nLAST", multi("+OK top of message follows") + "+OK 2 28\r\n+OK 3\r\n", T},

	// A message marked as deleted is gone until RSET.
	{"alice+dele1", "DELE 1", isDeleted, T},
	{"alice+dele1", "RETR 1", isDeleted, T},
	{"alice+dele1", "TOP 1 0", isDeleted, T},
	{"alice+dele1", "LIST 1", isDeleted, T},
	{"alice+dele1", "UIDL 1", isDeleted, T},
	{"alice+dele1", "STAT", "+OK 2 28\r\n", T},
	{"alice+dele1", "LIST", multi("+OK scan listing follows", "2 28", "3 0"), T},
	{"alice+dele1", "UIDL", multi("+OK unique-id listing follows", "2 uid-2", "3 uid-3"), T},
	{"alice+dele1", "LAST", "+OK 1\r\n", T},
	{"alice+dele1", "RSET\r\nSTAT\r\nLAST\r\nRETR 1", "+OK 3 messages\r\n+OK 3 47\r\n+OK 0\r\n" + multi("+OK 19 octets", "Subject: 1", "", "one"), T},

	// RFC 1939 §6 QUIT in TRANSACTION: UPDATE.
	{"alice", "QUIT", "+OK bye, 3 messages left\r\n", X},
	{"alice", "QUIT now", "+OK bye, 3 messages left\r\n", X},
	{"alice+dele1", "QUIT", "+OK bye, 2 messages left\r\n", X},
	{"alice", "DELE 3\r\nQUIT\r\nSTAT", "+OK message 3 deleted\r\n+OK bye, 2 messages left\r\n", X},
	{"frank", "DELE 1\r\nQUIT", "+OK message 1 deleted\r\n-ERR [SYS/TEMP] some deleted messages not removed\r\n", X},
	{"tls+alice", "RETR 2\r\nQUIT", multi("+OK 28 octets", "Subject: 2", "", "..dot", "b2", "b3") + "+OK bye, 3 messages left\r\n", X},

	// A maildrop whose files change under the session.
	// Message 1 vanished: once that is found, STAT, LIST and UIDL agree.
	{"bob", "STAT", "+OK 2 35\r\n", T},
	{"bob", "STAT\r\nUIDL", "+OK 2 35\r\n" + multi("+OK unique-id listing follows", "2 uid-2", "3 uid-3"), T},
	{"bob", "LIST\r\nSTAT", multi("+OK scan listing follows", "2 17", "3 18") + "+OK 2 35\r\n", T},
	{"bob", "RETR 1\r\nUIDL 1\r\nDELE 1", vanished + vanished + "+OK message 1 deleted\r\n", T},
	{"bob", "LIST", multi("+OK scan listing follows", "2 17", "3 18"), T},
	{"bob", "UIDL", multi("+OK unique-id listing follows", "1 uid-1", "2 uid-2", "3 uid-3"), T},
	{"bob", "LIST 1", vanished, T},
	{"bob", "RETR 1", vanished, T},
	{"bob", "TOP 1 0", vanished, T},
	{"bob", "RETR 2", vanished, T},
	// Unreadable after the +OK went out: the connection ends without the
	// final ".", so the client never keeps a truncated message.
	{"bob", "RETR 3", "+OK 18 octets\r\nSubject: 3\r\n\r\npart", X},
	{"bob", "DELE 1\r\nQUIT", "+OK message 1 deleted\r\n+OK bye, 2 messages left\r\n", X},
}

// saslLong refuses an AUTH response over 8 KiB (pop3.MaxSASLResponse).
const saslLong = "-ERR line too long (limit is 10926 octets including CRLF, 8192 octets decoded)\r\n"

func TestCommands(t *testing.T) {
	for i, r := range rows {
		t.Run(name(i, r.env, r.send), func(t *testing.T) {
			t.Parallel()
			b := newBackend()
			c := start(t, r.env, b)
			if strings.HasSuffix(r.want, "\n") {
				c.Do(r.send, r.want)
			} else { // cut off: all the rest, then the end
				c.Send(r.send)
				if got := c.ReadAll(); got != r.want {
					t.Fatalf("after %q:\n got %q\nwant %q", r.send, got, r.want)
				}
			}
			if r.then != X {
				if got := c.Session.Info().State; got != r.then {
					t.Errorf("state %v, want %v", got, r.then)
				}
				c.Hangup()
			} else {
				c.ExpectClosed()
			}
			c.Wait()
			if got := c.Session.Info().State; got != X {
				t.Errorf("state %v after the session ended", got)
			}
			quit := r.then == X && strings.Contains(r.send, "QUIT") && len(b.Logins()) > 0
			if ups := released(t, b); len(ups) > 0 && !quit {
				t.Errorf("maildrop updated without QUIT in TRANSACTION: %v", ups)
			}
			if r.then == T && len(b.Logins()) == 0 {
				t.Error("in TRANSACTION without a login")
			}
		})
	}
}
