package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
)

// Resuming the event stream. Each link keeps a cursor: the run of popd
// (its boot id) and the number of the last event it got. A reconnect
// resumes after it: popd sends what the console missed while it was away
// and is still in its backlog, then the live events, so that a console
// that reconnects to the same popd misses nothing. What cannot be had is
// said in the Events view, never a silent gap: "N events not seen" (popd's
// backlog no longer had them), "events not seen" (popd stopped or crashed
// before sending them; a Backend that cannot resume), and on another run
// of popd the line "── popd restarted 12:03:04 (down 15s) ──".

// resumer is a Backend that can resume popd's event stream
// (*control.Client).
type resumer interface {
	Subscribe(ctx context.Context, from control.Cursor) (<-chan control.Event, control.Cursor, error)
}

var _ resumer = (*control.Client)(nil)

// reasonReconnect is the notice of a reconnect whose gap is unknown: the
// Backend cannot resume.
const reasonReconnect = "the connection to popd broke"

// subscribe opens the event stream: on a reconnect, resumed after what
// the link got last.
func (m *Model) subscribe(l *link) tea.Cmd {
	b, ctx, node, gen, from, again := l.backend, l.connCtx, l.i, l.gen, l.cursor, l.subscribed
	return func() tea.Msg {
		msg := eventsSubMsg{node: node, gen: gen}
		if y, ok := b.(syncer); ok { // with the sessions' changes (sessync.go)
			msg.ch, msg.start, msg.changes, msg.err = y.SubscribeSessions(ctx, from)
			return msg
		}
		if r, ok := b.(resumer); ok {
			msg.ch, msg.start, msg.err = r.Subscribe(ctx, from)
			return msg
		}
		msg.ch, msg.err = b.Events(ctx)
		if again {
			msg.gap = []control.Event{{Type: event.Dropped, Reason: reasonReconnect}}
		}
		return msg
	}
}

// startStream takes a new stream's start: the cursor moves to it, and
// when the stream is a resumed one, popd.restarted will tell how long
// popd was down since the link last heard of it.
func (l *link) startStream(msg eventsSubMsg, now time.Time) {
	l.downFrom = l.lostAt
	if l.cursor.Stopped {
		l.downFrom = time.Time{} // the notice has it, from popd.stopped
	}
	if msg.start.Boot != "" {
		l.cursor = msg.start
	}
	l.subscribed = true
	for i := range msg.gap {
		msg.gap[i].Time = now
	}
}

// track follows a batch of the link's events: the cursor moves past each,
// and a restart notice gets how long popd was down, from the moment the
// connection broke, when the notice does not know it.
func (l *link) track(evs []control.Event) {
	for i := range evs {
		e := &evs[i]
		if e.Type == event.Restarted && e.Duration == 0 && !l.downFrom.IsZero() && e.Time.After(l.downFrom) {
			e.Duration = e.Time.Sub(l.downFrom)
		}
		l.cursor.Advance(*e)
	}
}
