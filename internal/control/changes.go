package control

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
)

// A console's table of the live sessions, kept without listing them all
// every second: the "sessions" method is a snapshot, at a point of the
// event stream (its Seq), and an event stream that asks for them
// ("events" with {"changes":true}) carries, besides the events, the
// sessions that changed (sessions.changed, at most once a second each).
// The subscriber applies to the snapshot the session events numbered
// after its Seq (session.opened, login, session.closed) and every
// sessions.changed: each carries the whole of what may change in a
// session, so the last one of a session is the session. It lists the
// sessions again when the stream says it lost something: events.dropped,
// or sessions.resync when only changes were lost.
//
// The changes are not numbered and not kept in the backlog: they say how
// the sessions are, which the next snapshot says too. When a subscriber's
// queue is half full they are the first to go, so that a slow console
// loses its table (and lists the sessions again) before it loses events.

// ChangePublisher is a Publisher that sends sessions.changed events to
// the subscribers that asked for them (the control server).
type ChangePublisher interface {
	Publisher
	// WantsChanges says whether any subscriber asked for them: without
	// one, the daemon need not make them.
	WantsChanges() bool
}

var _ ChangePublisher = (*Server)(nil)

// SessionSnapshot answers "sessions": the live sessions (those ending are
// left out: their session.closed is published) after event Seq of run
// Boot. Every event up to Seq is in the list; those after it may be.
type SessionSnapshot struct {
	Boot     string    `json:"boot"`
	Seq      uint64    `json:"seq"`
	Sessions []Session `json:"sessions"`
}

// WantsChanges implements ChangePublisher.
func (s *Server) WantsChanges() bool {
	subs := s.subs.Load()
	if subs == nil {
		return false
	}
	for _, sub := range *subs {
		if sub.changes {
			return true
		}
	}
	return false
}

// publishChanges sends a sessions.changed event to the subscribers that
// asked for it, while their queue is less than half full; a subscriber
// that loses one is told (sessions.resync) before its next event. An
// event without sessions goes only to those that lost something and
// carries only the notices (the stream writes nothing else): sent each
// second while popd is quiet, it tells them without waiting for an event.
func (s *Server) publishChanges(e Event) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	subs := s.subs.Load()
	if subs == nil {
		return
	}
	for _, sub := range *subs {
		if !sub.changes || len(e.Sessions) == 0 && sub.lost.Load() == 0 && sub.dropped.Load() == 0 {
			continue
		}
		if len(sub.ch) >= SubscriberQueue/2 {
			sub.lost.Add(1)
			continue
		}
		n, l := sub.dropped.Swap(0), sub.lost.Swap(0)
		select {
		case sub.ch <- queued{e: e, dropped: n, lost: l}:
		default:
			sub.dropped.Add(n)
			sub.lost.Add(l + 1)
		}
	}
}

// lastSeq is the number of the last event published.
func (s *Server) lastSeq() uint64 {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	return s.seq
}

// sessionSnapshot is the "sessions" method. The number is taken first:
// whatever an event up to it said is done by the time the list is made.
func sessionSnapshot(c *conn, _ json.RawMessage) (any, error) {
	snap := SessionSnapshot{Boot: c.s.boot.ID, Seq: c.s.lastSeq()}
	list := slices.DeleteFunc(c.s.d.Sessions(), func(s Session) bool { return s.State == stateClosed })
	snap.Sessions = orEmpty(list)
	return snap, nil
}

// stateClosed is Session.State of a session that is ending.
const stateClosed = "closed"

// SessionSnapshot lists the live sessions at a point of the event stream
// ("sessions").
func (c *Client) SessionSnapshot(ctx context.Context) (SessionSnapshot, error) {
	var v SessionSnapshot
	return v, c.Call(ctx, "sessions", nil, &v)
}

// SubscribeSessions is Subscribe with the sessions' changes: the stream
// carries sessions.changed and sessions.resync events too. changes says
// whether it does: a popd that knows no changes (an older one, which
// refuses the request) gives Subscribe's stream.
func (c *Client) SubscribeSessions(ctx context.Context, from Cursor) (ch <-chan Event, start Cursor, changes bool, err error) {
	ch, start, err = c.subscribe(ctx, from, true)
	var ce *Error
	if errors.As(err, &ce) && ce.Code == CodeBadRequest {
		ch, start, err = c.subscribe(ctx, from, false)
		return ch, start, false, err
	}
	return ch, start, err == nil, err
}
