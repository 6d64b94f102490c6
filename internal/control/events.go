package control

import (
	"bufio"
	"encoding/json"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"popd/internal/event"
)

// SubscriberQueue is how many events wait for one slow subscriber before
// newer ones are dropped.
const SubscriberQueue = 1024

// Backlog is how many past events the server keeps for subscribers that
// ask for them ("events" with {"backlog":n}): the console shows what just
// happened when it opens, and a console that lost its connection resumes
// where it was ({"boot":b,"seq":n}) while the events it missed are kept.
const Backlog = 256

// drainTimeout bounds how long a stream may take, when the server stops,
// to send the events queued for it.
const drainTimeout = 2 * time.Second

// subscriber is one event stream's queue.
type subscriber struct {
	ch      chan queued
	dropped atomic.Int64 // events dropped since the last queued one
	changes bool         // it gets sessions.changed (changes.go)
	lost    atomic.Int64 // sessions.changed dropped since the last queued event
}

// queued is an event with the number of events (and of sessions.changed)
// dropped just before it.
type queued struct {
	e             Event
	dropped, lost int64
}

// Publish numbers e in this run of popd (Boot, Seq), keeps it for the
// backlog and sends it to every subscriber. It never blocks: a subscriber
// whose queue is full loses the event, and is told how many it lost before
// the next event it gets. Safe from any goroutine, before, during and
// after Serve. A zero e.Time is set to now.
func (s *Server) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Type == event.SessionsChanged {
		s.publishChanges(e) // changes.go: not numbered, not kept
		return
	}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	s.seq++
	e.Boot, e.Seq = s.boot.ID, s.seq
	s.ring[(s.seq-1)%Backlog] = e
	subs := s.subs.Load()
	if subs == nil {
		return
	}
	for _, sub := range *subs {
		n, l := sub.dropped.Swap(0), sub.lost.Swap(0)
		select {
		case sub.ch <- queued{e: e, dropped: n, lost: l}:
		default:
			sub.dropped.Add(n + 1)
			sub.lost.Add(l)
		}
	}
}

// subscribe adds a subscriber and returns it with the answer to its
// "events" call. Its queue starts with the past events it asked for:
//
//   - none and no backlog: none;
//   - a backlog of n: the last n (at most Backlog);
//   - to resume after event Seq of this run: those after it still kept,
//     all of them if none was lost;
//   - to resume on another run (popd restarted): this run's events still
//     kept.
//
// The answer's From is the number of the event before the first one
// queued: a client that resumed after Seq and gets a greater From missed
// From-Seq events.
func (s *Server) subscribe(p eventsParams) (*subscriber, json.RawMessage) {
	sub := &subscriber{ch: make(chan queued, SubscriberQueue), changes: p.Changes}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	last := s.seq
	first := last - min(last, Backlog) + 1 // the oldest kept
	var from uint64
	switch {
	case p.Boot == "":
		from = last - min(uint64(max(p.Backlog, 0)), last-first+1)
	case p.Boot == s.boot.ID:
		from = min(max(p.Seq, first-1), last)
	default:
		from = first - 1
	}
	for n := from + 1; n <= last; n++ {
		sub.ch <- queued{e: s.ring[(n-1)%Backlog]}
	}
	var next []*subscriber
	if old := s.subs.Load(); old != nil {
		next = slices.Clone(*old)
	}
	next = append(next, sub)
	s.subs.Store(&next)
	res, _ := json.Marshal(subscribedResult{Subscribed: true, Boot: s.boot.ID, Started: s.boot.Started, From: from})
	return sub, res
}

func (s *Server) unsubscribe(sub *subscriber) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	old := s.subs.Load()
	if old == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*old), func(x *subscriber) bool { return x == sub })
	s.subs.Store(&next)
}

// streaming marks nc as an event stream, which Serve's end leaves to
// close itself; false when Serve is ending already.
func (s *Server) streaming(nc net.Conn, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		delete(s.streams, nc)
		return true
	}
	if s.done {
		return false
	}
	s.streams[nc] = true
	return true
}

// stream writes the subscriber's events to the connection until the
// client goes away or sends anything. When the server stops (Serve's
// context ends), the events queued by then are sent, within drainTimeout,
// and the connection is closed: what popd published as it shut down (its
// sessions ending, popd.stopped) reaches the console.
func (c *conn) stream(sub *subscriber) {
	defer c.s.unsubscribe(sub)
	c.log.Debug("control: events subscribed")
	// A stream that starts as the server stops (its subscription came just
	// before) is not registered, but still drains what it was sent.
	stopping := !c.s.streaming(c.nc, true)
	if !stopping {
		defer c.s.streaming(c.nc, false)
	}

	gone := make(chan struct{})
	go func() {
		defer close(gone)
		c.r.ReadByte() // EOF, an error, or input: the stream ends
	}()
	defer func() {
		c.nc.Close()
		<-gone
	}()

	w := bufio.NewWriter(c.nc)
	send := func(q queued) bool {
		if q.dropped > 0 {
			notice := Event{Type: event.Dropped, Time: q.e.Time, Count: int(q.dropped), Reason: ReasonTooSlow}
			if writeFrame(w, notice) != nil {
				return false
			}
		}
		if q.lost > 0 {
			notice := Event{Type: event.SessionsResync, Time: q.e.Time, Count: int(q.lost), Reason: ReasonTooSlow}
			if writeFrame(w, notice) != nil {
				return false
			}
		}
		if q.e.Type == event.SessionsChanged && len(q.e.Sessions) == 0 {
			return true // only brought the notices (changes.go)
		}
		return writeFrame(w, q.e) == nil
	}
	drain := func() {
		c.nc.SetWriteDeadline(time.Now().Add(drainTimeout))
		for {
			select {
			case q := <-sub.ch:
				if !send(q) {
					return
				}
			default:
				w.Flush()
				return
			}
		}
	}
	if stopping {
		drain()
		return
	}
	for {
		select {
		case q := <-sub.ch:
			if !send(q) {
				return
			}
			if len(sub.ch) == 0 && w.Flush() != nil {
				return
			}
		case <-c.s.quit:
			drain()
			return
		case <-gone:
			return
		}
	}
}
