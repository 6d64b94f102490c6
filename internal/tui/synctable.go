package tui

import (
	"time"

	"popd/internal/control"
	"popd/internal/event"
)

// A link's table of sessions kept by popd's events (sessync.go): the
// snapshot, the events after it, the changes; when to list it again.

// maxBuffered bounds the session events kept while a snapshot is on its
// way; past it, another snapshot is asked for once that one came.
const maxBuffered = 100_000

// countChecks is how many quiet polls in a row may see a number of
// sessions other than the table's before it is listed again.
const countChecks = 2

// sessionSync is a link's table of sessions kept by popd's events.
type sessionSync struct {
	on      bool // the stream carries the changes: the polls leave the sessions out
	pending bool // connected to a syncer, its stream not yet open: the same
	have    bool // rows hold a snapshot and what happened since: the pages get them
	asking  bool // a snapshot is on its way
	again   bool // ask for another when it comes
	dirty   bool // the rows changed since the pages heard of them
	churn   bool // sessions opened or closed since the last count check
	off     int  // count checks in a row that found another number

	boot    string // the stream's run of popd
	seq     uint64 // its last numbered event
	snapSeq uint64 // the snapshot's: events up to it are in it

	rows    map[string]*syncRow
	order   []*syncRow      // in the order they came; gone ones until compacted
	gone    int             // how many of order are gone
	buf     []control.Event // session events that came while asking
	resyncs int             // snapshots installed
	why     map[string]int  // what had the table listed again, counted
}

// syncRow is a session of the table; Idle and Stalled are as they were at
// at.
type syncRow struct {
	control.Session
	at   time.Time
	gone bool
}

// connected starts the table of a new connection: a syncer's sessions
// wait for its stream.
func (y *sessionSync) connected(b Backend) {
	_, ok := b.(syncer)
	*y = sessionSync{pending: ok, have: y.have, rows: y.rows, order: y.order, gone: y.gone, resyncs: y.resyncs, why: y.why}
}

// disconnected: the rows stay, as the node last said them.
func (y *sessionSync) disconnected() {
	y.on, y.pending, y.asking, y.again, y.buf = false, false, false, false, nil
}

// polled: a poll listed the sessions; they are what the pages get.
func (y *sessionSync) polled() { y.have = false }

// started takes a new stream: whether it carries the changes, and where
// it starts. It says whether to ask for a snapshot.
func (y *sessionSync) started(changes bool, start control.Cursor) bool {
	y.pending = false
	y.on = changes
	y.boot, y.seq = start.Boot, start.Seq
	return y.on
}

// ask notes that a snapshot is asked for; false when one is on its way
// already (another will be asked for after it).
func (y *sessionSync) ask() bool {
	if y.asking {
		y.again = true
		return false
	}
	y.asking, y.again, y.buf = true, false, nil
	return true
}

// install puts a snapshot in the table, with the events that came
// meanwhile. It says whether to ask for another at once.
func (y *sessionSync) install(snap control.SessionSnapshot, at time.Time) bool {
	y.asking = false
	if y.boot != "" && snap.Boot != y.boot {
		// popd restarted meanwhile: the stream ends, and the next
		// connection lists the sessions.
		y.buf, y.again = nil, false
		y.note("another run")
		return false
	}
	y.rows = make(map[string]*syncRow, len(snap.Sessions))
	y.order = make([]*syncRow, 0, len(snap.Sessions))
	y.gone = 0
	for _, s := range snap.Sessions {
		y.add(&syncRow{Session: s, at: at})
	}
	y.snapSeq, y.have, y.dirty, y.churn, y.off = snap.Seq, true, true, true, 0
	y.resyncs++
	buf := y.buf
	y.buf = nil
	for i := range buf {
		y.applyOne(&buf[i], at)
	}
	again := y.again || len(buf) >= maxBuffered
	y.again = false
	return again
}

func (y *sessionSync) add(r *syncRow) {
	y.rows[r.ID] = r
	y.order = append(y.order, r)
}

// apply follows a batch of the stream's events. It says whether the table
// must be listed again.
func (y *sessionSync) apply(evs []control.Event, at time.Time) (resync bool) {
	if !y.on {
		return false
	}
	for i := range evs {
		e := &evs[i]
		if e.Seq != 0 {
			switch {
			case y.boot == "":
				y.boot = e.Boot
			case e.Boot != y.boot:
				y.boot, y.seq = e.Boot, e.Seq
				resync = y.note("another run")
			case e.Seq <= y.seq:
				continue // had already
			case e.Seq != y.seq+1:
				resync = y.note("a gap")
			}
			y.seq = e.Seq
		}
		switch e.Type {
		case event.Dropped, event.SessionsResync, event.Restarted:
			resync = y.note(string(e.Type))
		case event.SessionOpened, event.Login, event.SessionClosed, event.SessionsChanged:
			switch {
			case y.asking && len(y.buf) < maxBuffered:
				y.buf = append(y.buf, *e)
			case y.asking:
				y.again = true
			case y.have:
				y.applyOne(e, at)
			}
		}
	}
	return resync
}

// note counts why the table is listed again, and says it is.
func (y *sessionSync) note(why string) bool {
	if y.why == nil {
		y.why = map[string]int{}
	}
	y.why[why]++
	return true
}

// applyOne applies a session event to the rows.
func (y *sessionSync) applyOne(e *control.Event, at time.Time) {
	if e.Seq != 0 && e.Seq <= y.snapSeq {
		return // in the snapshot
	}
	switch e.Type {
	case event.SessionOpened:
		y.churn = true
		if y.rows[e.Session] == nil {
			y.add(&syncRow{Session: control.Session{ID: e.Session, Remote: e.Remote, State: "authorization", Since: e.Time}, at: at})
			y.dirty = true
		}
	case event.Login:
		if r := y.rows[e.Session]; r != nil {
			r.User, r.State, r.Locked = e.User, "transaction", true
			y.dirty = true
		}
	case event.SessionClosed:
		y.churn = true
		if r := y.rows[e.Session]; r != nil {
			delete(y.rows, e.Session)
			r.gone = true
			y.gone++
			y.dirty = true
		}
	case event.SessionsChanged:
		for i := range e.Sessions {
			c := &e.Sessions[i]
			r := y.rows[c.ID]
			if r == nil {
				continue // ended, or never seen: its session.closed came
			}
			r.change(c)
			r.at = at
			y.dirty = true
		}
	}
}

// change takes what a sessions.changed says of the session.
func (r *syncRow) change(c *event.SessionChange) {
	s := &r.Session
	s.User, s.TLS, s.State, s.LastCommand = c.User, c.TLS, c.State, c.LastCommand
	s.Retrieved, s.Octets, s.Idle, s.Locked = c.Retrieved, c.Octets, c.Idle, c.Locked
	s.Sending, s.Stalled = c.Sending, c.Stalled
	if c.Remote != "" {
		s.Remote = c.Remote
	}
	if c.Local != "" {
		s.Local = c.Local
	}
	if !c.Since.IsZero() {
		s.Since = c.Since
	}
}

// checkCount compares the table with the number of sessions popd's stats
// count (n, after event seq), and says whether to list them again: after
// countChecks checks in a row that found another number, the table having
// every event up to seq and no session having opened or closed meanwhile
// (while they come and go the two may differ for a moment; a console
// behind the stream has yet to hear of some).
func (y *sessionSync) checkCount(n int, seq uint64) bool {
	if !y.on || !y.have || y.asking {
		return false
	}
	switch {
	case y.seq < seq:
		y.off = 0
	case y.churn:
		y.churn, y.off = false, 0
	case len(y.rows) != n:
		y.off++
	default:
		y.off = 0
	}
	if y.off >= countChecks {
		y.off = 0
		return y.note("count")
	}
	return false
}

// list is the table as the pages take it, with its node; at now, idle and
// stalled times counted on from when popd said them.
func (y *sessionSync) list(node string, down bool, now time.Time) []nodeSession {
	if y.gone > 0 {
		kept := y.order[:0]
		for _, r := range y.order {
			if !r.gone {
				kept = append(kept, r)
			}
		}
		clear(y.order[len(kept):])
		y.order, y.gone = kept, 0
	}
	out := make([]nodeSession, len(y.order))
	for i, r := range y.order {
		out[i] = nodeSession{node: node, down: down, Session: r.Session, at: r.at, idle0: r.Idle, stalled0: r.Stalled}
		out[i].age(now)
	}
	return out
}

// age counts a session's idle and stalled times on to now from when popd
// said them (at); a session of a poll (no at) keeps them.
func (s *nodeSession) age(now time.Time) {
	if s.at.IsZero() {
		return
	}
	d := max(now.Sub(s.at), 0)
	s.Idle = s.idle0 + d
	if s.Sending {
		s.Stalled = s.stalled0 + d
	}
}
