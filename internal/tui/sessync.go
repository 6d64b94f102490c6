package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
)

// The sessions by their changes. Listing every session every second
// costs popd and the console a lot when there are many (10,000 sessions
// are 2-3 MB of JSON a second), and mostly to say again that nothing
// changed. A popd that can (*control.Client against a popd with control's
// "sessions" snapshot) is listed once, at a point of its event stream,
// and then its stream says what changes: session.opened, login and
// session.closed as they happen, and sessions.changed once a second with
// every session that did something (its state, last command, counters,
// idle and sending times; an idle session is in none). The polls then ask
// only for the stats.
//
// The table is listed again whenever it may be wrong: when the stream
// says it lost events (events.dropped) or changes (sessions.resync), when
// an event's number is not the next, on every reconnect (a restart of
// popd included), on r, and when, over two seconds in a row in which no
// session opened or closed, the table does not have as many sessions as
// popd's stats count. Events up to the snapshot's number are in it; the
// session events that come while it is on its way are kept and applied
// after it, those after its number and every change (a change carries
// the whole session: applied again, it does no harm, and if it is older
// than the snapshot a newer one follows, since the session changed after
// it). The pages hear of the table at most every flushEvery; the idle and
// stalled times, which popd sends as they were when it sent them, go on
// counting from then (nodeSession.age).
//
// A Backend without the snapshot, or a popd that does not send the
// changes, is polled for its sessions every second, as before.

// syncer is a Backend that can keep the sessions by their changes
// (*control.Client).
type syncer interface {
	SubscribeSessions(ctx context.Context, from control.Cursor) (<-chan control.Event, control.Cursor, bool, error)
	SessionSnapshot(ctx context.Context) (control.SessionSnapshot, error)
}

var _ syncer = (*control.Client)(nil)

// flushEvery is how often at most the pages hear of the table's changes.
const flushEvery = 250 * time.Millisecond

type (
	// snapshotMsg is a snapshot of a link's sessions.
	snapshotMsg struct {
		node, gen int
		snap      control.SessionSnapshot
		at        time.Time
		err       error
	}
	// syncFlushMsg: time to tell the pages of the tables' changes.
	syncFlushMsg struct{}
)

// syncFlush is when the pages last heard of the tables.
type syncFlush struct {
	last    time.Time
	pending bool // a syncFlushMsg is on its way
}

// askSnapshot asks for a snapshot of l's sessions, unless one is on its
// way (then another is asked for after it).
func (m *Model) askSnapshot(l *link) tea.Cmd {
	b, ok := l.backend.(syncer)
	if !ok || !l.connected || !l.sync.ask() {
		return nil
	}
	ctx, node, gen, now := l.connCtx, l.i, l.gen, m.s.now
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		snap, err := b.SessionSnapshot(ctx)
		return snapshotMsg{node: node, gen: gen, snap: snap, at: now(), err: err}
	}
}

// syncStarted takes a new stream of l: with the changes, the table is
// listed; without, the polls list the sessions again, from now on.
func (m *Model) syncStarted(l *link, changes bool) tea.Cmd {
	was := l.sync.pending
	if l.sync.started(changes, l.cursor) {
		return m.askSnapshot(l)
	}
	if was {
		return m.poll(l)
	}
	return nil
}

// syncNoStream: l's stream was refused; its sessions are polled.
func (m *Model) syncNoStream(l *link) tea.Cmd {
	if !l.sync.pending {
		return nil
	}
	l.sync.pending = false
	return m.poll(l)
}

// snapshotCame installs a snapshot of l's sessions.
func (m *Model) snapshotCame(msg snapshotMsg) tea.Cmd {
	l := m.linkOf(msg.node, msg.gen)
	if l == nil || !l.connected {
		return nil
	}
	if msg.err != nil {
		l.sync.asking = false
		if refused(msg.err) { // a popd without snapshots: poll
			l.sync.on = false
			return m.poll(l)
		}
		return m.disconnect(l, msg.err)
	}
	cleanSessions(msg.snap.Sessions)
	var again tea.Cmd
	if l.sync.install(msg.snap, msg.at) {
		again = m.askSnapshot(l)
	}
	l.got |= fetchSessions
	return tea.Batch(again, m.flushSessions())
}

// syncEvents follows a batch of l's events in its table, and returns the
// events the pages are to hear: the changes are the table's alone.
func (m *Model) syncEvents(l *link, evs []control.Event) ([]control.Event, tea.Cmd) {
	var cmds []tea.Cmd
	if l.sync.apply(evs, m.s.now()) {
		cmds = append(cmds, m.askSnapshot(l))
	}
	if l.sync.dirty {
		cmds = append(cmds, m.flushSessions())
	}
	kept := evs[:0]
	for _, e := range evs {
		if e.Type != event.SessionsChanged && e.Type != event.SessionsResync {
			kept = append(kept, e)
		}
	}
	return kept, tea.Batch(cmds...)
}

// flushSessions tells the pages of the tables now, or when flushEvery has
// passed since they last heard.
func (m *Model) flushSessions() tea.Cmd {
	f := &m.syncFlush
	if f.pending {
		return nil
	}
	now := m.s.now()
	if wait := f.last.Add(flushEvery).Sub(now); !f.last.IsZero() && wait > 0 {
		f.pending = true
		return m.tick(wait, func(time.Time) tea.Msg { return syncFlushMsg{} })
	}
	return m.flushNow()
}

// flushNow tells the pages of the tables.
func (m *Model) flushNow() tea.Cmd {
	m.syncFlush.last = m.s.now()
	for _, l := range m.links {
		l.sync.dirty = false
	}
	return m.tell(dataMsg{got: fetchSessions, between: true, sessions: m.sessions()})
}

// resyncAll lists again the tables of the links that keep one (r).
func (m *Model) resyncAll() tea.Cmd {
	var cmds []tea.Cmd
	for _, l := range m.links {
		if l.sync.on {
			cmds = append(cmds, m.askSnapshot(l))
		}
	}
	return tea.Batch(cmds...)
}

// syncUpdate takes the table's messages.
func (m *Model) syncUpdate(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case snapshotMsg:
		return m.snapshotCame(msg)
	case syncFlushMsg:
		m.syncFlush.pending = false
		for _, l := range m.links {
			if l.sync.dirty {
				return m.flushNow()
			}
		}
	}
	return nil
}
