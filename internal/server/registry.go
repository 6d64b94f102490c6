package server

import (
	"context"
	"net/netip"
	"time"

	"popd/internal/pop3"
)

// The registry's operations for the daemon and its control API: the live
// sessions listed, counted and kicked, what they sent, the last logins,
// the penalties, the certificate. (Their changes, for the consoles, are
// changes.go's.)

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

// OctetsSent is the number of message octets sent (RETR and TOP) since the
// server started, by the live sessions and those that ended: each counted
// once, so that it never goes down.
func (s *Server) OctetsSent() int64 {
	_, octets := s.Sent()
	return octets
}

// Sent is OctetsSent and the number of messages sent (RETR and TOP
// responses), counted the same way.
func (s *Server) Sent() (messages, octets int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	messages, octets = s.sentMsgs, s.sent
	for _, sess := range s.sessions {
		in := sess.Info()
		messages += int64(in.Retrieved)
		octets += in.Octets
	}
	return messages, octets
}

// SessionStates counts the live sessions in each state, indexed by
// pop3.State (a session's last moments are StateClosed).
func (s *Server) SessionStates() [pop3.StateClosed + 1]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n [pop3.StateClosed + 1]int
	for _, sess := range s.sessions {
		if st := sess.Info().State; st >= 0 && st <= pop3.StateClosed {
			n[st]++
		}
	}
	return n
}

// Kick ends session id: the client is told "-ERR [SYS/TEMP] reason" and the
// connection is closed without UPDATE. It returns what the session was, and
// false when there is no such session.
func (s *Server) Kick(id, reason string) (pop3.Info, bool) {
	return s.KickAnnounced(id, reason, nil)
}

// KickAnnounced is Kick that calls announce, if not nil, with the
// session's information before the session is stopped: an event that says
// "kicked" then comes before the session's own "closed".
func (s *Server) KickAnnounced(id, reason string, announce func(pop3.Info)) (pop3.Info, bool) {
	s.mu.Lock()
	sess, ok := s.sessions[id]
	s.mu.Unlock()
	if !ok {
		return pop3.Info{}, false
	}
	in := sess.Info()
	if announce != nil {
		announce(in)
	}
	sess.Stop(reason)
	return in, true
}

// LastLogin is when user last logged in through this server (zero: not
// since it started).
func (s *Server) LastLogin(user string) time.Time { return s.be.lastLogin(user) }

// Penalties lists the sources currently slowed down by failed logins.
func (s *Server) Penalties() []Penalty { return s.be.penalties.list() }

// PenaltiesActive is len(Penalties()), without the list.
func (s *Server) PenaltiesActive() int { return s.be.penalties.active() }

// ClearPenalty forgets the failed logins of source p — an address stands
// for its source, an IPv6 one for its /48 — and returns what they were;
// false when p had no penalty.
func (s *Server) ClearPenalty(p netip.Prefix) (Penalty, bool) { return s.be.penalties.succeed(key(p)) }

// ReloadCertificate reads the certificate files again; on error the old
// certificate stays. Without a certificate it does nothing.
func (s *Server) ReloadCertificate() error {
	if s.certs == nil {
		return nil
	}
	return s.certs.Reload()
}

// WatchCertificate reloads the certificate when its files change, until
// ctx is done. Without a certificate it returns at once.
func (s *Server) WatchCertificate(ctx context.Context) error {
	if s.certs == nil {
		return nil
	}
	return s.certs.Watch(ctx)
}

// SessionCount is len(Sessions()), without the list.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
