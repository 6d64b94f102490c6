package pop3_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"popd/internal/pop3"
	"popd/internal/pop3/pop3test"
)

// alice's messages, in network form.
const (
	msg1 = "Subject: 1\r\n\r\none\r\n"              // 19 octets
	msg2 = "Subject: 2\r\n\r\n.dot\r\nb2\r\nb3\r\n" // 28 octets, a line to byte-stuff
	msg3 = ""                                       // 0 octets
)

// newBackend returns the accounts every test starts from: alice has three
// good messages; the others each show one way a login or a maildrop fails.
func newBackend() *pop3test.Backend {
	bob := pop3test.NewMailbox("Subject: gone\r\n\r\n", "Subject: 2\r\n\r\nx\r\n", "Subject: 3\r\n\r\npart")
	bob.Message(0).Vanished = true
	bob.Message(1).OpenErr = errors.New("open /var/mail/bob/cur/2: permission denied")
	bob.Message(2).ReadErr = errors.New("read /var/mail/bob/cur/3: input/output error")
	carol := pop3test.NewMailbox()
	carol.Lock() // another session holds it
	frank := pop3test.NewMailbox(msg1)
	frank.UpdateErr = errors.New("rename /var/mail/frank/cur/1: read-only file system")
	frank.CloseErr = errors.New("unlock /var/mail/frank: bad file descriptor")
	return &pop3test.Backend{
		APOP:  true,
		Mechs: []string{"PLAIN", "CRAM-MD5"},
		Users: map[string]*pop3test.User{
			"alice": {Password: "correct horse", Secret: "tanstaaf", Mailbox: pop3test.NewMailbox(msg1, msg2, msg3)},
			"bob":   {Password: "pw", Mailbox: bob},
			"carol": {Password: "pw", Mailbox: carol},
			"dave":  {Password: "pw", Mailbox: pop3test.NewMailbox(), Err: pop3.ErrPerm},
			"erin":  {Password: "pw", Mailbox: pop3test.NewMailbox(), Err: errors.New("open /var/mail/erin: too many open files")},
			"frank": {Password: "pw", Mailbox: frank},
		},
	}
}

// released checks that a session that has ended left every maildrop
// unlocked (but carol's, held by "another session"), and returns the
// Updates made.
func released(t *testing.T, b *pop3test.Backend) []pop3test.Update {
	t.Helper()
	var ups []pop3test.Update
	for n, u := range b.Users {
		if n != "carol" && u.Mailbox.Locked() {
			t.Errorf("%s's maildrop still locked", n)
		}
		ups = append(ups, u.Mailbox.Updates()...)
	}
	return ups
}

// bareBackend hides the SASL and APOP add-ons of the Backend it holds.
type bareBackend struct{ pop3.Backend }

// newConfig is the configuration every test starts from: STLS offered,
// plaintext allowed, logs to t.
func newConfig(t testing.TB, b pop3.Backend) *pop3.Config {
	tlsConfig, _ := pop3test.TLSConfigs()
	return &pop3.Config{Backend: b, Logger: pop3test.Logger(t), TLS: tlsConfig, HandshakeTimeout: pop3test.Timeout}
}

// start opens a session in the state that env names: "+"-separated words,
// first changes to the configuration, then what the client does.
//
//	strict  RequireTLS
//	trusted a connection with ConnInfo.TrustedPlaintext
//	bare    a Backend without SASL or APOP, and no STLS
//	noapop  APOPEnabled is false
//	capa    LOGIN-DELAY, EXPIRE and IMPLEMENTATION set
//	max1    MaxAuthFailures 1
//	tls     STLS and the handshake
//	user    USER alice
//	alice   log in as alice (bob, frank: as them)
//	dele1   DELE 1
func start(t testing.TB, env string, b *pop3test.Backend) *pop3test.Client {
	t.Helper()
	cfg := newConfig(t, b)
	_, clientTLS := pop3test.TLSConfigs()
	var steps []string
	var info pop3.ConnInfo
	for w := range strings.SplitSeq(env, "+") {
		switch w {
		case "":
		case "strict":
			cfg.RequireTLS = true
		case "trusted":
			info.TrustedPlaintext = true
		case "bare":
			cfg.Backend, cfg.TLS = bareBackend{b}, nil
		case "noapop":
			b.APOP = false
		case "capa":
			cfg.LoginDelay, cfg.Expire, cfg.Implementation = 15*time.Minute, "NEVER", "popd-test"
		case "max1":
			cfg.MaxAuthFailures = 1
		default:
			steps = append(steps, w)
		}
	}
	c := pop3test.StartConn(t, cfg, info)
	for _, w := range steps {
		switch w {
		case "tls":
			c.StartTLS(clientTLS)
		case "user":
			c.Do("USER alice", "+OK send PASS\r\n")
		case "alice":
			c.Login("alice", "correct horse", 3)
		case "bob":
			c.Login("bob", "pw", 3)
		case "frank":
			c.Login("frank", "pw", 1)
		case "dele1":
			c.Do("DELE 1", "+OK message 1 deleted\r\n")
		default:
			t.Fatalf("env %q: unknown word %q", env, w)
		}
	}
	return c
}

// multi is a multi-line response (RFC 1939 §3): the first line, the
// lines (already byte-stuffed), and the terminating ".".
func multi(first string, lines ...string) string {
	var b strings.Builder
	for _, l := range append([]string{first}, lines...) {
		b.WriteString(l + "\r\n")
	}
	return b.String() + ".\r\n"
}

// capa is the CAPA response (RFC 2449 §5) with the capabilities every
// session has (UTF8 with USER: RFC 6856 §2), then these.
func capa(lines ...string) string {
	return multi("+OK capability list follows",
		append([]string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "UTF8 USER"}, lines...)...)
}

// plain is a SASL PLAIN message (RFC 4616), base64-encoded.
func plain(authz, authc, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + authc + "\x00" + pass))
}

// Responses that many rows expect.
const (
	sendPass   = "+OK send PASS\r\n"
	locked3    = "+OK maildrop locked and ready, 3 messages\r\n"
	authFailed = "-ERR [AUTH] invalid user name or password\r\n"
	tooMany    = "-ERR [AUTH] too many failed logins; disconnecting\r\n"
	inUse      = "-ERR [IN-USE] maildrop is locked by another session\r\n"
	plaintext  = "-ERR [AUTH] plaintext authentication is disallowed on non-encrypted connections; use STLS\r\n"
	sysTemp    = "-ERR [SYS/TEMP] temporary server failure, try again later\r\n"
	vanished   = "-ERR [SYS/TEMP] message is no longer in the maildrop\r\n"
	wrongState = "-ERR command not valid in this state\r\n"
	unknown    = "-ERR unknown command\r\n"
	syntax     = "-ERR syntax error\r\n"
	noSuch     = "-ERR no such message\r\n"
	isDeleted  = "-ERR message is deleted\r\n"
	tooLong    = "-ERR line too long (limit is 255 octets including CRLF)\r\n"
)

// States after a row, short for the table.
const (
	A = pop3.StateAuthorization
	T = pop3.StateTransaction
	X = pop3.StateClosed
)

// name is a short subtest name for a command line.
func name(i int, env, send string) string {
	if len(send) > 24 {
		send = send[:24] + "…"
	}
	return fmt.Sprintf("%03d/%s/%s", i, env, send)
}
