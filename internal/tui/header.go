package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"popd/internal/control"
	"popd/internal/human"
)

const samples = 60 // kept for the sparklines

// history keeps the last Stats polls for the header's sparklines.
type history struct {
	stats    control.Stats
	have     bool
	lastAt   time.Time
	sessions []float64
	logins   []float64
	failures []float64
	bps      []float64 // bytes per second between polls
}

func push(s []float64, v float64) []float64 {
	s = append(s, v)
	if len(s) > samples {
		s = append(s[:0:0], s[len(s)-samples:]...)
	}
	return s
}

// add records a poll taken at at.
func (h *history) add(s control.Stats, at time.Time) {
	if h.have {
		dt := at.Sub(h.lastAt).Seconds()
		db := s.BytesSent - h.stats.BytesSent
		if dt > 0 {
			if db < 0 { // popd restarted
				db = 0
			}
			h.bps = push(h.bps, float64(db)/dt)
		}
	}
	h.sessions = push(h.sessions, float64(s.Sessions))
	h.logins = push(h.logins, s.LoginsPerMin)
	h.failures = push(h.failures, s.FailuresPerMin)
	h.stats, h.have, h.lastAt = s, true, at
}

func last(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

// header is the two lines at the top: who and how, then the numbers.
func (m Model) header(w int) []string {
	st := &m.s.st
	now := m.s.now()
	s := m.hist.stats

	// Line 1: logo, version, uptime; state badges on the right.
	left := st.logo.s(" popd ")
	lw := 6
	if m.hist.have {
		info := " " + s.Version + " · up " + human.Duration(s.Uptime)
		left += st.fg[kText].s(info)
		lw += width(info)
	}
	type badge struct {
		text string
		k    kind
	}
	var badges []badge
	if m.s.readOnly {
		badges = append(badges, badge{"read-only", kWarn})
	}
	if m.role != "" {
		badges = append(badges, badge{m.role, kMuted})
	}
	switch {
	case m.stale && m.hist.have:
		badges = append(badges, badge{"STALE " + human.Duration(now.Sub(m.updated)), kErr})
	case m.stale:
		badges = append(badges, badge{"no data", kErr})
	default:
		badges = append(badges, badge{"● live", kOK})
	}
	var right strings.Builder
	rw := 0
	for i, b := range badges {
		if i > 0 {
			right.WriteString(st.border.s(" · "))
			rw += 3
		}
		right.WriteString(st.bold[b.k].s(b.text))
		rw += width(b.text)
	}
	line1 := left
	if gap := w - lw - rw - 1; gap >= 1 {
		line1 += strings.Repeat(" ", gap) + right.String() + " "
	} else if gap := w - lw; gap > 0 {
		line1 += strings.Repeat(" ", gap)
	}

	// Line 2: four numbers with their sparklines, in equal slots.
	h := &m.hist
	type metric struct {
		label, value string
		vals         []float64
		k            kind
	}
	failK := kAccent
	if s.FailuresPerMin > 0 {
		failK = kErr
	}
	metrics := []metric{
		{"sessions", fmt.Sprint(s.Sessions), h.sessions, kAccent},
		{"logins/m", human.Rate(s.LoginsPerMin), h.logins, kAccent},
		{"failed/m", human.Rate(s.FailuresPerMin), h.failures, failK},
		{"sent/s", human.Bytes(int64(last(h.bps))), h.bps, kAccent},
	}
	if !m.hist.have {
		for i := range metrics {
			metrics[i].value = "-"
		}
	}
	var b strings.Builder
	slot := (w - 1) / len(metrics)
	b.WriteString(" ")
	used := 1
	for _, mt := range metrics {
		text := mt.label + " " + mt.value
		sw := slot - width(text) - 3
		b.WriteString(st.fg[kMuted].s(mt.label) + " " + st.bold[kText].s(mt.value))
		n := width(text)
		if sw >= 3 {
			b.WriteString(" " + st.fg[mt.k].s(sparkline(mt.vals, sw)))
			n += 1 + sw
		}
		if pad := slot - n; pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
			n += pad
		}
		used += n
	}
	if used < w {
		b.WriteString(strings.Repeat(" ", w-used))
	}
	return []string{line1, b.String()}
}

// tabs is the line of pages: "1 Sessions 42".
func (m Model) tabs(w int) string {
	st := &m.s.st
	var b strings.Builder
	used := 0
	for i, p := range m.pages {
		label := strconv.Itoa(i+1) + " " + p.Name()
		if badge := p.Badge(); badge != "" {
			label += " " + badge
		}
		if i == m.cur {
			if st.mono {
				label = "[" + label + "]"
			} else {
				label = " " + label + " "
			}
			b.WriteString(st.tabActive.s(label))
		} else {
			label = " " + label + " "
			b.WriteString(st.fg[kMuted].s(label))
		}
		b.WriteString(" ")
		used += width(label) + 1
	}
	if used < w {
		b.WriteString(st.border.s(strings.Repeat("─", w-used)))
	}
	return b.String()
}
