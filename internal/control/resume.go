package control

import (
	"context"
	"fmt"
	"time"

	"popd/internal/event"
)

// Cursor is where a subscriber is in popd's event stream: the run of popd
// (Boot) and the last event it got of that run (Seq, at Time). Stopped
// says that event was the run's popd.stopped, its last: nothing of that
// run is left to miss. The zero Cursor is nowhere yet.
type Cursor struct {
	Boot    string
	Seq     uint64
	Time    time.Time
	Stopped bool
}

// Advance moves the cursor past e. Events without a number (what a
// subscriber is told about its own stream) leave it where it is.
func (c *Cursor) Advance(e Event) {
	if e.Seq == 0 || e.Boot == "" {
		return
	}
	c.Boot, c.Seq, c.Time, c.Stopped = e.Boot, e.Seq, e.Time, e.Type == event.Stopped
}

// Notices about a stream's gaps (events.dropped's Reason).
const (
	ReasonTooSlow = "read too slowly"             // popd dropped them for this subscriber
	ReasonBacklog = "no longer in popd's backlog" // gone before the stream resumed
	ReasonStopped = "popd stopped"                // its run ended without the stream seeing it end
)

// Subscribe is Events resuming after from, the cursor of an earlier
// stream: no event is repeated, and none is missed without being told. The
// stream starts with what could not be had:
//
//   - when popd is another run than from's (it restarted): an
//     events.dropped without a Count if from's run had not said
//     popd.stopped (what it published after from is unknown), then a
//     popd.restarted at the new run's start;
//   - an events.dropped with the Count of the events no longer in popd's
//     backlog (Backlog), of from's run or of the new one.
//
// Then come the events kept since, and the live ones. The zero Cursor
// subscribes afresh, with SetEventBacklog's backlog. These notices have no
// Seq; every event of popd's has. start is where the stream starts: a
// caller that Advances it with each event it takes can resume after the
// last one, even when none came.
func (c *Client) Subscribe(ctx context.Context, from Cursor) (ch <-chan Event, start Cursor, err error) {
	return c.subscribe(ctx, from, false)
}

// subscribe is Subscribe, with the sessions' changes when changes
// (SubscribeSessions).
func (c *Client) subscribe(ctx context.Context, from Cursor, changes bool) (ch <-chan Event, start Cursor, err error) {
	if c.redial == nil {
		return nil, from, fmt.Errorf("control: %s: events need a connection of their own, and this client cannot open one", c.name)
	}
	ec, err := c.redial(ctx)
	if err != nil {
		return nil, from, err
	}
	params := eventsParams{Changes: changes}
	switch {
	case from.Boot != "":
		params.Boot, params.Seq = from.Boot, from.Seq
	case c.backlog.Load() > 0:
		params.Backlog = int(c.backlog.Load())
	}
	var r subscribedResult
	if err := ec.Call(ctx, "events", params, &r); err != nil {
		ec.Close()
		return nil, from, err
	}
	notices := gaps(from, r)
	out := make(chan Event, 64+len(notices))
	for _, e := range notices {
		out <- e
	}
	start = Cursor{Boot: r.Boot, Seq: r.From}
	if r.Boot == from.Boot && r.From == from.Seq {
		start = from // the same place: its time and all
	}
	stop := context.AfterFunc(ctx, func() { ec.Close() })
	go func() {
		defer close(out)
		defer stop()
		defer ec.Close()
		for {
			var e Event
			if err := ec.dec.Decode(&e); err != nil {
				return
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, start, nil
}

// gaps are the notices that start a stream resumed after from, which popd
// answered with r.
func gaps(from Cursor, r subscribedResult) []Event {
	if from.Boot == "" {
		return nil
	}
	at := from.Time
	if at.IsZero() {
		at = r.Started
	}
	var out []Event
	lost := r.From // of the new run, from its first event
	if r.Boot != from.Boot {
		if !from.Stopped {
			out = append(out, Event{Type: event.Dropped, Time: at, Reason: ReasonStopped})
		}
		restart := Event{Type: event.Restarted, Time: r.Started, Boot: r.Boot}
		if from.Stopped && r.Started.After(from.Time) {
			restart.Duration = r.Started.Sub(from.Time) // down since popd.stopped
		}
		out = append(out, restart)
		at = r.Started
	} else {
		lost = r.From - min(from.Seq, r.From)
	}
	if lost > 0 {
		out = append(out, Event{Type: event.Dropped, Time: at, Count: int(lost), Reason: ReasonBacklog})
	}
	return out
}
