package tui

import (
	"cmp"
	"context"
	"slices"
	"time"

	"popd/internal/control"
)

// The header's graphs cover a stated span (Model.span, :span) in time
// buckets of a minute or more. popd keeps the last hour minute by minute
// (control's "history"): the console fetches it when it connects and at
// every new minute, and adds what its own polls see to the minute going
// on. A popd without that history (an older one) leaves the console to
// count from its polls alone.

const (
	samples     = 60               // poll-by-poll rates kept, for the Nodes page
	defaultSpan = 10 * time.Minute // of the header's graphs
	maxSpan     = control.HistoryMinutes * time.Minute
)

// historian is a Backend that gives popd's last hour (*control.Client).
type historian interface {
	History(ctx context.Context) ([]control.Minute, error)
}

// minute is one minute of a popd's history: as popd counted it, or, for
// the minute going on, as far as the console's polls have seen it.
type minute struct {
	at        int64 // the Unix minute
	sessions  int   // the most open at once
	logins    int64
	failures  int64
	bytesSent int64
}

func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

// history is what the header and the Nodes page know of a popd's recent
// past: its latest Stats, its minutes (the last hour at most, oldest
// first), and the rates between polls.
type history struct {
	stats   control.Stats
	have    bool // stats came, on this connection or an earlier one
	based   bool // stats are this connection's: the next poll counts from them
	lastAt  time.Time
	minutes []minute
	bps     []float64 // bytes per second between polls
	lps     []float64 // logins per second between polls
}

func push(s []float64, v float64) []float64 {
	s = append(s, v)
	if len(s) > samples {
		s = append(s[:0:0], s[len(s)-samples:]...)
	}
	return s
}

func last(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

// since is what a counter of one connection grew by from was to is. It
// never goes down: a popd that restarted is a new connection, which
// counts from its first poll (history.disconnected).
func since(was, is int64) int64 { return max(is-was, 0) }

// add records a poll taken at at; ms, when the poll brought them, are
// popd's minutes, which replace what the console had counted.
func (h *history) add(s control.Stats, at time.Time, ms []control.Minute) {
	if h.based {
		if dt := at.Sub(h.lastAt).Seconds(); dt > 0 {
			h.bps = push(h.bps, float64(since(h.stats.BytesSent, s.BytesSent))/dt)
			h.lps = push(h.lps, float64(since(h.stats.Logins, s.Logins))/dt)
		}
	}
	if ms != nil {
		h.minutes = h.minutes[:0]
		for _, m := range ms {
			h.minutes = append(h.minutes, minute{at: unixMinute(m.Start), sessions: m.Sessions,
				logins: m.Logins, failures: m.Failures, bytesSent: m.BytesSent})
		}
	}
	cur := h.minute(unixMinute(at))
	cur.sessions = max(cur.sessions, s.Sessions)
	if h.based && ms == nil {
		cur.logins += since(h.stats.Logins, s.Logins)
		cur.failures += since(h.stats.Failures, s.Failures)
		cur.bytesSent += since(h.stats.BytesSent, s.BytesSent)
	}
	h.stats, h.have, h.based, h.lastAt = s, true, true, at
}

// minute is the bucket of Unix minute at, added when new: after the
// minutes the console watched go by, with nothing in them, and never more
// than the last hour.
func (h *history) minute(at int64) *minute {
	n := len(h.minutes)
	if n > 0 && h.minutes[n-1].at == at {
		return &h.minutes[n-1]
	}
	if n > 0 && h.minutes[n-1].at > at { // popd's clock is ahead
		for i := range h.minutes {
			if h.minutes[i].at == at {
				return &h.minutes[i]
			}
		}
		return &minute{at: at} // older than any kept: counted nowhere
	}
	if n > 0 && h.based {
		for m := max(h.minutes[n-1].at+1, at-control.HistoryMinutes+1); m < at; m++ {
			h.minutes = append(h.minutes, minute{at: m})
		}
	}
	h.minutes = append(h.minutes, minute{at: at})
	for len(h.minutes) > 0 && h.minutes[0].at <= at-control.HistoryMinutes {
		h.minutes = h.minutes[1:]
	}
	return &h.minutes[len(h.minutes)-1]
}

// disconnected: the next poll is of a new connection, maybe of a new
// popd, and counts nothing since this one's.
func (h *history) disconnected() { h.based = false }

// sumMinutes adds b's minutes to a's, minute by minute: a fleet's.
func sumMinutes(a, b []minute) []minute {
	at := make(map[int64]int, len(a))
	for i, m := range a {
		at[m.at] = i
	}
	for _, m := range b {
		i, ok := at[m.at]
		if !ok {
			at[m.at] = len(a)
			a = append(a, minute{at: m.at})
			i = len(a) - 1
		}
		a[i].sessions += m.sessions
		a[i].logins += m.logins
		a[i].failures += m.failures
		a[i].bytesSent += m.bytesSent
	}
	slices.SortFunc(a, func(x, y minute) int { return cmp.Compare(x.at, y.at) })
	return a
}

// A graph's cell: its value, or none when no minute of it is known.
type cell struct {
	v  float64
	ok bool
}

// bucketSizes are the minutes a cell may cover.
var bucketSizes = []int{1, 2, 3, 5, 10, 15, 20, 30, 60}

// bucketing is how span minutes go into at most n cells: per minutes a
// cell, cells of them; ok is false when fewer than min(5, span) cells fit.
func bucketing(span, n int) (per, cells int, ok bool) {
	for _, p := range bucketSizes {
		c := (span + p - 1) / p
		if c <= n {
			return p, c, c >= min(5, span)
		}
	}
	return 60, 1, false
}

// metric is how a graph reads a minute, and how its cells add minutes up.
type metric struct {
	of   func(m *minute) float64
	peak bool    // the cell is its highest minute (sessions)
	per  float64 // else the cell is the sum over the cell's minutes, divided by per and the minutes (60: a rate a second)
}

// cells are cells buckets of per minutes each, the last ending with
// minute end.
func (h *history) cells(end int64, per, cells int, mt metric) []cell {
	out := make([]cell, cells)
	first := end - int64(per*cells) + 1
	for i := range h.minutes {
		m := &h.minutes[i]
		if m.at < first || m.at > end {
			continue
		}
		c := &out[(m.at-first)/int64(per)]
		v := mt.of(m)
		switch {
		case mt.peak:
			c.v = max(c.v, v)
		default:
			c.v += v / (float64(per) * mt.per)
		}
		c.ok = true
	}
	return out
}

// graph draws cells scaled to their highest, and says that top: a cell
// of no known minute is blank; 0 is the lowest bar, and anything above 0
// shows above it.
func graph(cs []cell) (string, float64) {
	const bars = "▁▂▃▄▅▆▇█"
	top := 0.0
	for _, c := range cs {
		if c.ok {
			top = max(top, c.v)
		}
	}
	b := make([]byte, 0, len(cs)*3)
	for _, c := range cs {
		if !c.ok {
			b = append(b, ' ')
			continue
		}
		i := 0
		if top > 0 && c.v > 0 {
			i = max(int(c.v/top*7+0.5), 1)
		}
		b = append(b, bars[i*3:i*3+3]...)
	}
	return string(b), top
}
