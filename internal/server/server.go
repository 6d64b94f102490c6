package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/pop3"
	"popd/internal/userdb"
)

// Server serves POP3 on any number of listeners and keeps the registry of
// live sessions.
type Server struct {
	log       *slog.Logger
	pop3      atomic.Pointer[pop3.Config] // for new sessions; swapped by a reload
	be        *backend
	certs     *certStore // nil without a certificate
	conns     *conns
	proxyFrom []netip.Prefix // load balancers that send PROXY headers

	reloadMu  sync.Mutex
	cfg       config.Config                 // as last applied
	cfgSource func() (config.Config, error) // re-reads the configuration; nil: none

	pub         atomic.Pointer[control.Publisher]
	started     time.Time
	logins      minuteCounter
	failures    minuteCounter
	bytesClosed atomic.Int64
	usage       usageCache // maildrop sizes for the users list

	nextID   atomic.Uint64
	mu       sync.Mutex
	sessions map[string]*pop3.Session
	wg       sync.WaitGroup
}

// New returns a server for cfg with users from the given file. It loads
// the certificate, if one is configured.
func New(cfg config.Config, users *userdb.File, log *slog.Logger) (*Server, error) {
	proxyFrom, err := parseProxyFrom(cfg)
	if err != nil {
		return nil, err
	}
	var certs *certStore
	if cfg.TLSCert != "" {
		if certs, err = newCertStore(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return nil, err
		}
	}
	be := newBackend(cfg, users, log)
	srv := &Server{
		started:   time.Now(),
		log:       log,
		be:        be,
		certs:     certs,
		conns:     &conns{max: cfg.MaxConnections, perSource: cfg.MaxConnectionsPerIP, by: map[netip.Prefix]int{}},
		proxyFrom: proxyFrom,
		cfg:       cfg,
		sessions:  map[string]*pop3.Session{},
	}
	srv.pop3.Store(srv.pop3Config(cfg))
	be.onPenalty = func(src string, n int, next time.Duration) {
		srv.publish(control.Event{Type: event.Penalty, Remote: src, Count: n,
			Reason: "next failure waits " + next.String()})
	}
	users.OnReload = func(n int, err error) {
		if err != nil {
			log.Error("users file not reloaded; keeping the old table", "err", err)
			return
		}
		be.refreshAPOP()
		srv.publish(control.Event{Type: event.UsersReloaded, Count: n})
	}
	return srv, nil
}

// pop3Config is the protocol's configuration for new sessions under cfg.
func (s *Server) pop3Config(cfg config.Config) *pop3.Config {
	pc := &pop3.Config{
		Backend:          s.be,
		Logger:           s.log,
		IdleTimeout:      cfg.IdleTimeout.Duration,
		LoginDelay:       cfg.LoginDelay.Duration,
		Expire:           cfg.Expire,
		RequireTLS:       cfg.RequireTLS(),
		LoginTimeout:     cfg.LoginTimeout.Duration,
		MaxAuthFailures:  cfg.MaxAuthFailures,
		Hostname:         hostname(cfg),
		HandshakeTimeout: cfg.HandshakeTimeout.Duration,
		OnEvent:          s.onSessionEvent,
	}
	if s.certs != nil {
		pc.TLS = s.certs.Config()
	}
	return pc
}

// ShutdownGrace is how long Serve waits for sessions to end after telling
// them the server is shutting down.
const ShutdownGrace = 10 * time.Second

// Serve accepts POP3 connections on ln until ctx is done. Then it stops
// accepting, tells every open session "-ERR [SYS/TEMP] shutting down",
// closes them without UPDATE, and returns once they have ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, false)
}

// ServeTLS is Serve for implicit TLS (RFC 8314, the pop3s port): every
// connection starts with a TLS handshake. It needs a certificate.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener) error {
	if s.certs == nil {
		return errors.New("server: implicit TLS needs a certificate")
	}
	return s.serve(ctx, ln, true)
}

func (s *Server) serve(ctx context.Context, ln net.Listener, implicitTLS bool) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				s.shutdown()
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				s.shutdown()
				return err
			}
			// Out of file descriptors and the like: back off and go on
			// serving the sessions we have.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; backing off", "err", err, "backoff", backoff)
			wait(ctx, time.Now().Add(backoff))
			continue
		}
		backoff = 0
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(ctx, conn, implicitTLS)
		}()
	}
}

// handle runs one connection, in its own goroutine: the PROXY header (read
// when the remote address is first asked for), the connection limits, the
// implicit-TLS handshake, then the POP3 session.
func (s *Server) handle(ctx context.Context, conn net.Conn, implicitTLS bool) {
	remote := conn.RemoteAddr()
	src := source(remote)
	if ok, why := s.conns.add(src); !ok {
		s.log.Warn("connection refused", "remote", addrString(remote), "why", why)
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(conn, "-ERR [SYS/TEMP] "+why+"\r\n")
		conn.Close()
		return
	}
	defer s.conns.remove(src)
	pc := s.pop3.Load()
	if implicitTLS {
		tc := tls.Server(conn, pc.TLS)
		hctx, cancel := context.WithTimeout(ctx, pc.HandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			s.log.Info("TLS handshake failed", "remote", addrString(remote), "err", err)
			conn.Close()
			return
		}
		conn = tc
	}
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	info := pop3.ConnInfo{SessionID: id, RemoteAddr: remote, LocalAddr: conn.LocalAddr(), TLS: implicitTLS}
	sess := pop3.NewSession(conn, pc, info)
	s.mu.Lock()
	s.sessions[id] = sess
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, id)
		s.mu.Unlock()
	}()
	s.log.Info("session start", "session", id, "remote", addrString(remote), "local", addrString(info.LocalAddr), "tls", implicitTLS)
	s.publish(control.Event{Type: event.SessionOpened, Session: id, Remote: addrString(remote)})
	sess.Serve(context.WithoutCancel(ctx))
}

func (s *Server) shutdown() {
	s.mu.Lock()
	for _, sess := range s.sessions {
		sess.Stop("shutting down")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(ShutdownGrace):
		s.log.Warn("sessions still open after shutdown grace period")
	}
}

// sessionInfos returns a snapshot of every live session.
func (s *Server) sessionInfos() []pop3.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]pop3.Info, 0, len(s.sessions))
	for _, sess := range s.sessions {
		out = append(out, sess.Info())
	}
	return out
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
