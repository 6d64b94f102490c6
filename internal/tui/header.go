package tui

import (
	"fmt"
	"strconv"
	"strings"

	"popd/internal/human"
)

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

	return []string{line1, m.graphLine(&h, w)}
}

type badge struct {
	text string
	k    kind
}

// badges are the header's state: read-only, the role, whether the data is
// live, and on a fleet how many nodes are up.
func (m Model) badges() []badge {
	var bs []badge
	if n := m.stuckCount(); n > 0 { // stuck.go
		bs = append(bs, badge{strconv.Itoa(n) + " stuck", kWarn})
	}
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
