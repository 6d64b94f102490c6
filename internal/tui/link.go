package tui

import (
	"cmp"
	"context"
	"time"

	"popd/internal/control"
)

const (
	dialTimeout   = 10 * time.Second
	pollTimeout   = 15 * time.Second
	actionTimeout = 15 * time.Second
	maxBackoff    = 30 * time.Second
)

// link is the connection to one popd: the dashboard's only one, or one
// node of a fleet. Each has its own dial and backoff, poll timer, event
// stream and generation number, so that a node that does not answer
// holds up no other.
type link struct {
	i       int    // its index in Model.links, carried by its messages
	name    string // the node's name; "" for the one popd
	dial    func(ctx context.Context) (Backend, error)
	timeout time.Duration // bounds the dial, and the sessions and stats of a poll; 0: none of its own

	backend       Backend
	gen           int
	connected     bool
	everConnected bool
	dialing       bool
	role          string
	version       string // popd's, from the hello
	attempt       int
	retryAt       time.Time
	lastErr       error
	lastRefusal   string
	connCtx       context.Context
	cancel        context.CancelFunc
	polling       bool
	pollQueued    bool
	pollSeq       int
	evCh          <-chan control.Event
	// The event stream, resumed on a reconnect (resume.go): the cursor
	// is past the last event got; lostAt is when the connection broke,
	// downFrom what a restart's down time counts from.
	cursor     control.Cursor
	subscribed bool // a stream was opened before
	lostAt     time.Time
	downFrom   time.Time

	stale   bool
	updated time.Time
	hist    history
	histAt  int64 // the Unix minute popd's history was last asked for on this connection
	noHist  bool  // popd keeps none (an older popd): the polls alone count

	// The latest lists it gave, which a fleet merges (fleet.go).
	got      fetch // which of them it has given
	sessions []control.Session
	sync     sessionSync // the sessions kept by popd's events (sessync.go)
	locks    []control.Lock
	// penalties are this node's own: each popd keeps its sources'.
	penalties []control.Penalty
}

func newLink(i int, name string, dial func(context.Context) (Backend, error), timeout time.Duration) *link {
	return &link{i: i, name: name, dial: dial, timeout: timeout, stale: true, dialing: true}
}

// dialTimeout is the link's timeout, or the default.
func (l *link) dialTimeout() time.Duration { return cmp.Or(l.timeout, dialTimeout) }

// Messages from the Cmds that do I/O. node is the link's index and gen its
// generation: a message from before a reconnect is dropped.
type (
	dialMsg struct {
		node, gen int
		b         Backend
		err       error
	}
	redialMsg   struct{ node, gen int }
	pollTickMsg struct{ node, gen, seq int }
	pollMsg     struct {
		node, gen, seq int
		at             time.Time
		got            fetch // which of sessions, users and locks it has
		sessions       []control.Session
		users          []control.User
		locks          []control.Lock
		penalties      []control.Penalty
		stats          control.Stats
		gotStats       bool
		minutes        []control.Minute // popd's last hour, when asked for
		noHist         bool             // popd keeps no history
		err            error            // the connection failed
		refused        error            // popd answered a call with an error
	}
	eventsSubMsg struct {
		node, gen int
		ch        <-chan control.Event
		start     control.Cursor  // where the stream starts, when the Backend says
		gap       []control.Event // notices of what the console cannot know it missed
		changes   bool            // the stream carries the sessions' changes (sessync.go)
		err       error
	}
	// eventsMsg is a batch of one link's events; the pages hear it with
	// name, the node's name ("" for the one popd), filled in.
	eventsMsg struct {
		node, gen int
		name      string
		evs       []control.Event
		closed    bool
	}
	closedMsg struct{}

	// streamMsg tells the pages whether popd gives live events: refused
	// says why not.
	streamMsg struct{ refused string }
)

// fetch is what a poll lists besides the stats, as the pages ask
// (poller).
type fetch uint8

const (
	fetchSessions fetch = 1 << iota
	fetchUsers
	fetchLocks
	fetchPenalties
)

type errString string

func (e errString) Error() string { return string(e) }

const errEventsEnded = errString("popd closed the event stream")

// keep records the lists of a poll.
func (l *link) keep(r pollMsg) {
	if r.got&fetchSessions != 0 {
		l.sessions = r.sessions
		l.sync.polled()
	}
	if r.got&fetchLocks != 0 {
		l.locks = r.locks
	}
	if r.got&fetchPenalties != 0 {
		l.penalties = r.penalties
	}
	l.got |= r.got
}
