package tui

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"

	"popd/internal/human"
)

// How an event's line is laid out: its clock, its mark and its kind in
// headW cells (and its node on a fleet), then the rest, cut at the edge.
// The selected line is drawn whole: the rest wraps under itself, and a
// burst lists its latest events.
const (
	typeW      = 14
	headW      = 26 // "15:04:05 ! session.closed "
	maxMembers = 8  // a selected burst's events listed
)

// nodeCell is the node column of an event line w cells wide, when there
// is room for it.
func nodeCell(r *evRow, w, nodeW int) string {
	if nodeW > 0 && w-nodeW-1 >= headW {
		return fit(r.node, nodeW, false) + " "
	}
	return ""
}

// eventLine draws one event w cells wide, with its node in nodeW cells
// (0: none), its end cut off when it is too long. compact leaves out the
// session (the session detail pane is about one session already).
func eventLine(st *styles, r *evRow, w, nodeW int, compact bool) string {
	if r.notice {
		if st.dim {
			return st.fg[kMuted].s(noticeLine(r, w))
		}
		return st.bold[kWarn].s(noticeLine(r, w))
	}
	typ := fit(string(r.e.Type), typeW, false)
	rest := r.rest
	if compact {
		rest = strings.TrimPrefix(rest, "#"+r.e.Session)
		rest = strings.TrimPrefix(rest, " ")
	}
	// Stale (stale.go): the whole line muted, its marks still there.
	k, nodeK, restK, head := r.k, kAccent, kText, st.bold[r.k]
	if st.dim {
		k, nodeK, restK, head = kMuted, kMuted, kMuted, st.fg[kMuted]
	}
	node := nodeCell(r, w, nodeW)
	if node != "" {
		w -= width(node)
		node = st.fg[nodeK].s(node)
	}
	if w < headW {
		return st.fg[k].s(fit(r.clock+" "+r.mark+" "+string(r.e.Type), w, false))
	}
	return st.fg[kMuted].s(r.clock+" ") + node + head.s(r.mark+" "+typ) + " " + st.fg[restK].s(fit(rest, w-headW, false))
}

// noticeLine is a gap or a restart across the whole width:
// "── popd restarted 12:03:04 (down 15s) ──────".
func noticeLine(r *evRow, w int) string {
	text := r.rest
	if r.node != "" {
		text = r.node + ": " + text
	}
	s := "── " + text + " ──"
	if n := w - width(s); n > 0 {
		s += strings.Repeat("─", n)
	}
	return fit(s, w, false)
}

// lineRow is what line i draws: its event, or for a burst its newest
// with the burst's summary, "carol ×40 since 14:02:01".
func (l *eventLog) lineRow(i int) evRow {
	ln := l.lines[i]
	r := l.rows[ln.last()]
	if ln.burst() {
		first := &l.rows[ln.rows[0]]
		r.rest = strings.TrimPrefix(r.e.User+" ×"+strconv.Itoa(len(ln.rows)), " ") + " since " + first.clock
		if r.e.By != "" {
			r.rest += " by " + r.e.By
		}
	}
	return r
}

// wrapEvent lays r out w cells wide without cutting it: its first line,
// and the rest's continuation under it. The kind is never cut either.
func wrapEvent(r *evRow, w, nodeW int) (string, []string) {
	if r.notice {
		return noticeLine(r, w), nil
	}
	typ := string(r.e.Type)
	head := r.clock + " " + nodeCell(r, w, nodeW) + r.mark + " " + fit(typ, max(typeW, width(typ)), false) + " "
	avail := w - width(head)
	if avail < 10 {
		return fit(head+r.rest, w, false), nil
	}
	chunks := wrapHard(r.rest, avail)
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	indent := strings.Repeat(" ", width(head))
	var more []string
	for _, c := range chunks[1:] {
		more = append(more, indent+fit(c, avail, false))
	}
	return head + fit(chunks[0], avail, false), more
}

// expansion is what the selected line i shows under itself: the rest of
// its event, wrapped, or a burst's latest events.
func (l *eventLog) expansion(i int) []string {
	if i < 0 || i >= len(l.lines) {
		return nil
	}
	ln := l.lines[i]
	if !ln.burst() {
		_, more := wrapEvent(&l.rows[ln.last()], l.width, l.nodeW)
		return more
	}
	members := ln.rows
	var out []string
	if n := len(members) - maxMembers; n > 0 {
		out = append(out, fit("    … "+human.Count(n, "earlier event"), l.width, false))
		members = members[n:]
	}
	for _, j := range members {
		r := &l.rows[j]
		out = append(out, "    "+fit(r.clock+" "+nodeCell(r, l.width-4, l.nodeW)+r.rest, l.width-4, false))
	}
	return out
}

// wrapHard breaks s into lines of at most w cells: at spaces, and inside
// a word longer than a line.
func wrapHard(s string, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		for width(word) > w {
			if line != "" {
				out = append(out, line)
				line = ""
			}
			head, tail := cutCells(word, w)
			out = append(out, head)
			word = tail
		}
		switch {
		case word == "":
		case line == "":
			line = word
		case width(line)+1+width(word) <= w:
			line += " " + word
		default:
			out = append(out, line)
			line = word
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// cutCells splits s after at most w cells (at least one rune).
func cutCells(s string, w int) (string, string) {
	n := 0
	for i, r := range s {
		rw := 1
		if r >= utf8.RuneSelf {
			rw = lipgloss.Width(string(r))
		}
		if n+rw > w && i > 0 {
			return s[:i], s[i:]
		}
		n += rw
	}
	return s, ""
}
