package pop3

import "time"

// A session as the live registry sees it: its state, a snapshot of it
// (Info), and whether that changed since it was last taken (for the
// consoles' incremental updates: Config.OnChange, TakeChange).

// State is a session's RFC 1939 state.
type State int32

const (
	StateAuthorization State = iota
	StateTransaction
	StateUpdate
	StateClosed
)

func (st State) String() string {
	switch st {
	case StateAuthorization:
		return "authorization"
	case StateTransaction:
		return "transaction"
	case StateUpdate:
		return "update"
	default:
		return "closed"
	}
}

// Info is a snapshot of a session for the live registry.
type Info struct {
	ID          string
	RemoteAddr  string
	LocalAddr   string
	TLS         bool
	User        string // empty until logged in
	State       State
	LastCommand string // the verb only, never arguments
	Retrieved   int    // RETR and TOP responses sent
	Octets      int64  // message octets sent
	Since       time.Time
	LastActive  time.Time
	Sending     bool      // a RETR or TOP response is being written
	LastSent    time.Time // while Sending: when its bytes last moved to the client
}

// Info returns a snapshot of the session; safe from any goroutine.
func (s *Session) Info() Info {
	s.mu.Lock()
	in := s.snap
	s.mu.Unlock()
	if t := s.sentAt.Load(); t != 0 {
		in.Sending, in.LastSent = true, time.Unix(0, t)
	}
	return in
}

// touch notes that Info changed, for Config.OnChange.
func (s *Session) touch() {
	if s.cfg.OnChange != nil && !s.changed.Load() && s.changed.CompareAndSwap(false, true) {
		s.cfg.OnChange(s)
	}
}

// TakeChange returns Info, and forgets that it changed: the next change
// tells Config.OnChange again. Safe from any goroutine.
func (s *Session) TakeChange() Info {
	s.changed.Store(false) // before Info: a change after it tells again
	return s.Info()
}
