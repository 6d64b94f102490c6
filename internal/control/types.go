package control

import (
	"encoding/json"
	"time"

	"popd/internal/event"
)

// Version is the control protocol's version, exchanged in the hello.
const Version = 1

// Roles a peer may have, decided from its credentials (SO_PEERCRED).
const (
	RoleAdmin   = "admin"   // root, popd's own uid, members of -admin-group
	RoleMonitor = "monitor" // members of -monitor-group: read-only methods
)

// Request is one call from a client: {"id":1,"method":"who","params":{}}.
type Request struct {
	ID     int64           `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

// Response answers the Request with the same ID: a result or an error.
type Response struct {
	ID     int64           `json:"id"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// ErrorCode is a stable word for scripts, telling why a call failed.
type ErrorCode string

// The error codes.
const (
	CodeNotFound           ErrorCode = "not-found"           // no such session, user or lock
	CodeForbidden          ErrorCode = "forbidden"           // the peer's role does not allow it
	CodeInvalid            ErrorCode = "invalid"             // a bad name, password, address or configuration
	CodeConflict           ErrorCode = "conflict"            // exists already, or is in use
	CodeInternal           ErrorCode = "internal"            // popd failed; its log says why
	CodeUnsupportedVersion ErrorCode = "unsupported-version" // the peers speak different versions
	CodeBadRequest         ErrorCode = "bad-request"         // not a request this API understands
	CodeBusy               ErrorCode = "busy"                // too many control connections; the peer is closed
	CodeTimeout            ErrorCode = "timeout"             // no hello or request in time; the peer is closed
)

// Error is a failed call: a Code for scripts, a Message for people.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Hello is the first frame each side sends. The server's says which role
// the peer was given.
type Hello struct {
	Hello   string `json:"hello"` // "popd-control"
	Version int    `json:"version"`
	Server  string `json:"server,omitempty"` // popd's version, from the server
	Role    string `json:"role,omitempty"`   // from the server
}

// Session is one live POP3 session.
type Session struct {
	ID          string        `json:"id"`
	User        string        `json:"user,omitempty"`
	Remote      string        `json:"remote"`
	Local       string        `json:"local"`
	TLS         bool          `json:"tls"`
	State       string        `json:"state"`
	LastCommand string        `json:"last_command,omitempty"`
	Retrieved   int           `json:"retrieved"`
	Octets      int64         `json:"octets"`
	Since       time.Time     `json:"since"`
	Idle        time.Duration `json:"idle_ns"`
	Locked      bool          `json:"locked"` // holds its maildrop's lock
	// Sending: a RETR or TOP response is being written, and Stalled is
	// how long since its bytes last moved (a client that stopped reading).
	// Idle then counts from then too: a long RETR that goes on is not idle.
	Sending bool          `json:"sending,omitempty"`
	Stalled time.Duration `json:"stalled_ns,omitempty"`
}

// User is one entry of the users file, with its maildrop.
type User struct {
	Name      string    `json:"name"`
	Scheme    string    `json:"scheme"`
	Disabled  bool      `json:"disabled"`
	Messages  int       `json:"messages"`
	Octets    int64     `json:"octets"` // raw file sizes
	Locked    bool      `json:"locked"`
	LastLogin time.Time `json:"last_login,omitzero"`
}

// Lock is a held maildrop lock.
type Lock struct {
	User      string    `json:"user"`
	Session   string    `json:"session,omitempty"` // when held by a session of this popd
	Owner     string    `json:"owner"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Since     time.Time `json:"since"`
	Refreshed time.Time `json:"refreshed"`
	Stale     bool      `json:"stale"`
}

// Penalty is a source slowed down by failed logins.
type Penalty struct {
	Source   string        `json:"source"`
	Failures int           `json:"failures"`
	Last     time.Time     `json:"last"`
	Delay    time.Duration `json:"delay_ns"`
	// Users are the user names tried, newest first: popd keeps the last
	// 8 distinct ones, each cut at 255 bytes, some 256 bytes in all.
	Users []string `json:"users,omitempty"`
}

// Stats are the daemon's counters.
type Stats struct {
	Version        string        `json:"version"`
	Uptime         time.Duration `json:"uptime_ns"`
	Sessions       int           `json:"sessions"`
	Logins         int64         `json:"logins"`   // since start
	Failures       int64         `json:"failures"` // failed logins since start
	LoginsPerMin   float64       `json:"logins_per_min"`
	FailuresPerMin float64       `json:"failures_per_min"`
	BytesSent      int64         `json:"bytes_sent"`
	// Seq is the number of the last event published before Sessions was
	// counted (changes.go): a console whose table of sessions has every
	// event up to it has them all.
	Seq uint64 `json:"seq,omitempty"`
}

// Event is one thing that happened in the daemon; the event stream
// carries them one per line.
type Event = event.Event

// Daemon is what the control server serves: popd implements it. Methods
// return *Error values for errors the client should see by code.
type Daemon interface {
	Sessions() []Session
	Kick(id, by string) error
	KickUser(user, by string) (int, error)
	Users() ([]User, error)
	AddUser(name, password, by string) error
	SetPassword(name, password, by string) error
	DeleteUser(name string, purgeMail bool, by string) error
	SetDisabled(name string, disabled bool, by string) error
	Locks() ([]Lock, error)
	Unlock(user, by string) error
	Penalties() []Penalty
	ClearPenalty(source, by string) error
	Reload(by string) error
	Stats() Stats
}

// Publisher receives the daemon's events; the control server implements it
// and fans events out to subscribers.
type Publisher interface {
	Publish(Event)
}
