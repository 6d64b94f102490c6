package daemon

import (
	"context"
	"sync"
	"time"

	"popd/internal/control"
)

var _ control.Historian = (*daemon)(nil)

// sampleEvery is how often the history samples the sessions open and the
// bytes sent; logins and failures are counted as they happen.
const sampleEvery = 5 * time.Second

// history is popd's last hour, minute by minute, in memory (control's
// "history" method): the console asks for it when it connects, so that
// its graphs show the last hour at once. Nothing is written to disk: a
// restarted popd starts a new hour.
type history struct {
	mu      sync.Mutex
	ring    [control.HistoryMinutes]control.Minute // by Unix minute, modulo the size
	octets  int64                                  // OctetsSent at the last sample
	sampled bool
}

// minuteOf is the Unix minute of t.
func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

// slot is the bucket of t's minute, emptied first when it still holds an
// older minute. h.mu is held.
func (h *history) slot(t time.Time) *control.Minute {
	mi := minuteOf(t)
	m := &h.ring[mi%control.HistoryMinutes]
	if start := time.Unix(mi*60, 0).UTC(); !m.Start.Equal(start) {
		*m = control.Minute{Start: start}
	}
	return m
}

// login counts a login, or a failed one, at t.
func (h *history) login(t time.Time, failed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.slot(t); failed {
		m.Failures++
	} else {
		m.Logins++
	}
}

// sample records, at t, how many sessions are open and how many octets
// have been sent since popd started: the octets since the last sample
// count in t's minute.
func (h *history) sample(t time.Time, sessions int, octets int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.slot(t)
	m.Sessions = max(m.Sessions, sessions)
	if h.sampled {
		m.BytesSent += max(octets-h.octets, 0)
	}
	h.octets, h.sampled = octets, true
}

// minutes are the minutes from since's to now's, at most the last
// HistoryMinutes, oldest first; one that has no bucket has zero counts.
func (h *history) minutes(now, since time.Time) []control.Minute {
	h.mu.Lock()
	defer h.mu.Unlock()
	last := minuteOf(now)
	first := max(minuteOf(since), last-control.HistoryMinutes+1)
	out := make([]control.Minute, 0, max(last-first+1, 0))
	for mi := first; mi <= last; mi++ {
		start := time.Unix(mi*60, 0).UTC()
		m := h.ring[mi%control.HistoryMinutes]
		if !m.Start.Equal(start) {
			m = control.Minute{Start: start}
		}
		out = append(out, m)
	}
	return out
}

// History implements control.Historian.
func (d *daemon) History() []control.Minute {
	now := time.Now()
	d.sample(now)
	return d.hist.minutes(now, d.started)
}

// sample takes the history's sample of the sessions and bytes sent.
func (d *daemon) sample(now time.Time) {
	n := 0
	for _, c := range d.srv.SessionStates() {
		n += c
	}
	d.hist.sample(now, n, d.srv.OctetsSent())
}

// sampleHistory samples every sampleEvery until ctx is done.
func (d *daemon) sampleHistory(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	d.sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			d.sample(now)
		}
	}
}
