package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"popd/internal/event"
)

// Config is what every session of a server shares.
type Config struct {
	Backend Backend
	Logger  *slog.Logger
	// IdleTimeout is the autologout timer (RFC 1939 §3: at least 10
	// minutes). A whole command line must arrive within it, so a client
	// trickling a half-written line cannot keep a connection open forever.
	// Zero means 10 minutes.
	IdleTimeout time.Duration
	// Implementation is announced in CAPA (RFC 2449 §6.9). Zero means "popd".
	Implementation string
	// LoginDelay, when positive, is announced in CAPA (RFC 2449 §6.5).
	LoginDelay time.Duration
	// Expire, when set, is announced in CAPA as "EXPIRE <Expire>" (RFC 2449
	// §6.7): "NEVER" or a number of days.
	Expire string
	// TLS, when not nil, offers STLS (RFC 2595 §4) with this configuration.
	TLS *tls.Config
	// RequireTLS refuses USER/PASS and the PLAIN and LOGIN mechanisms, and
	// does not advertise them, until the connection is encrypted, unless
	// it is one with ConnInfo.TrustedPlaintext.
	RequireTLS bool
	// HandshakeTimeout bounds the STLS handshake. Zero means 30 seconds.
	HandshakeTimeout time.Duration
	// LoginTimeout bounds the AUTHORIZATION state as a whole: a client that
	// has not logged in by then is disconnected. Zero means no bound beyond
	// the idle timer.
	LoginTimeout time.Duration
	// MaxAuthFailures closes the connection after this many failed logins
	// in a row. Zero means 3.
	MaxAuthFailures int
	// Hostname goes into the APOP timestamp. Zero means "localhost".
	Hostname string
	// OnEvent, if set, is told of logins, failed logins and session ends.
	// It is called from the session's goroutine and must not block.
	OnEvent func(Event)
	// OnChange, if set, is told that a session's Info changed: once, the
	// first time after TakeChange, so that whoever keeps the list of the
	// changed sessions has each once, whatever it did meanwhile. A new
	// session counts as changed (its maker lists it). It is called from
	// the session's goroutine and must be quick.
	OnChange func(*Session)
}

// Event is something that happened in a session, for the live registry.
type Event struct {
	Type      event.Kind // event.Login, event.LoginFailed or event.SessionClosed
	Session   string
	User      string
	Remote    string
	Reason    string // why a login failed or a session ended
	Retrieved int
	Deleted   int
	Octets    int64
	Method    string        // how a login was tried: "USER", "APOP", "AUTH PLAIN"...
	Duration  time.Duration // see event.Event.Duration
}

func (s *Session) event(e Event) {
	if s.cfg.OnEvent != nil {
		e.Session = s.info.SessionID
		e.Remote = addr(s.info.RemoteAddr)
		s.cfg.OnEvent(e)
	}
}

// DefaultIdleTimeout is RFC 1939 §3's minimum autologout timer.
const DefaultIdleTimeout = 10 * time.Minute

// Session is one POP3 conversation on one connection.
type Session struct {
	cfg  *Config
	raw  net.Conn // as accepted: deadlines and Stop go here, from any goroutine
	conn net.Conn // raw, or TLS over it after STLS; session goroutine only
	info ConnInfo
	log  *slog.Logger
	in   inBuf         // the client's lines (buffers.go)
	r    *bufio.Reader // in's reader while it has one; nil while waiting
	w    *outBuf       // responses (buffers.go)

	// Set only by the session goroutine.
	state    State
	userArg  string // from USER, waiting for PASS
	apopTS   string // the APOP timestamp of the greeting, if any
	utf8     bool   // RFC 6856 UTF-8 mode: the client said UTF8 (utf8.go)
	failures int    // failed logins in a row
	hangup   string // set by a command that ends the session: the reason
	start    time.Time
	checking time.Time // when the current login's credential check began
	mbox     Mailbox
	deleted  []bool
	gone     []bool       // messages found gone (see isGone); nil until one is
	last     int          // RFC 1081 LAST: highest message number accessed
	removed  int          // messages UPDATE removed
	seen     map[int]bool // indexes retrieved, for the S flag at UPDATE

	// Read from other goroutines.
	mu      sync.Mutex
	snap    Info
	stopMu  sync.Mutex
	stop    string          // non-empty: Stop was called with this reason
	ctx     context.Context // ended by Stop
	cancel  context.CancelFunc
	closing atomic.Bool // finish is writing the last words
	// sentAt, while a RETR or TOP response is being written, is when its
	// bytes last moved (Unix ns); 0 otherwise. Info's Sending, LastSent.
	sentAt atomic.Int64
	// changed: Info changed since TakeChange (Config.OnChange).
	changed atomic.Bool
	// partial: part of a response is on the wire and the rest is not (a
	// write failed, or a stop came between writes). Set by the session
	// goroutine only; nothing else may be sent then.
	partial bool
}

// NewSession prepares a session on conn; Serve runs it.
func NewSession(conn net.Conn, cfg *Config, info ConnInfo) *Session {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now()
	s := &Session{
		cfg:   cfg,
		raw:   conn,
		start: now,
		conn:  conn,
		info:  info,
		log:   log.With("session", info.SessionID),
		in:    inBuf{src: conn},
		snap: Info{ID: info.SessionID, RemoteAddr: addr(info.RemoteAddr), LocalAddr: addr(info.LocalAddr),
			TLS: info.TLS, Since: now, LastActive: now},
		seen: map[int]bool{},
	}
	s.w = &outBuf{dst: deadlineWriter{s}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.changed.Store(cfg.OnChange != nil)
	return s
}

// deadlineWriter gives every write to the client a fresh deadline of one
// idle period: a slow client that keeps reading a large message is not cut
// off, and one that stops reading is. Once the session is stopping it sets
// no deadline, leaving the short one that finish sets.
type deadlineWriter struct{ s *Session }

func (d deadlineWriter) Write(p []byte) (int, error) {
	if !d.s.closing.Load() {
		d.s.raw.SetWriteDeadline(time.Now().Add(d.s.idle()))
		if d.s.stopReason() != "" { // Stop raced with us: keep it effective
			d.s.raw.SetWriteDeadline(time.Now())
		}
	}
	n, err := d.s.conn.Write(p)
	if n > 0 {
		d.s.partial = true // until flush has sent every response whole
		if d.s.sentAt.Load() != 0 {
			d.s.sentAt.Store(time.Now().UnixNano())
			d.s.touch()
		}
	}
	return n, err
}

// Stop ends the session from another goroutine (an administrator's kick or a
// server shutdown): the client is told "-ERR [SYS/TEMP] reason", the
// connection is closed, and no UPDATE happens, so nothing is deleted.
func (s *Session) Stop(reason string) {
	s.stopMu.Lock()
	if s.stop == "" {
		s.stop = reason
	}
	s.stopMu.Unlock()
	s.cancel() // a login waiting out a penalty stops waiting
	// Wake the session goroutine from a blocked read or write.
	s.raw.SetDeadline(time.Now())
}

func (s *Session) stopReason() string {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	return s.stop
}

func (s *Session) idle() time.Duration {
	if s.cfg.IdleTimeout > 0 {
		return s.cfg.IdleTimeout
	}
	return DefaultIdleTimeout
}

// Serve greets the client and answers commands until QUIT, an error, the
// autologout timer, or Stop. It always closes the connection and releases
// the maildrop.
func (s *Session) Serve(ctx context.Context) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	context.AfterFunc(s.ctx, stop)
	end := "closed"
	defer func() { s.finish(end) }()

	s.greet()
	for s.state != StateClosed && s.hangup == "" {
		if err := s.flush(); err != nil {
			end = s.endReason(err, "write error")
			return
		}
		if s.in.buffered() == 0 && s.sentAt.Load() != 0 {
			s.sentAt.Store(0) // every response went out whole
			s.touch()
		}
		s.raw.SetReadDeadline(s.readDeadline())
		if s.stopReason() != "" {
			end = "stopped"
			return
		}
		s.in.release() // the client keeps us waiting: hold no buffer
		s.r = nil
		err := s.in.await()
		var line []byte
		if err == nil {
			s.r = s.in.reader()
			line, err = readLine(s.r, MaxLine)
		}
		if errors.Is(err, errTooLong) {
			s.replyErr(errLineTooLong)
			continue
		}
		if err != nil {
			end = s.endReason(err, "client closed the connection")
			return
		}
		s.dispatch(ctx, line)
	}
	end = "quit"
	if s.hangup != "" {
		end = s.hangup
	}
}

// readDeadline is when the next command line must have arrived: one idle
// period, or less while logging in under a LoginTimeout.
func (s *Session) readDeadline() time.Time {
	d := time.Now().Add(s.idle())
	if s.state == StateAuthorization && s.cfg.LoginTimeout > 0 {
		if lt := s.start.Add(s.cfg.LoginTimeout); lt.Before(d) {
			d = lt
		}
	}
	return d
}

// endReason names why the connection ended after a read or write error.
func (s *Session) endReason(err error, fallback string) string {
	switch {
	case s.stopReason() != "":
		return "stopped"
	case !errors.Is(err, os.ErrDeadlineExceeded):
		return fallback
	case s.state == StateAuthorization && s.cfg.LoginTimeout > 0 && time.Since(s.start) >= s.cfg.LoginTimeout:
		return "login timeout"
	}
	return "autologout"
}

// finish tells a stopped client why, releases the maildrop without UPDATE if
// it is still held, closes the connection and logs one line.
func (s *Session) finish(end string) {
	defer s.cancel()
	s.closing.Store(true)
	s.raw.SetWriteDeadline(time.Now().Add(5 * time.Second))
	switch end {
	case "stopped":
		if !s.partial { // responses the stop cut off give way to why
			s.w.Reset(deadlineWriter{s})
		}
		s.replyErr(&Error{Code: "SYS/TEMP", Text: s.stopReason()})
	case "autologout":
		s.reply("-ERR autologout: idle for too long")
	case "login timeout":
		s.reply("-ERR login timed out")
	}
	s.w.Flush()
	if s.mbox != nil {
		if err := s.mbox.Close(); err != nil {
			s.log.Error("releasing maildrop", "user", s.snap.User, "err", err)
		}
		s.mbox = nil
	}
	if end == "quit" {
		s.drainInput()
	}
	s.conn.Close()
	s.raw.Close()
	s.setState(StateClosed)
	info := s.Info()
	level := slog.LevelInfo
	if s.info.Probe && info.User == "" {
		level = slog.LevelDebug
	}
	s.log.Log(context.Background(), level, "session end", "user", info.User, "reason", end,
		"retr", info.Retrieved, "dele", s.removed, "bytes", info.Octets,
		"duration", time.Since(info.Since).Round(time.Millisecond))
	s.event(Event{Type: event.SessionClosed, User: info.User, Reason: end, Duration: time.Since(info.Since),
		Retrieved: info.Retrieved, Deleted: s.removed, Octets: info.Octets})
}

// drainInput reads and drops what the client sent after its QUIT and is
// already here (at most drainBytes, waiting drainTime for more). Closing a
// connection with input it did not read makes the kernel send a reset, and
// a reset destroys what the client had not read yet of the last responses:
// the "+OK" of the QUIT, after commands a client pipelined past it.
func (s *Session) drainInput() {
	s.raw.SetReadDeadline(time.Now().Add(drainTime))
	io.Copy(io.Discard, io.LimitReader(s.raw, drainBytes))
}

// drainTime and drainBytes bound drainInput.
const (
	drainTime  = 5 * time.Millisecond
	drainBytes = 64 << 10
)

func (s *Session) setState(st State) {
	s.state = st
	s.mu.Lock()
	s.snap.State = st
	s.mu.Unlock()
	s.touch()
}

// reply writes one response line; errors surface at the next flush.
func (s *Session) reply(format string, args ...any) {
	if len(args) == 0 {
		s.w.WriteString(format)
	} else {
		fmt.Fprintf(s.w, format, args...)
	}
	s.w.WriteString("\r\n")
}

func (s *Session) replyErr(e *Error) { s.reply("%s", e.Error()) }

// listing writes one "n value" line of a LIST or UIDL listing straight
// into the buffer, without fmt or allocations: a 100,000-message listing is
// on the path of every large-maildrop session. Exactly one of value and
// number is used: value when it is not empty.
func (s *Session) listing(n int, value string, number int64) {
	var buf [20]byte
	s.w.Write(strconv.AppendInt(buf[:0], int64(n), 10))
	s.w.WriteByte(' ')
	if value != "" {
		s.w.WriteString(value)
	} else {
		s.w.Write(strconv.AppendInt(buf[:0], number, 10))
	}
	s.w.WriteString("\r\n")
}

// flush sends buffered responses, but only when the client has no further
// pipelined commands waiting (RFC 2449 §6.6): a burst of commands gets its
// responses in few writes.
func (s *Session) flush() error {
	if s.in.buffered() > 0 {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	s.partial = false
	return nil
}

func addr(a interface{ String() string }) string {
	if a == nil {
		return ""
	}
	return a.String()
}
