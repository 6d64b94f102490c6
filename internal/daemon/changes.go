package daemon

import (
	"context"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/server"
)

// The sessions' changes for the consoles: once a second the sessions
// that changed (server.TakeChanges) go out in sessions.changed events,
// to the subscribers that asked for them, so that a console keeps its
// table of sessions without listing them all again.

// changesEvery is how often the changes go out: a session's at most once
// in that time, however busy it is.
const changesEvery = time.Second

// changesPerEvent bounds one sessions.changed event (some 130 bytes a
// session): a thousand busy sessions are a few events a second.
const changesPerEvent = 250

// publishChanges sends the changes every changesEvery until ctx is done.
func (d *daemon) publishChanges(ctx context.Context) {
	t := time.NewTicker(changesEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			d.sendChanges(now)
		}
	}
}

// sendChanges takes the changes, and sends them when a subscriber wants
// them.
func (d *daemon) sendChanges(now time.Time) {
	chs := d.srv.TakeChanges() // always: taken, they are forgotten
	p := d.pub.Load()
	if p == nil {
		return
	}
	cp, ok := (*p).(control.ChangePublisher)
	if !ok || !cp.WantsChanges() {
		return
	}
	if len(chs) == 0 {
		// Nothing changed: an empty event, which brings a subscriber
		// that lost something its notice (control's publishChanges).
		cp.Publish(event.Event{Type: event.SessionsChanged, Time: now})
		return
	}
	for len(chs) > 0 {
		n := min(len(chs), changesPerEvent)
		list := make([]event.SessionChange, n)
		for i, c := range chs[:n] {
			list[i] = changeOf(c, now)
		}
		cp.Publish(event.Event{Type: event.SessionsChanged, Time: now, Sessions: list})
		chs = chs[n:]
	}
}

// changeOf is a changed session as sessions.changed carries it: as the
// control API shows it (sessionOf), at now.
func changeOf(c server.Change, now time.Time) event.SessionChange {
	s := sessionOf(c.Info, now)
	ch := event.SessionChange{ID: s.ID, User: s.User, TLS: s.TLS, State: s.State,
		LastCommand: s.LastCommand, Retrieved: s.Retrieved, Octets: s.Octets, Idle: s.Idle,
		Locked: s.Locked, Sending: s.Sending, Stalled: s.Stalled}
	if c.First {
		ch.Remote, ch.Local, ch.Since = s.Remote, s.Local, s.Since
	}
	return ch
}
