package pop3

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"popd/internal/event"
)

var (
	errPlaintext = &Error{Code: "AUTH", Text: "plaintext authentication is disallowed on non-encrypted connections; use STLS"}
	errNoTLS     = &Error{Text: "STLS is not available"}
	errTLSActive = &Error{Text: "TLS is already active"}
	errNoAPOP    = &Error{Text: "APOP is not available"}
	errMechanism = &Error{Text: "unsupported authentication mechanism"}
	errCancelled = &Error{Text: "authentication cancelled"}
	errBase64    = &Error{Text: "invalid base64 in authentication exchange"}
	errTooMany   = &Error{Code: "AUTH", Text: "too many failed logins; disconnecting"}
	errSASLLong  = &Error{Text: fmt.Sprintf("line too long (limit is %d octets including CRLF, %d octets decoded)",
		maxSASLLine, MaxSASLResponse)}
)

// MaxSASLResponse is the longest client response in an AUTH exchange that a
// session reads, in octets after base64 decoding: 8 KiB, what package sasl
// takes (sasl.MaxResponseLen) and Dovecot's limit too. Responses, unlike
// commands, may exceed 255 octets (RFC 5034 §4): a long password must fit.
const MaxSASLResponse = 8 << 10

// maxSASLLine is the longest response line: MaxSASLResponse in base64
// (4 characters for every 3 octets, padded), and CRLF.
const maxSASLLine = (MaxSASLResponse+2)/3*4 + 2

// greet sends the greeting, with an APOP timestamp when APOP is offered
// (RFC 1939 §7: a fresh one for every connection).
func (s *Session) greet() {
	if ab, ok := s.cfg.Backend.(APOPBackend); ok && ab.APOPEnabled() {
		host := s.cfg.Hostname
		if host == "" {
			host = "localhost"
		}
		s.apopTS = fmt.Sprintf("<%d.%s@%s>", os.Getpid(), rand.Text()[:16], host)
		s.reply("+OK POP3 server ready %s", s.apopTS)
		return
	}
	s.reply("+OK POP3 server ready")
}

// plaintextOK reports whether passwords may cross this connection in clear.
func (s *Session) plaintextOK() bool {
	return !s.cfg.RequireTLS || s.info.TLS || s.info.TrustedPlaintext
}

// RFC 1939 §7 USER name.
func (s *Session) cmdUser(_ context.Context, arg string) error {
	if !s.plaintextOK() {
		return errPlaintext
	}
	if arg == "" {
		return errSyntax
	}
	s.userArg = arg
	s.reply("+OK send PASS")
	return nil
}

// RFC 1939 §7 PASS string. The argument is the rest of the line: a password
// may contain spaces.
func (s *Session) cmdPass(ctx context.Context, arg string) error {
	user := s.userArg
	if user == "" {
		return errUserFirst
	}
	s.userArg = ""
	s.checking = time.Now()
	mbox, err := s.cfg.Backend.Login(ctx, s.info, user, arg)
	return s.loggedIn(user, "USER", mbox, err)
}

// RFC 1939 §7 APOP name digest.
func (s *Session) cmdAPOP(ctx context.Context, arg string) error {
	ab, ok := s.cfg.Backend.(APOPBackend)
	if !ok || s.apopTS == "" {
		return errNoAPOP
	}
	a, err := args(arg, 2, 2)
	if err != nil {
		return err
	}
	s.checking = time.Now()
	mbox, err := ab.LoginAPOP(ctx, s.info, a[0], s.apopTS, strings.ToLower(a[1]))
	return s.loggedIn(a[0], "APOP", mbox, err)
}

// loggedIn ends a login attempt: on success it enters TRANSACTION (RFC 1939
// §4: the maildrop is already locked); on failure it counts the failure and
// hangs up after too many in a row.
func (s *Session) loggedIn(user, method string, mbox Mailbox, err error) error {
	if err == nil && s.stopReason() != "" {
		// Kicked or shut down while the backend checked the credentials
		// and opened the maildrop: no TRANSACTION. The maildrop is
		// released untouched and the client told why (finish).
		if cerr := mbox.Close(); cerr != nil {
			s.log.Error("releasing maildrop", "user", user, "err", cerr)
		}
		s.log.Info("login interrupted", "user", user, "method", method, "reason", s.stopReason())
		s.hangup = "stopped"
		return nil
	}
	if err != nil {
		code := wireError(err).Code
		if code == "" {
			code = "aborted" // an AUTH exchange the client did not finish
		}
		LogFailedLogin(s.log, code, addr(s.info.RemoteAddr), method, user)
		s.event(Event{Type: event.LoginFailed, User: user, Reason: code, Method: method, Duration: time.Since(s.checking)})
		s.failures++
		max := s.cfg.MaxAuthFailures
		if max <= 0 {
			max = 3
		}
		// What the client did counts (bad credentials, an exchange it
		// abandoned: no code); a refusal for the server's own reasons
		// (IN-USE, LOGIN-DELAY, SYS/...) does not.
		var pe *Error
		if s.failures >= max && (!errors.As(err, &pe) || pe.Code == "AUTH" || pe.Code == "") {
			s.hangup = "too many failed logins"
			return errTooMany
		}
		return err
	}
	s.failures = 0
	s.mbox = mbox
	s.deleted = make([]bool, mbox.Count())
	s.setState(StateTransaction)
	s.mu.Lock()
	s.snap.User = user
	s.mu.Unlock()
	s.touch()
	s.log.Info("login", "user", user, "method", method, "remote", addr(s.info.RemoteAddr), "tls", s.info.TLS, "messages", mbox.Count())
	s.event(Event{Type: event.Login, User: user, Reason: method, Method: method, Duration: time.Since(s.checking)})
	s.reply("+OK maildrop locked and ready, %d messages", mbox.Count())
	return nil
}

// mechanisms lists the SASL mechanisms offered on this connection: those
// that send the password itself only where plaintext is allowed.
func (s *Session) mechanisms() []string {
	sb, ok := s.cfg.Backend.(SASLBackend)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range sb.Mechanisms(s.info) {
		if (m == "PLAIN" || m == "LOGIN") && !s.plaintextOK() {
			continue
		}
		out = append(out, m)
	}
	return out
}

// RFC 5034 AUTH mechanism [initial-response]. AUTH alone lists the
// mechanisms, as Outlook and Thunderbird expect (RFC 1734 clients).
func (s *Session) cmdAuth(ctx context.Context, arg string) error {
	mechs := s.mechanisms()
	if arg == "" {
		s.reply("+OK")
		for _, m := range mechs {
			s.reply("%s", m)
		}
		s.reply(".")
		return nil
	}
	a, err := args(arg, 1, 2)
	if err != nil {
		return err
	}
	name := strings.ToUpper(a[0])
	if !slices.Contains(mechs, name) {
		if (name == "PLAIN" || name == "LOGIN") && !s.plaintextOK() {
			return errPlaintext
		}
		return errMechanism
	}
	var resp []byte // nil: no initial response
	if len(a) == 2 {
		// Decoded before the exchange starts: a garbled initial response
		// is a syntax error, not an attempt.
		if resp, err = decodeSASL(a[1]); err != nil {
			return err
		}
	}
	sasl, err := s.cfg.Backend.(SASLBackend).NewSASL(ctx, s.info, name)
	if err != nil {
		return err
	}
	for {
		s.checking = time.Now() // the last step checks the credentials
		challenge, done, err := sasl.Next(resp)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				err = ErrAuth
			}
			return s.loggedIn(LogName(sasl.Attempted()), "AUTH "+name, nil, err)
		}
		if done {
			break
		}
		s.reply("+ %s", base64.StdEncoding.EncodeToString(challenge))
		if err := s.flush(); err != nil {
			return err
		}
		s.raw.SetReadDeadline(s.readDeadline())
		if s.stopReason() != "" { // as in Serve: Stop's deadline may have been overwritten
			s.hangup = "stopped"
			return nil
		}
		line, err := readLine(s.r, maxSASLLine)
		switch {
		case errors.Is(err, errTooLong):
			return s.abortSASL(sasl, name, errSASLLong)
		case err != nil:
			s.hangup = s.endReason(err, "client closed the connection")
			return nil
		case string(line) == "*":
			return s.abortSASL(sasl, name, errCancelled) // RFC 5034 §4: the client cancels
		}
		if resp, err = decodeSASL(string(line)); err != nil {
			return s.abortSASL(sasl, name, errBase64)
		}
		if len(resp) > MaxSASLResponse { // 8193 octets fit the line too
			return s.abortSASL(sasl, name, errSASLLong)
		}
	}
	user := sasl.User()
	mbox, err := s.cfg.Backend.(SASLBackend).OpenAuthenticated(ctx, s.info, user)
	return s.loggedIn(user, "AUTH "+name, mbox, err)
}

// abortSASL ends an exchange that the mechanism did not finish: the backend
// is told, and it is a failed login answered with why.
func (s *Session) abortSASL(sasl SASL, mech string, why *Error) error {
	if a, ok := sasl.(SASLAborter); ok {
		a.Abort()
	}
	return s.loggedIn(LogName(sasl.Attempted()), "AUTH "+mech, nil, why)
}

// decodeSASL decodes a client's base64 response; "=" is an empty one
// (RFC 5034 §4).
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}

// RFC 2595 §4 STLS, only in AUTHORIZATION and only once.
func (s *Session) cmdSTLS(ctx context.Context, arg string) error {
	if s.cfg.TLS == nil {
		return errNoTLS
	}
	if s.info.TLS {
		return errTLSActive
	}
	if _, err := args(arg, 0, 0); err != nil {
		return err
	}
	s.reply("+OK begin TLS negotiation")
	if err := s.w.Flush(); err != nil {
		s.hangup = "write error"
		return nil
	}
	// Whatever the client sent after STLS before the handshake is
	// discarded, never run inside TLS (CVE-2011-0411, CVE-2021-38084).
	s.in.discard()
	timeout := s.cfg.HandshakeTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tc := tls.Server(s.raw, s.cfg.TLS)
	s.raw.SetDeadline(time.Now().Add(timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		s.log.Info("STLS handshake failed", "remote", addr(s.info.RemoteAddr), "err", err)
		s.hangup = "TLS handshake failed"
		return nil
	}
	s.raw.SetDeadline(time.Time{})
	s.conn = tc
	s.in.src = tc
	s.r.Reset(&s.in)
	s.w.Reset(deadlineWriter{s})
	s.info.TLS = true
	s.userArg = ""
	s.mu.Lock()
	s.snap.TLS = true
	s.mu.Unlock()
	s.touch()
	return nil
}

// AuthFailedMsg is the message of the one log line a failed credential
// check writes — bad user name or password, or an exchange the client
// abandoned — and nothing else does: fail2ban's filter
// (contrib/fail2ban/filter.d/popd.conf) matches it. Its first attributes
// are fixed, in this order, before any the client chose:
//
//	msg="auth failed" [session=N] remote=ADDR[:PORT] method=M user=NAME reason=R
//
// remote is the client (after a PROXY header); user is quoted by the log
// handler whenever it holds a space, '=', a quote or a control byte, so no
// user name can spell "remote=" outside its quotes. A refusal for the
// server's own reasons (IN-USE, LOGIN-DELAY, SYS/TEMP) is logged as "login
// refused" instead: the password may well have been right.
const AuthFailedMsg = "auth failed"

// LogFailedLogin writes a failed login's line: AuthFailedMsg for the
// client's failures (code AUTH, or "aborted"), "login refused" for the
// rest. extra attributes go last.
func LogFailedLogin(log *slog.Logger, code, remote, method, user string, extra ...any) {
	msg := AuthFailedMsg
	if code != "AUTH" && code != "aborted" {
		msg = "login refused"
	}
	log.Info(msg, append([]any{"remote", remote, "method", method, "user", LogName(user), "reason", code}, extra...)...)
}

// LogName bounds a client-chosen name for logs and events: at most 255
// bytes (cut on a rune boundary, "…" appended). The log handler quotes and
// escapes the rest.
func LogName(name string) string {
	const max = 255
	if len(name) <= max {
		return name
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
}
