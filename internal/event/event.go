// Package event names the kinds of things that happen in popd: a session's
// login, a kick, a delivery. The protocol (package pop3) reports some of
// them, the daemon the rest, and the control API carries them all to
// popadm under these same names. A Boot names one run of popd: its
// session ids and its events' numbering. It imports nothing of popd's, so
// every layer may use it.
package event

import "time"

// Kind is what an event is about; its value is the wire name in the control
// API's event stream ("type" in the JSON).
type Kind string

// The kinds popd publishes.
const (
	SessionOpened Kind = "session.opened" // a connection was accepted
	Login         Kind = "login"          // a session authenticated (Reason and Method: the method; Duration)
	LoginFailed   Kind = "login.failed"   // a login was refused (Reason: why; Method)
	SessionClosed Kind = "session.closed" // a session ended (counts: retrieved, deleted, octets; Duration)
	Kicked        Kind = "session.kicked" // an administrator ended a session
	Delivered     Kind = "mail.delivered" // a message appeared in a user's new/ (Reason: file name)
	UsersReloaded Kind = "users.reloaded" // the users file was read again (Count: users)
	UserChanged   Kind = "user.changed"   // a user was added, changed or deleted (Reason: what)
	Unlocked      Kind = "lock.unlocked"  // an administrator removed a maildrop lock
	Penalty       Kind = "penalty"        // a source's failed logins grew its delay
	Stopped       Kind = "popd.stopped"   // popd is about to exit: the last event of its Boot
	// Dropped: this subscriber did not get Count events (0: an unknown
	// number), which Reason may say why: it read too slowly, or they left
	// popd's backlog before it resumed, or popd stopped before sending them.
	Dropped Kind = "events.dropped"
	// Restarted: the stream resumed on another run of popd than the one it
	// left, which started at Time; Duration, when the client knows it, is
	// how long popd was down. The control client makes it (control.Cursor).
	Restarted Kind = "popd.restarted"
)

// PenaltyCleared: an administrator cleared a source's penalty (Remote: the
// source; Count: the failures it had; By).
const PenaltyCleared Kind = "penalty.cleared"

// Event is one thing that happened in the daemon.
type Event struct {
	Type    Kind      `json:"type"`
	Time    time.Time `json:"time"`
	Session string    `json:"session,omitempty"`
	User    string    `json:"user,omitempty"`
	Remote  string    `json:"remote,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	// Method is how a login was tried (login, login.failed): "USER",
	// "APOP", "AUTH PLAIN" and so on, or for nginx's auth_http its
	// Auth-Method ("plain", "apop", "cram-md5").
	Method string `json:"method,omitempty"`
	// Duration is how long it took: a login, from the start of the
	// credential check to TRANSACTION, the maildrop opened and locked; a
	// session (session.closed), from its connection to its end.
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Counts: messages retrieved and deleted, octets sent (session.closed);
	// events lost (events.dropped); users (users.reloaded).
	Retrieved int   `json:"retrieved,omitempty"`
	Deleted   int   `json:"deleted,omitempty"`
	Octets    int64 `json:"octets,omitempty"`
	Count     int   `json:"count,omitempty"`
	// By is who did an administrative action (e.g. "uid 0", "SIGHUP"):
	// every event of an administrator's doing has one.
	By string `json:"by,omitempty"`
	// Boot is the run of popd that published it (Boot.ID), and Seq its
	// number in that run's stream, from 1 without gaps: a subscriber that
	// knows the last it saw can resume there. Events a subscriber is told
	// about its own stream (events.dropped, popd.restarted) have no Seq.
	Boot string `json:"boot,omitempty"`
	Seq  uint64 `json:"seq,omitempty"`
	// Sessions are the sessions that changed (sessions.changed: change.go).
	Sessions []SessionChange `json:"sessions,omitempty"`
}
