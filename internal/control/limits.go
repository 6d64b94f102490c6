package control

import (
	"fmt"
	"net"
	"time"
)

// The defaults of ServerConfig's limits on control connections. The
// dashboard holds two connections (calls, events) and polls every second;
// a command holds one (two for "events") for as long as it runs. So 16 a
// uid is a person with a few dashboards and scripts open, 64 is a handful
// of people and monitors at once, at the cost of 64 descriptors and
// goroutines at worst; 8 of them always wait for admins; and a minute
// without a request is a client that has forgotten its connection, not
// one that is thinking.
const (
	DefaultMaxConns       = 64
	DefaultMaxConnsPerUID = 16
	DefaultAdminReserve   = 8
	DefaultIdleTimeout    = 60 * time.Second
)

// limits are a Server's caps: ServerConfig's, with the defaults.
type limits struct {
	total, perUID, reserve int
	idle                   time.Duration
}

func newLimits(cfg ServerConfig) limits {
	or := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	l := limits{
		total:   or(cfg.MaxConns, DefaultMaxConns),
		perUID:  or(cfg.MaxConnsPerUID, DefaultMaxConnsPerUID),
		reserve: or(cfg.AdminReserve, DefaultAdminReserve),
		idle:    cfg.IdleTimeout,
	}
	if l.idle <= 0 {
		l.idle = DefaultIdleTimeout
	}
	l.perUID = min(l.perUID, l.total)
	l.reserve = min(l.reserve, l.total-1) // a place for monitors
	return l
}

// admit counts in a connection from uid, or says why it may not be
// served: the uid has its share, or every place is taken, or (for all but
// admins) the others hold every place but the admins' reserve. The peer
// was identified first; connections refused for their uid are never
// counted.
func (s *Server) admit(uid uint32, admin bool) *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lim
	switch {
	case s.byUID[uid] >= l.perUID:
		return &Error{Code: CodeBusy, Message: fmt.Sprintf(
			"too many connections to the popd control socket from uid %d (%d at most); close one", uid, l.perUID)}
	case s.served >= l.total:
		return &Error{Code: CodeBusy, Message: fmt.Sprintf(
			"too many connections to the popd control socket (%d at most); try again later", l.total)}
	case !admin && s.served-s.admins >= l.total-l.reserve:
		return &Error{Code: CodeBusy, Message: fmt.Sprintf(
			"too many connections to the popd control socket (the last %d are kept for admins); try again later", l.reserve)}
	}
	s.served++
	if admin {
		s.admins++
	}
	s.byUID[uid]++
	return nil
}

// release counts out a connection that admit counted in.
func (s *Server) release(uid uint32, admin bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.served--
	if admin {
		s.admins--
	}
	if s.byUID[uid]--; s.byUID[uid] <= 0 {
		delete(s.byUID, uid)
	}
}

// busyWarnEvery spaces the warnings about refused connections: a flood
// must not flood the log too.
const busyWarnEvery = time.Minute

// refuseBusy refuses a connection that admit did not count in, and logs
// it: a warning at most every busyWarnEvery, saying how many were refused
// since the last one; a debug line otherwise.
func (s *Server) refuseBusy(nc net.Conn, uid uint32, pid int32, e *Error) {
	s.mu.Lock()
	s.busyRefused++
	now := time.Now()
	n, warn := s.busyRefused, now.Sub(s.busyWarned) >= busyWarnEvery
	if warn {
		s.busyRefused, s.busyWarned = 0, now
	}
	s.mu.Unlock()
	if warn {
		s.log.Warn("control: too many connections", "uid", uid, "pid", pid, "refused", n, "why", e.Message)
	} else {
		s.log.Debug("control: too many connections", "uid", uid, "pid", pid, "why", e.Message)
	}
	s.refuse(nc, e)
}
