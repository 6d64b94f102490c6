package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"popd/internal/event"
)

// ServerConfig configures Listen and NewServer.
type ServerConfig struct {
	// Path is the control socket's path.
	Path string
	// AdminGroup names the group whose members have RoleAdmin (besides
	// root and popd's own uid). Optional; a number is taken as a gid.
	AdminGroup string
	// MonitorGroup names the group whose members have RoleMonitor: the
	// read-only methods and events. Optional; a number is taken as a gid.
	MonitorGroup string
	// Version is popd's version, sent in the hello and in Stats when the
	// Daemon leaves it empty.
	Version string
	// Logger receives one line per refused peer, per administrative call
	// and per failure; nil discards. Passwords are never logged.
	Logger *slog.Logger

	// MaxConns caps the connections served at once, from every uid;
	// 0 means DefaultMaxConns. The last AdminReserve of them are for
	// admins only.
	MaxConns int
	// MaxConnsPerUID caps the connections of one uid, admins' included;
	// 0 means DefaultMaxConnsPerUID.
	MaxConnsPerUID int
	// AdminReserve is how many of MaxConns only admins may use, so that
	// monitors and other uids cannot lock them out; 0 means
	// DefaultAdminReserve.
	AdminReserve int
	// IdleTimeout closes a connection that is not an event stream after
	// this long without a request (or with a request half sent, or an
	// answer unread); 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Boot is the run of popd whose events the server numbers (Event.Boot
	// and Seq); the zero Boot is a new one.
	Boot event.Boot
}

// helloTimeout bounds the wait for the client's hello.
const helloTimeout = 10 * time.Second

// Server serves the control protocol for a Daemon and fans its events out
// to subscribers (it is the daemon's Publisher).
type Server struct {
	cfg    ServerConfig
	d      Daemon
	log    *slog.Logger
	roleOf func(uid, gid uint32) (string, bool)
	credOf func(net.Conn) (uid, gid uint32, pid int32, err error) // peerCred; replaced in tests

	// evMu serialises Publish with subscribing, so that a new subscriber's
	// backlog and its live events meet without a gap or a repeat. It is
	// held only for non-blocking sends.
	evMu sync.Mutex
	subs atomic.Pointer[[]*subscriber]
	seq  uint64         // the last event's number in boot; guarded by evMu
	ring [Backlog]Event // event n at (n-1)%Backlog: the last Backlog ones
	boot event.Boot
	// quit is closed when Serve ends: event streams send what is queued,
	// then close (events.go).
	quit chan struct{}

	lim limits

	mu    sync.Mutex
	conns map[net.Conn]struct{} // accepted and not yet closed
	// streams are the conns that are event streams: they close themselves
	// at the end, after sending what is queued.
	streams map[net.Conn]bool
	done    bool // Serve is ending: new connections are closed at once
	// served counts the connections admitted (admit), admins those of
	// admins, byUID by uid.
	served, admins int
	byUID          map[uint32]int
	// busyRefused connections were refused by admit since busyWarned.
	busyRefused int
	busyWarned  time.Time
}

var _ Publisher = (*Server)(nil)

// NewServer returns a Server for d. Group names are resolved now; an
// unknown one is logged and ignored (Listen, given the same cfg, fails on
// it first).
func NewServer(cfg ServerConfig, d Daemon) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := rules{selfUID: uint32(os.Getuid()), groups: supplementaryGroups}
	var err error
	if r.adminGID, err = lookupGroup(cfg.AdminGroup); err != nil {
		log.Error("control: admin group ignored", "err", err)
	}
	if r.monitorGID, err = lookupGroup(cfg.MonitorGroup); err != nil {
		log.Error("control: monitor group ignored", "err", err)
	}
	boot := cfg.Boot
	if boot.ID == "" {
		boot = event.NewBoot()
	}
	return &Server{cfg: cfg, d: d, log: log, roleOf: r.role, credOf: peerCred, lim: newLimits(cfg),
		conns: map[net.Conn]struct{}{}, byUID: map[uint32]int{}, boot: boot,
		quit: make(chan struct{}), streams: map[net.Conn]bool{}}
}

// Serve accepts connections on ln until ctx is done, then closes ln and
// every connection (event subscribers included), waits for their
// goroutines, and returns nil. It returns an error when ln fails otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.closeAll()
	})
	defer func() {
		stop()
		ln.Close()
		s.closeAll()
		wg.Wait()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("control: %w", err)
			}
			// Out of descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Error("control: accept", "err", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			continue
		}
		backoff = 0
		if !s.track(nc) {
			nc.Close()
			continue
		}
		wg.Go(func() {
			defer s.untrack(nc)
			s.serveConn(nc)
		})
	}
}

func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, nc)
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		close(s.quit)
	}
	s.done = true
	for nc := range s.conns {
		if !s.streams[nc] {
			nc.Close()
		}
	}
}

// conn is one client's connection.
type conn struct {
	s    *Server
	nc   net.Conn
	r    *bufio.Reader
	role string
	by   string // "uid N (name)", for the Daemon
	log  *slog.Logger
	// events is what an "events" call asked for: a backlog, or where to
	// resume.
	events eventsParams
}

func (s *Server) serveConn(nc net.Conn) {
	defer nc.Close()
	uid, gid, pid, err := s.credOf(nc)
	if err != nil {
		s.log.Error("control: cannot identify a peer", "err", err)
		s.refuse(nc, &Error{Code: CodeForbidden, Message: "popd cannot identify the peer"})
		return
	}
	role, ok := s.roleOf(uid, gid)
	if !ok {
		s.log.Warn("control: peer refused", "uid", uid, "gid", gid, "pid", pid)
		s.refuse(nc, &Error{Code: CodeForbidden, Message: fmt.Sprintf("uid %d is not allowed to use the popd control socket", uid)})
		return
	}
	admin := role == RoleAdmin
	if e := s.admit(uid, admin); e != nil {
		s.refuseBusy(nc, uid, pid, e)
		return
	}
	defer s.release(uid, admin) // before the close: a client that saw it may connect again
	c := &conn{s: s, nc: nc, r: bufio.NewReaderSize(nc, MaxFrame+2), role: role, by: describePeer(uid)}
	c.log = s.log.With("peer", c.by, "pid", pid, "role", role)
	c.serve()
}

// refuse sends a hello-level error; the caller closes.
func (s *Server) refuse(nc net.Conn, e *Error) {
	nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	writeFrame(nc, helloError{Error: e})
}

func (c *conn) serve() {
	c.log.Debug("control: connected")
	defer c.log.Debug("control: disconnected")
	if err := writeFrame(c.nc, Hello{Hello: helloWord, Version: Version, Server: c.s.cfg.Version, Role: c.role}); err != nil {
		return
	}
	wait := min(helloTimeout, c.s.lim.idle)
	c.nc.SetReadDeadline(time.Now().Add(wait))
	line, err := readFrame(c.r)
	if err != nil {
		switch {
		case errors.Is(err, errFrameTooLong):
			c.s.refuse(c.nc, &Error{Code: CodeBadRequest, Message: "frame longer than 64 KiB"})
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.s.refuse(c.nc, &Error{Code: CodeTimeout, Message: fmt.Sprintf("no hello in %v", wait)})
		}
		return
	}
	var h Hello
	if err := json.Unmarshal(line, &h); err != nil || h.Hello != helloWord {
		c.s.refuse(c.nc, &Error{Code: CodeBadRequest,
			Message: fmt.Sprintf(`expected a hello: {"hello":%q,"version":%d}`, helloWord, Version)})
		return
	}
	if h.Version != Version {
		c.log.Info("control: client speaks another protocol version", "version", h.Version)
		c.s.refuse(c.nc, &Error{Code: CodeUnsupportedVersion,
			Message: fmt.Sprintf("popd speaks control protocol version %d only", Version)})
		return
	}

	for {
		// Idle, or sending a request too slowly: the place is someone
		// else's (an event stream has no deadline).
		c.nc.SetReadDeadline(time.Now().Add(c.s.lim.idle))
		line, err := readFrame(c.r)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				c.log.Debug("control: idle", "timeout", c.s.lim.idle)
				c.reply(Response{Error: &Error{Code: CodeTimeout, Message: fmt.Sprintf("closed after %v without a request", c.s.lim.idle)}})
			case errors.Is(err, errFrameTooLong):
				c.log.Info("control: request too long")
				c.reply(Response{Error: &Error{Code: CodeBadRequest, Message: "frame longer than 64 KiB"}})
			case errors.Is(err, io.ErrUnexpectedEOF):
				c.reply(Response{Error: &Error{Code: CodeBadRequest, Message: "request without a line ending"}})
			}
			return
		}
		var req Request
		if err := json.Unmarshal(line, &req); err != nil {
			c.log.Info("control: malformed request")
			c.reply(Response{ID: req.ID, Error: &Error{Code: CodeBadRequest, Message: "malformed request: want one JSON object per line"}})
			return
		}
		resp, stream := c.handle(req)
		var sub *subscriber
		if stream {
			// Subscribed before the answer: the client misses nothing
			// published after it has read {"subscribed":true}.
			sub, resp.Result = c.s.subscribe(c.events)
		}
		if err := c.reply(resp); err != nil {
			if sub != nil {
				c.s.unsubscribe(sub)
			}
			return
		}
		if sub != nil {
			c.nc.SetDeadline(time.Time{})
			c.stream(sub)
			return
		}
	}
}

// reply writes r; a client that does not read its answers for as long
// as it may stay idle is closed.
func (c *conn) reply(r Response) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.lim.idle))
	return writeFrame(c.nc, r)
}

// handle runs one request: the one place that checks roles and turns
// errors into their wire form.
func (c *conn) handle(req Request) (resp Response, stream bool) {
	resp.ID = req.ID
	m, ok := methods[req.Method]
	switch {
	case !ok:
		resp.Error = &Error{Code: CodeBadRequest, Message: "unknown method"}
		return resp, false
	case m.admin && c.role != RoleAdmin:
		c.log.Info("control: forbidden", "method", req.Method)
		resp.Error = &Error{Code: CodeForbidden, Message: req.Method + " needs the admin role"}
		return resp, false
	case m.params == "" && !decodeParams(req.Params, &struct{}{}):
		resp.Error = &Error{Code: CodeBadRequest, Message: req.Method + " takes no params"}
		return resp, false
	}
	result, err := c.call(req.Method, m, req.Params)
	if err == nil && result != nil {
		b, merr := json.Marshal(result)
		if merr != nil {
			err = fmt.Errorf("encoding the result: %w", merr)
		} else {
			resp.Result = b
		}
	}
	if err != nil {
		var e *Error
		switch {
		case errors.Is(err, errBadParams):
			e = &Error{Code: CodeBadRequest, Message: "params for " + req.Method + ": want " + m.params}
		case errors.As(err, &e):
		default:
			e = &Error{Code: CodeInternal, Message: err.Error()}
		}
		resp.Result, resp.Error = nil, e
	}
	switch {
	case m.admin:
		c.log.Info("control: call", "method", req.Method, "err", errCode(resp.Error))
	case resp.Error != nil:
		c.log.Debug("control: call", "method", req.Method, "err", errCode(resp.Error))
	}
	return resp, m.stream && resp.Error == nil
}

func errCode(e *Error) any {
	if e == nil {
		return nil
	}
	return e.Code
}

// call runs a method, turning a panic in the Daemon into an error: a bad
// request must never bring popd down.
func (c *conn) call(name string, m method, params json.RawMessage) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("control: panic in a call", "method", name, "panic", v, "stack", string(debug.Stack()))
			result, err = nil, &Error{Code: CodeInternal, Message: "internal error"}
		}
	}()
	return m.call(c, params)
}
