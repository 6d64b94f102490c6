package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"popd/internal/config"
	"popd/internal/event"
	"popd/internal/pop3"
	"popd/internal/proxyproto"
	"popd/internal/userdb"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

// Options are what a Server is built from besides the configuration.
type Options struct {
	Users  *userdb.File
	Logger *slog.Logger
	// Publish, if set, is told what happens: sessions opened, logins,
	// failed logins, sessions closed, penalties. It is called from the
	// sessions' goroutines and must not block.
	Publish func(event.Event)
	// Hooks are told what is no event, for the metrics.
	Hooks Hooks
	// TrackChanges keeps the sessions that change for TakeChanges, which
	// must then be called now and then (changes.go).
	TrackChanges bool
	// Boot is the run this server is part of: session ids are its tag and
	// a counter ("k3f9-12"), unique across restarts (event.Boot). The zero
	// Boot is a new one.
	Boot event.Boot
}

// Hooks are told what the server sees that is no event, for the metrics.
// Each may be nil; they are called from the sessions' goroutines and must
// be quick.
type Hooks struct {
	// LockWaited: a login waited this long for its maildrop's lock, held
	// by a session of this popd finishing its QUIT (maildir.Options).
	LockWaited func(time.Duration)
	// StaleLockBroken: a login broke a stale maildrop lock.
	StaleLockBroken func()
	// Refused: a connection was refused over a limit, RefusedMax or
	// RefusedPerSource.
	Refused func(limit string)
}

// The limits a connection is refused over (Hooks.Refused): the config
// settings' names.
const (
	RefusedMax       = "max-connections"
	RefusedPerSource = "max-connections-per-ip"
)

// Server serves POP3 on any number of listeners and keeps the registry of
// live sessions.
type Server struct {
	log       *slog.Logger
	publish   func(event.Event)
	pop3      atomic.Pointer[pop3.Config] // for new sessions; swapped by Apply
	be        *backend
	certs     *certStore     // nil without a certificate
	limits    *conns         // connections per source
	proxyFrom []netip.Prefix // load balancers that send PROXY headers
	boot      event.Boot     // session ids are boot.SessionID(nextID)
	nextID    atomic.Uint64  // the last session's number in boot
	hooks     Hooks
	changes   *changeList        // the sessions changed since TakeChanges; nil: not kept
	ctx       context.Context    // done at Shutdown: ends back-off waits, handshakes, sessions
	stop      context.CancelFunc // ends ctx

	// trustedLogin are the peers trusted with plaintext logins whatever
	// plaintext-auth says (trusted-login-from).
	trustedLogin []netip.Prefix

	// The registry. closed is set by Shutdown under mu, so that a
	// connection accepted while it runs is either in conns (and closed or
	// told to stop) or refused.
	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]bool
	conns     map[net.Conn]bool // every connection being handled; true once a session
	sessions  map[string]*pop3.Session
	sent      int64          // message octets sent by the sessions that ended
	sentMsgs  int64          // and messages (RETR and TOP)
	wg        sync.WaitGroup // connections being handled
}

// New returns a server for cfg. It loads the certificate, if one is
// configured; the Static settings it uses (certificate, PROXY sources,
// peers trusted with plaintext logins) are fixed for its life, the Live
// ones change with Apply.
func New(cfg config.Config, opt Options) (*Server, error) {
	proxyFrom, err := parseNets("proxy-from", cfg.ProxyFrom)
	if err != nil {
		return nil, err
	}
	trustedLogin, err := parseNets("trusted-login-from", cfg.TrustedLoginFrom)
	if err != nil {
		return nil, err
	}
	var certs *certStore
	if cfg.TLSCert != "" {
		if certs, err = newCertStore(cfg.TLSCert, cfg.TLSKey, opt.Logger); err != nil {
			return nil, err
		}
		if cfg.TLSTicketKeys != "" {
			if err := certs.useTicketKeys(cfg.TLSTicketKeys); err != nil {
				return nil, err
			}
		}
	}
	s := &Server{
		log:       opt.Logger,
		publish:   opt.Publish,
		boot:      opt.Boot,
		hooks:     opt.Hooks,
		certs:     certs,
		limits:    &conns{by: map[netip.Prefix]int{}},
		proxyFrom: proxyFrom,
		listeners: map[net.Listener]bool{},
		conns:     map[net.Conn]bool{},
		sessions:  map[string]*pop3.Session{},

		trustedLogin: trustedLogin,
	}
	if opt.TrackChanges {
		s.changes = &changeList{}
	}
	if len(trustedLogin) > 0 {
		s.log.Info("plaintext logins accepted from these peers whatever plaintext-auth says", "trusted-login-from", netsString(trustedLogin))
	}
	if s.boot.Tag == "" {
		s.boot = event.NewBoot()
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	if s.publish == nil {
		s.publish = func(event.Event) {}
	}
	s.be = newBackend(opt.Users, opt.Logger, func(src string, n int, next time.Duration) {
		s.emit(event.Event{Type: event.Penalty, Remote: src, Count: n, Reason: "next failure waits " + next.String()})
	})
	s.be.hooks = opt.Hooks
	s.Apply(cfg.Live)
	return s, nil
}

// Apply puts live settings in force for new connections, sessions and
// logins; open sessions keep theirs.
func (s *Server) Apply(live config.Live) {
	s.be.apply(live)
	s.limits.setLimits(live.MaxConnections, live.MaxConnectionsPerIP)
	pc := &pop3.Config{
		Backend:          s.be,
		Logger:           s.log,
		IdleTimeout:      live.IdleTimeout.Duration,
		LoginDelay:       live.LoginDelay.Duration,
		Expire:           live.Expire,
		RequireTLS:       live.RequireTLS(s.certs != nil),
		LoginTimeout:     live.LoginTimeout.Duration,
		MaxAuthFailures:  live.MaxAuthFailures,
		Hostname:         hostname(live),
		HandshakeTimeout: live.HandshakeTimeout.Duration,
		OnEvent:          s.onSessionEvent,
	}
	if s.changes != nil {
		pc.OnChange = s.changes.add
	}
	if s.certs != nil {
		pc.TLS = s.certs.Config()
	}
	s.pop3.Store(pc)
}

// UsersChanged is to be called after the users table was read again: it
// notes whether APOP has users to offer it to.
func (s *Server) UsersChanged() { s.be.refreshAPOP() }

func (s *Server) emit(e event.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.publish(e)
}

// onSessionEvent passes a session's events on. The penalty a failed login
// earned is told right after it (backend.hold), never before.
func (s *Server) onSessionEvent(e pop3.Event) {
	switch e.Type {
	case event.Login:
		s.be.recordLogin(e.User)
	case event.SessionClosed:
		s.be.release(e.Session) // a note whose failure was never told
	}
	s.emit(event.Event{Type: e.Type, Session: e.Session, User: e.User, Remote: e.Remote,
		Reason: e.Reason, Method: e.Method, Duration: e.Duration,
		Retrieved: e.Retrieved, Deleted: e.Deleted, Octets: e.Octets})
	if e.Type == event.LoginFailed {
		s.be.release(e.Session)
	}
}

// Serve accepts POP3 connections on l until Shutdown, then returns
// ErrServerClosed. When PROXY sources are configured, l is wrapped to read
// their headers. Serve closes l.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, false) }

// ServeTLS is Serve for implicit TLS (RFC 8314, the pop3s port): every
// connection starts with a TLS handshake. It needs a certificate.
func (s *Server) ServeTLS(l net.Listener) error {
	if s.certs == nil {
		l.Close()
		return errors.New("server: implicit TLS needs a certificate")
	}
	return s.serve(l, true)
}

func (s *Server) serve(l net.Listener, implicitTLS bool) error {
	l = s.wrapProxy(l)
	defer l.Close()
	if !s.ifOpen(func() { s.listeners[l] = true }) {
		return ErrServerClosed
	}
	defer s.locked(func() { delete(s.listeners, l) })
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: back off and go on
			// serving the sessions we have.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; backing off", "err", err, "backoff", backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
			}
			continue
		}
		backoff = 0
		if !s.ifOpen(func() { s.wg.Add(1); s.conns[conn] = false }) {
			conn.Close()
			return ErrServerClosed
		}
		go s.handle(conn, implicitTLS)
	}
}

// ifOpen runs f with the registry locked unless the server is closed, and
// reports whether it ran: what Shutdown has not seen yet must not start.
func (s *Server) ifOpen(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	f()
	return true
}

// locked runs f with the registry locked.
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// handle runs one connection, in its own goroutine: the PROXY header (read
// when the remote address is first asked for), the connection limits, the
// implicit-TLS handshake, then the POP3 session.
func (s *Server) handle(conn net.Conn, implicitTLS bool) {
	defer s.wg.Done()
	defer s.locked(func() { delete(s.conns, conn) })
	sess, done := s.start(conn, implicitTLS)
	if sess == nil {
		return
	}
	defer done()
	sess.Serve(s.ctx) // done at Shutdown; Stop (a kick) ends the session's own
}

// start does all of handle but the session itself, and returns it (nil
// when the connection is refused) and what ends it. It is a function of
// its own, never inlined, because an idle session's goroutine waits with
// handle's frame on its stack (handle is the goroutine's first function:
// no closure frame below it): kept small, the frames of a waiting session
// stay under a quarter of its 8 KB stack, which the GC then halves
// (start's frame alone is over 1 KB).
//
//go:noinline
func (s *Server) start(conn net.Conn, implicitTLS bool) (*pop3.Session, func()) {
	accepted := conn
	remote := conn.RemoteAddr()
	src := source(remote)
	if ok, why := s.limits.add(src); !ok {
		s.log.Warn("connection refused", "remote", addrString(remote), "why", why)
		if s.hooks.Refused != nil {
			limit := RefusedMax
			if why == whyPerSource {
				limit = RefusedPerSource
			}
			s.hooks.Refused(limit)
		}
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(conn, "-ERR [SYS/TEMP] "+why+"\r\n")
		conn.Close()
		return nil, nil
	}
	pc := s.pop3.Load()
	if implicitTLS {
		tc := tls.Server(conn, pc.TLS)
		ctx, cancel := context.WithTimeout(s.ctx, pc.HandshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			s.log.Info("TLS handshake failed", "remote", addrString(remote), "err", err)
			conn.Close()
			s.limits.remove(src)
			return nil, nil
		}
		conn = tc
	}
	id := s.boot.SessionID(s.nextID.Add(1))
	peer := peerOf(accepted)
	pconn, proxied := accepted.(*proxyproto.Conn)
	info := pop3.ConnInfo{SessionID: id, RemoteAddr: remote, LocalAddr: conn.LocalAddr(), TLS: implicitTLS,
		TrustedPlaintext: s.trustedPlaintext(peer), Probe: proxied && pconn.Own()}
	sess := pop3.NewSession(conn, pc, info)
	if !s.ifOpen(func() { s.sessions[id] = sess; s.conns[accepted] = true }) {
		conn.Close()
		s.limits.remove(src)
		return nil, nil
	}
	s.changes.addNew(sess)
	attrs := []any{"session", id, "remote", addrString(remote), "local", addrString(info.LocalAddr), "tls", implicitTLS}
	if addrString(peer) != addrString(remote) {
		attrs = append(attrs, "proxy", addrString(peer))
	}
	if info.TrustedPlaintext {
		attrs = append(attrs, "trusted_plaintext", true)
	}
	level := slog.LevelInfo
	if info.Probe {
		level = slog.LevelDebug // a proxy's health check: see pop3.ConnInfo.Probe
	}
	s.log.Log(context.Background(), level, "session start", attrs...)
	s.emit(event.Event{Type: event.SessionOpened, Session: id, Remote: addrString(remote)})
	return sess, func() {
		// Leaving the registry, the session's octets and messages move
		// to sent and sentMsgs at once: Sent counts them exactly once.
		s.locked(func() {
			in := sess.Info()
			delete(s.sessions, id)
			s.sent += in.Octets
			s.sentMsgs += int64(in.Retrieved)
		})
		s.limits.remove(src)
	}
}

// Shutdown stops accepting connections, closes those that are not sessions
// yet (a PROXY header or a TLS handshake still to come), tells every
// session "-ERR [SYS/TEMP] shutting down" and closes it without UPDATE. It
// returns once every connection's goroutine has ended. If ctx is done
// first, it closes the remaining connections outright (a session in UPDATE
// still finishes it), waits for them all the same, and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for c, isSession := range s.conns {
		if !isSession {
			c.Close()
		}
	}
	for _, sess := range s.sessions {
		sess.Stop("shutting down")
	}
	s.stop() // after Stop: a login it cuts short answers nothing but that
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.log.Warn("sessions still open after the shutdown grace period; closing their connections", "sessions", len(s.sessions))
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
