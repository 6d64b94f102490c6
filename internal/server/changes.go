package server

import (
	"sync"

	"popd/internal/pop3"
)

// The sessions' changes, for the consoles' incremental updates: with
// Options.TrackChanges, a session that changes (a command, a login, bytes
// of a RETR moving, its end) puts itself on a list once, and TakeChanges
// hands out the list, each session as it is then, and starts a new one.
// Called once a second (the daemon's publisher), that is each changed
// session at most once a second, at a cost that grows with the sessions
// that did something, not with those open: an idle session costs nothing,
// and a busy one an atomic load per change after its first.

// changeList is the sessions changed since the last TakeChanges, each
// once (pop3.Config.OnChange tells of a session once until TakeChange).
type changeList struct {
	mu   sync.Mutex
	list []changed
}

type changed struct {
	sess  *pop3.Session
	first bool // the session is new: its first change
}

// add is pop3.Config.OnChange.
func (c *changeList) add(sess *pop3.Session) {
	c.mu.Lock()
	c.list = append(c.list, changed{sess: sess})
	c.mu.Unlock()
}

// addNew lists a session that was just registered (a new session counts as
// changed). A nil list keeps nothing.
func (c *changeList) addNew(sess *pop3.Session) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.list = append(c.list, changed{sess: sess, first: true})
	c.mu.Unlock()
}

// Change is a session that changed, as it is now. First says it is the
// session's first: it is new since the last TakeChanges.
type Change struct {
	pop3.Info
	First bool
}

// TakeChanges returns the sessions that changed since the last call, each
// once, as they are now, and forgets them; the sessions that are ending
// are left out (their session.closed says the rest). Nil without
// Options.TrackChanges.
func (s *Server) TakeChanges() []Change {
	c := s.changes
	if c == nil {
		return nil
	}
	c.mu.Lock()
	list := c.list
	if len(list) == 0 { // an idle server makes no garbage here
		c.mu.Unlock()
		return nil
	}
	c.list = make([]changed, 0, len(list))
	c.mu.Unlock()
	out := make([]Change, 0, len(list))
	for _, ch := range list {
		in := ch.sess.TakeChange()
		if in.State == pop3.StateClosed {
			continue
		}
		out = append(out, Change{Info: in, First: ch.first})
	}
	return out
}
