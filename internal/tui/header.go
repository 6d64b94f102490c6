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
	lps      []float64 // logins per second between polls
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
		dl := s.Logins - h.stats.Logins
		if dt > 0 {
			// Less than before: popd restarted.
			h.bps = push(h.bps, float64(max(db, 0))/dt)
			h.lps = push(h.lps, float64(max(dl, 0))/dt)
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
	h := m.headerHist()
	s := h.stats

	// Line 1: logo, version, uptime (or the fleet); state badges on the
	// right.
	left := st.logo.s(" popd ")
	lw := 6
	info := ""
	switch {
	case m.fleet():
		info = " fleet of " + human.Count(len(m.links), "node")
	case h.have:
		info = " " + s.Version + " · up " + human.Duration(s.Uptime)
	}
	if info != "" {
		left += st.fg[kText].s(info)
		lw += width(info)
	}
	var right strings.Builder
	rw := 0
	for i, b := range m.badges() {
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
	if !h.have {
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

type badge struct {
	text string
	k    kind
}

// badges are the header's state: read-only, the role, whether the data is
// live, and on a fleet how many nodes are up.
func (m Model) badges() []badge {
	var bs []badge
	if m.s.readOnly {
		bs = append(bs, badge{"read-only", kWarn})
	}
	if m.role != "" {
		bs = append(bs, badge{m.role, kMuted})
	}
	if m.fleet() {
		up, n := m.up(), len(m.links)
		b := badge{fmt.Sprintf("%d/%d up", up, n), kErr}
		switch {
		case up == n:
			b = badge{"● " + b.text, kOK}
		case up > 0:
			b.k = kWarn
		}
		if bs = append(bs, b); up > 0 {
			return bs
		}
	}
	have := false
	for _, l := range m.links {
		have = have || l.hist.have
	}
	switch {
	case !m.fresh() && have:
		return append(bs, badge{"STALE " + human.Duration(m.s.now().Sub(m.updated())), kErr})
	case !m.fresh():
		return append(bs, badge{"no data", kErr})
	}
	return append(bs, badge{"● live", kOK})
}

// tabs is the line of pages: "1 Sessions 42". When they do not fit, the
// pages not on screen lose their counts, then their names.
func (m Model) tabs(w int) string {
	st := &m.s.st
	labels := make([]string, len(m.pages))
	for detail := 2; ; detail-- {
		used := 0
		for i, p := range m.pages {
			label := strconv.Itoa(i + 1)
			if detail >= 1 || i == m.cur {
				label += " " + p.Name()
			}
			if badge := p.Badge(); badge != "" && (detail >= 2 || i == m.cur) {
				label += " " + badge
			}
			if i == m.cur && st.mono {
				label = "[" + label + "]"
			} else {
				label = " " + label + " "
			}
			labels[i] = label
			used += width(label) + 1
		}
		if used <= w || detail == 0 {
			break
		}
	}
	var b strings.Builder
	used := 0
	for i, label := range labels {
		if i == m.cur {
			b.WriteString(st.tabActive.s(label))
		} else {
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
