package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/human"
)

// The Sessions page's details pane: the selected session, beside the
// table on a wide terminal, below it on a narrow one. Enter opens or
// closes it, esc closes it; until then it is open on a wide terminal. Its
// place follows the terminal's width as it changes. When the session it
// shows ends, it stays on it, "closed (why)", and so does the selection
// (the row stays, dimmed), until the cursor moves: never on another
// session that took its place, next to K.

// paneState is whether the pane is open: the user's choice once made.
type paneState struct {
	set, open bool
	closedKey string // the row kept after its session ended; "" none
}

// Where the detail pane goes.
const (
	wideWidth = 140 // from here the session detail pane is beside the table
	paneWidth = 46
)

// paneOpen says whether the pane shows.
func (p *sessionsPage) paneOpen() bool {
	if p.panel.set {
		return p.panel.open
	}
	return p.width >= wideWidth
}

// togglePane is enter.
func (p *sessionsPage) togglePane() {
	p.panel.open, p.panel.set = !p.paneOpen(), true
	if !p.panel.open {
		p.dropClosed()
	}
	p.SetSize(p.width, p.height)
}

// Back closes the pane (esc), if it is open (backer).
func (p *sessionsPage) Back() bool {
	if !p.paneOpen() {
		return false
	}
	p.panel.open, p.panel.set = false, true
	p.dropClosed()
	p.SetSize(p.width, p.height)
	return true
}

// sizes lays out the page: the table's size, and the detail pane's (0
// when hidden).
func (p *sessionsPage) sizes() (tableW, tableH, paneW, paneH int) {
	w, h := p.width, p.height
	switch {
	case !p.paneOpen():
		return w, h, 0, 0
	case w >= wideWidth:
		return w - paneWidth, h, paneWidth, h
	}
	paneH = min(7, h/2)
	return w, h - paneH, w, paneH
}

func (p *sessionsPage) SetSize(w, h int) {
	p.width, p.height = w, h
	tw, th, _, _ := p.sizes()
	p.tablePage.SetSize(tw, th)
}

func (p *sessionsPage) View() string {
	table := p.lines()
	tw, _, pw, ph := p.sizes()
	switch {
	case pw == 0:
	case tw < p.width: // beside
		pane := p.pane(pw, ph, true)
		for i := range table {
			table[i] += pane[i]
		}
	default:
		table = append(table, p.pane(pw, ph, false)...)
	}
	return strings.Join(table, "\n")
}

// keepClosed keeps, in a fresh list, the selected session that is no
// longer listed, marked closed, while the pane shows it.
func (p *sessionsPage) keepClosed(rows []sessRow) []sessRow {
	sel := p.t.selected()
	if !p.paneOpen() || sel == nil || p.t.key(sel) != p.t.selKey {
		p.panel.closedKey = ""
		return rows
	}
	k := p.t.selKey
	for i := range rows {
		if p.t.key(&rows[i]) == k {
			p.panel.closedKey = ""
			return rows // still live
		}
	}
	gone := *sel
	gone.closed, gone.closing, gone.stuck = true, false, ""
	p.panel.closedKey = k
	delete(p.t.tags, k)
	return append(rows, gone)
}

// cursorMoved lets the closed session go once the cursor left it.
func (p *sessionsPage) cursorMoved() {
	if p.panel.closedKey != "" && p.t.selKey != p.panel.closedKey {
		p.dropClosed()
	}
}

// dropClosed removes the closed session kept on screen.
func (p *sessionsPage) dropClosed() {
	k := p.panel.closedKey
	if k == "" {
		return
	}
	p.panel.closedKey = ""
	p.t.all = slices.DeleteFunc(p.t.all, func(r sessRow) bool { return r.closed && r.ref() == k })
	p.t.rebuild()
}

// closedWhy says why a session ended, from its events: "quit", "kicked by
// uid 0 (root)"; "" when none came.
func (p *sessionsPage) closedWhy(node, id string) string {
	why := ""
	for i := len(p.recent) - 1; i >= 0; i-- {
		e := &p.recent[i].e
		if e.Session != id || p.recent[i].node != node {
			continue
		}
		switch e.Type {
		case event.Kicked:
			if e.By != "" {
				return "kicked by " + e.By
			}
			return "kicked"
		case event.SessionClosed:
			if why == "" {
				why = e.Reason
			}
		}
	}
	return why
}

// stateText is the pane's state of a session.
func (p *sessionsPage) stateText(r *sessRow) string {
	state := r.State
	switch {
	case r.closed:
		state = "closed"
		if why := p.closedWhy(r.node, r.ID); why != "" {
			state += " (" + why + ")"
		}
	case r.closing:
		state += " (closing)"
	case r.down:
		state += " (node down: as it last said)"
	case r.stuck != "":
		state += ", stuck"
	}
	return state
}

// sessionDetail is the detail pane's label/value pairs for a session.
func (p *sessionsPage) sessionDetail(r *sessRow, now time.Time) [][2]string {
	user := r.User
	if user == "" {
		user = "- (not logged in)"
	}
	last := r.LastCommand
	if last == "" {
		last = "-"
	}
	idle := human.Duration(r.Idle)
	if r.Sending {
		idle += ", sending"
	}
	return [][2]string{
		{"Session", r.ref()},
		{"User", user},
		{"Client", r.Remote},
		{"Server", r.Local},
		{"TLS", human.YesNo(r.TLS)},
		{"State", p.stateText(r)},
		{"Last", last},
		{"Retrieved", strconv.Itoa(r.Retrieved) + " messages"},
		{"Sent", fmt.Sprintf("%s (%d bytes)", human.Bytes(r.Octets), r.Octets)},
		{"Connected", fmt.Sprintf("%s ago, %s", human.Duration(now.Sub(r.Since)), r.Since.In(p.s.loc).Format("15:04:05"))},
		{"Idle", idle},
		{"Lock", map[bool]string{true: "holds its maildrop lock", false: "-"}[r.Locked && !r.closed]},
	}
}

// paneTitle is what the pane's title adds after the session's ref: why
// it is stuck, or that it ended.
func (p *sessionsPage) paneTitle(r *sessRow) (string, kind) {
	switch {
	case r.closed:
		return p.stateText(r), kMuted
	case r.stuck != "" && r.live():
		return "stuck: " + p.stuckText(r), kWarn
	}
	return "", kText
}

// pane renders the selected session beside the table (side) or below it,
// exactly w×h.
func (p *sessionsPage) pane(w, h int, side bool) []string {
	st := &p.s.st
	now := p.s.clock()
	lines := make([]string, 0, h)
	r := p.t.selected()
	bar := st.border.s("│") + " "
	pad := func(s string) string {
		if side {
			return bar + fit(s, w-2, false)
		}
		return fit(s, w, false)
	}
	if !side {
		title := "─ session "
		if r != nil {
			title += r.ref() + " "
			if t, k := p.paneTitle(r); t != "" {
				t = truncate(t, max(w-width(title)-4, 0)) + " "
				lines = append(lines, st.border.s(title)+st.bold[k].s(t)+
					st.border.s(strings.Repeat("─", max(w-width(title)-width(t), 0))))
			}
		}
		if len(lines) == 0 {
			lines = append(lines, st.border.s(title+strings.Repeat("─", max(w-width(title), 0))))
		}
	}
	if r == nil {
		text := st.fg[kMuted].s(fit("no session selected", w-2, false))
		if side {
			text = bar + text
		}
		lines = append(lines, text)
		for len(lines) < h {
			lines = append(lines, pad(""))
		}
		return lines
	}
	kv := p.sessionDetail(r, now)
	if side {
		lines = append(lines, bar+st.colHead.s(fit("SESSION "+r.ref(), w-2, false)))
		if t, k := p.paneTitle(r); t != "" {
			lines = append(lines, bar+st.bold[k].s(fit(t, w-2, false)))
		}
		for _, p := range kv[1:] {
			lines = append(lines, bar+st.fg[kMuted].s(fit(p[0], 10, false))+" "+st.fg[kText].s(fit(p[1], w-13, false)))
		}
		// Its latest events, newest last.
		evs := p.lastEvents(r.node, r.ID, 6)
		if len(evs) > 0 && len(lines)+2 <= h {
			lines = append(lines, pad(""), bar+st.colHead.s(fit("RECENT EVENTS", w-2, false)))
			for _, e := range evs {
				if len(lines) >= h {
					break
				}
				lines = append(lines, bar+eventLine(st, e, w-2, 0, true))
			}
		}
	} else {
		// Two columns of pairs.
		half := w / 2
		rows := (len(kv) + 1) / 2
		for i := range rows {
			var b strings.Builder
			for j, idx := range []int{i, i + rows} {
				cw := half
				if j == 1 {
					cw = w - half
				}
				if idx >= len(kv) {
					b.WriteString(strings.Repeat(" ", cw))
					continue
				}
				b.WriteString(st.fg[kMuted].s(fit(" "+kv[idx][0], 11, false)))
				b.WriteString(st.fg[kText].s(fit(kv[idx][1], cw-11, false)))
			}
			lines = append(lines, b.String())
		}
	}
	for len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, pad(""))
	}
	return lines
}

// addRecent keeps the events that name a session, for the pane.
func (p *sessionsPage) addRecent(evs []control.Event, node string) {
	for _, e := range evs {
		if e.Session != "" {
			p.recent = append(p.recent, newEvRow(e, p.s.loc, node))
		}
	}
	if n := len(p.recent) - maxEvents; n > 0 {
		p.recent = p.recent[n:]
	}
}

// lastEvents returns the last n events of one session, oldest first.
func (p *sessionsPage) lastEvents(node, id string, n int) []*evRow {
	var out []*evRow
	for i := len(p.recent) - 1; i >= 0 && len(out) < n; i-- {
		if p.recent[i].e.Session == id && p.recent[i].node == node {
			out = append(out, &p.recent[i])
		}
	}
	slices.Reverse(out)
	return out
}
