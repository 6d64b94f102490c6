package tui

import (
	"strconv"
	"strings"
	"time"

	"popd/internal/human"
)

// headGraph is one number of the header's second line with its graph.
type headGraph struct {
	label, value string
	k            kind
	mt           metric
	scale        func(top float64) string
	prio         int // a narrow terminal keeps the graphs of the highest
}

// spanText says a span as :span takes it: "10m", "1h".
func spanText(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m"
}

// graphLine is the header's second line: the sessions, logins, failed
// logins and bytes sent now, each with its graph over the span ("last
// 10m") in buckets of a minute or more, and the graph's scale ("max 12":
// what its highest bar stands for). A narrower terminal says "10m" and
// "↑12", then drops the graphs of the least telling numbers.
func (m Model) graphLine(h *history, w int) string {
	st := &m.s.st
	s := h.stats
	failK := kAccent
	if s.FailuresPerMin > 0 {
		failK = kErr
	}
	rate := func(top float64) string { return human.Rate(top) }
	gs := []headGraph{
		{label: "sessions", value: strconv.Itoa(s.Sessions), k: kAccent, prio: 3,
			mt:    metric{of: func(m *minute) float64 { return float64(m.sessions) }, peak: true},
			scale: func(top float64) string { return strconv.Itoa(int(top)) }},
		{label: "logins/min", value: human.Rate(s.LoginsPerMin), k: kAccent, prio: 2,
			mt: metric{of: func(m *minute) float64 { return float64(m.logins) }, per: 1}, scale: rate},
		{label: "failed/min", value: human.Rate(s.FailuresPerMin), k: failK, prio: 4,
			mt: metric{of: func(m *minute) float64 { return float64(m.failures) }, per: 1}, scale: rate},
		{label: "sent/s", value: human.Bytes(int64(last(h.bps))), k: kAccent, prio: 1,
			mt:    metric{of: func(m *minute) float64 { return float64(m.bytesSent) }, per: 60},
			scale: func(top float64) string { return human.Bytes(int64(top)) }},
	}
	if !h.have {
		for i := range gs {
			gs[i].value = "-"
		}
	}
	if len(h.bps) == 0 { // a rate needs two polls
		gs[3].value = "-"
	}
	return graphFit(st, h, gs, m.span, unixMinute(m.s.clock()), w)
}

// look is how much a header line says: a bar a minute (fine), "max 12"
// rather than "↑12" (long), "last 10m" rather than "10m" (last).
type look struct{ fine, long, last bool }

// looks are the looks the graph line tries, richest first.
var looks = []look{{true, true, true}, {true, true, false}, {true, false, false},
	{false, true, true}, {false, true, false}, {false, false, false}}

// graphFit lays out gs in w cells, each graph over the span ending with
// minute end: every graph in the richest look that fits, else one graph
// fewer at a time (the least telling first), down to the numbers alone.
func graphFit(st *styles, h *history, gs []headGraph, spanD time.Duration, end int64, w int) string {
	span := int(spanD / time.Minute)
	// A graph and its scale, in cells of per minutes.
	draw := func(g *headGraph, per, cells int, long bool) (bars, scale string) {
		cs := h.cells(end, per, cells, g.mt)
		bars, top := graph(cs)
		scale = "-"
		for _, c := range cs {
			if c.ok {
				scale = g.scale(top)
				break
			}
		}
		if long {
			return bars, "max " + scale
		}
		return bars, "↑" + scale
	}
	const sepW = 2
	texts := sepW * (len(gs) - 1)
	for _, g := range gs {
		texts += width(g.label) + 1 + width(g.value)
	}
	for n := len(gs); n >= 0; n-- {
		graphed := topPrio(gs, n)
		for _, lk := range looks {
			prefix := spanText(spanD) + " "
			switch {
			case n == 0:
				prefix = ""
			case lk.last:
				prefix = "last " + prefix
			}
			// The scales' widths as the finest cells give them; the line
			// as drawn may still not fit.
			scaleW := 0
			for i := range gs {
				if graphed[i] {
					_, sc := draw(&gs[i], 1, span, lk.long)
					scaleW += 2 + width(sc)
				}
			}
			avail := w - 1 - width(prefix) - texts - scaleW
			per, cells, ok := 0, 0, n == 0
			if n > 0 && avail > 0 {
				per, cells, ok = bucketing(span, avail/n)
			}
			if !ok || lk.fine && per > 1 {
				continue
			}
			parts := make([]string, len(gs))
			widths := make([]int, len(gs))
			total := 1 + width(prefix) + sepW*(len(gs)-1)
			for i, g := range gs {
				p := st.fg[kMuted].s(g.label) + " " + st.bold[kText].s(g.value)
				pw := width(g.label) + 1 + width(g.value)
				if graphed[i] {
					bars, sc := draw(&gs[i], per, cells, lk.long)
					p += " " + st.fg[g.k].s(bars) + " " + st.fg[kMuted].s(sc)
					pw += 2 + cells + width(sc)
				}
				parts[i], widths[i] = p, pw
				total += pw
			}
			if total <= w {
				return layoutSlots(st, prefix, parts, widths, w)
			}
		}
	}
	return strings.Repeat(" ", w)
}

// topPrio marks the n graphs of the highest priority.
func topPrio(gs []headGraph, n int) []bool {
	on := make([]bool, len(gs))
	for range n {
		best := -1
		for i, g := range gs {
			if !on[i] && (best < 0 || g.prio > gs[best].prio) {
				best = i
			}
		}
		on[best] = true
	}
	return on
}

// layoutSlots puts the parts in equal slots after the prefix when each
// fits its slot, else one after the other, two cells apart; the line is
// exactly w cells.
func layoutSlots(st *styles, prefix string, parts []string, widths []int, w int) string {
	var b strings.Builder
	b.WriteString(" " + st.fg[kMuted].s(prefix))
	used := 1 + width(prefix)
	slot := (w - used) / len(parts)
	even := true
	for _, pw := range widths {
		even = even && pw+2 <= slot
	}
	for i, p := range parts {
		if i > 0 && !even {
			b.WriteString("  ")
			used += 2
		}
		b.WriteString(p)
		used += widths[i]
		if even && i < len(parts)-1 {
			b.WriteString(strings.Repeat(" ", slot-widths[i]))
			used += slot - widths[i]
		}
	}
	if used < w {
		b.WriteString(strings.Repeat(" ", w-used))
	}
	return b.String()
}

// setSpan runs :span: the header's graphs cover the last arg ("30m",
// "1h", or minutes: "30").
func (m *Model) setSpan(arg string) {
	if isDigits(arg) {
		arg += "m"
	}
	d, err := time.ParseDuration(arg)
	if err != nil || d < time.Minute || d > maxSpan || d%time.Minute != 0 {
		m.s.say("span: whole minutes from 1m to "+spanText(maxSpan)+", e.g. :span 30m", kErr)
		return
	}
	m.span = d
	m.s.say("the graphs show the last "+spanText(d), kOK)
}
