package event

import "time"

// The sessions' changes, for consoles that keep a table of the live
// sessions (control's "sessions" snapshot, then these): only subscribers
// that ask for them get them, and they are neither numbered (no Seq) nor
// kept in popd's backlog — they say how things are, not what happened.
const (
	// SessionsChanged: live sessions changed since the last such event
	// (Sessions: each as it is now). popd sends one a second at most, and
	// each session at most once in it: a session that did nothing is in
	// none.
	SessionsChanged Kind = "sessions.changed"
	// SessionsResync: this subscriber lost sessions.changed events (it
	// read too slowly; Count of them): what it knows of the sessions is
	// out of date until it lists them again.
	SessionsResync Kind = "sessions.resync"
)

// SessionChange is one live session as sessions.changed carries it: what
// may change in a session, all of it, so that the last change a
// subscriber got of a session is the session. Remote, Local and Since
// never change: they come in a session's first change only (and in its
// session.opened: Remote, and Since as its Time).
type SessionChange struct {
	ID          string        `json:"id"`
	User        string        `json:"user,omitempty"`
	Remote      string        `json:"remote,omitempty"`
	Local       string        `json:"local,omitempty"`
	Since       time.Time     `json:"since,omitzero"`
	TLS         bool          `json:"tls,omitempty"`
	State       string        `json:"state"`
	LastCommand string        `json:"last_command,omitempty"`
	Retrieved   int           `json:"retrieved,omitempty"`
	Octets      int64         `json:"octets,omitempty"`
	Idle        time.Duration `json:"idle_ns,omitempty"` // at the event's Time
	Locked      bool          `json:"locked,omitempty"`
	Sending     bool          `json:"sending,omitempty"`
	Stalled     time.Duration `json:"stalled_ns,omitempty"` // at the event's Time
}
