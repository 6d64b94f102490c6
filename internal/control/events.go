package control

import (
	"bufio"
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
// happened when it opens.
const Backlog = 256

// subscriber is one event stream's queue.
type subscriber struct {
	ch      chan queued
	dropped atomic.Int64 // events dropped since the last queued one
}

// queued is an event with the number of events dropped just before it.
type queued struct {
	e       Event
	dropped int64
}

// Publish keeps e for the backlog and sends it to every subscriber. It
// never blocks: a subscriber whose queue is full loses the event, and is
// told how many it lost before the next event it gets. Safe from any
// goroutine, before, during and after Serve. A zero e.Time is set to now.
func (s *Server) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if len(s.recent) == Backlog {
		copy(s.recent, s.recent[1:])
		s.recent = s.recent[:Backlog-1]
	}
	s.recent = append(s.recent, e)
	subs := s.subs.Load()
	if subs == nil {
		return
	}
	for _, sub := range *subs {
		n := sub.dropped.Swap(0)
		select {
		case sub.ch <- queued{e: e, dropped: n}:
		default:
			sub.dropped.Add(n + 1)
		}
	}
}

// subscribe adds a subscriber whose queue starts with the last backlog
// events (at most Backlog).
func (s *Server) subscribe(backlog int) *subscriber {
	sub := &subscriber{ch: make(chan queued, SubscriberQueue)}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	backlog = min(max(backlog, 0), len(s.recent))
	for _, e := range s.recent[len(s.recent)-backlog:] {
		sub.ch <- queued{e: e}
	}
	var next []*subscriber
	if old := s.subs.Load(); old != nil {
		next = slices.Clone(*old)
	}
	next = append(next, sub)
	s.subs.Store(&next)
	return sub
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

// stream writes the subscriber's events to the connection until the
// client goes away, sends anything, or the server closes the connection.
func (c *conn) stream(sub *subscriber) {
	defer c.s.unsubscribe(sub)
	c.log.Debug("control: events subscribed")

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
	for {
		select {
		case q := <-sub.ch:
			if q.dropped > 0 {
				if writeFrame(w, Event{Type: event.Dropped, Time: q.e.Time, Count: int(q.dropped)}) != nil {
					return
				}
			}
			if writeFrame(w, q.e) != nil {
				return
			}
			if len(sub.ch) == 0 && w.Flush() != nil {
				return
			}
		case <-gone:
			return
		}
	}
}
