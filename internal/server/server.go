package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"popd/internal/config"
	"popd/internal/maildir"
	"popd/internal/pop3"
	"popd/internal/userdb"
)

// Server serves POP3 on any number of listeners and keeps the registry of
// live sessions.
type Server struct {
	log  *slog.Logger
	pop3 *pop3.Config

	nextID   atomic.Uint64
	mu       sync.Mutex
	sessions map[string]*pop3.Session
	wg       sync.WaitGroup
}

// New returns a server for cfg with users from the given file.
func New(cfg config.Config, users *userdb.File, log *slog.Logger) *Server {
	be := &backend{
		users:       users,
		template:    cfg.Maildir,
		failDelay:   cfg.AuthFailureDelay.Duration,
		lockOptions: maildir.Options{StaleLock: cfg.LockStale.Duration, Logger: log},
		log:         log,
	}
	return &Server{
		log: log,
		pop3: &pop3.Config{
			Backend:     be,
			Logger:      log,
			IdleTimeout: cfg.IdleTimeout.Duration,
			LoginDelay:  cfg.LoginDelay.Duration,
			Expire:      cfg.Expire,
		},
		sessions: map[string]*pop3.Session{},
	}
}

// ShutdownGrace is how long Serve waits for sessions to end after telling
// them the server is shutting down.
const ShutdownGrace = 10 * time.Second

// Serve accepts connections on ln until ctx is done. Then it stops
// accepting, tells every open session "-ERR [SYS/TEMP] shutting down",
// closes them without UPDATE, and returns once they have ended.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
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
		s.start(ctx, conn)
	}
}

func (s *Server) start(ctx context.Context, conn net.Conn) {
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	info := pop3.ConnInfo{SessionID: id, RemoteAddr: conn.RemoteAddr(), LocalAddr: conn.LocalAddr()}
	sess := pop3.NewSession(conn, s.pop3, info)
	s.mu.Lock()
	s.sessions[id] = sess
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.sessions, id)
			s.mu.Unlock()
		}()
		s.log.Info("session start", "session", id, "remote", addrString(info.RemoteAddr), "local", addrString(info.LocalAddr))
		sess.Serve(context.WithoutCancel(ctx))
	}()
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

// Sessions returns a snapshot of every live session.
func (s *Server) Sessions() []pop3.Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]pop3.Info, 0, len(s.sessions))
	for _, sess := range s.sessions {
		out = append(out, sess.Info())
	}
	return out
}

// Kick ends session id without UPDATE; it reports whether it was found.
func (s *Server) Kick(id, reason string) bool {
	s.mu.Lock()
	sess, ok := s.sessions[id]
	s.mu.Unlock()
	if ok {
		sess.Stop(reason)
	}
	return ok
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
