package tui

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"popd/internal/control"
)

// sessRow is a session as the table shows it.
type sessRow struct {
	control.Session
	closing bool // kicked, and still listed until the next refresh drops it
}

// shortState abbreviates RFC 1939's state names for the table.
func shortState(r *sessRow) string {
	if r.closing {
		return "closing"
	}
	switch r.State {
	case "authorization":
		return "auth"
	case "transaction":
		return "trans"
	}
	return r.State
}

func newSessionTable() table[sessRow] {
	return table[sessRow]{
		key: func(r *sessRow) string { return r.ID },
		match: func(r *sessRow, q string) bool {
			return contains(r.User, q) || contains(r.Remote, q) || contains(r.State, q) ||
				r.closing && strings.Contains("closing", q)
		},
		row: func(r *sessRow) kind {
			if r.closing {
				return kMuted
			}
			return kText
		},
		cols: []column[sessRow]{
			{title: "ID", width: 4, right: true, prio: 10,
				cell: func(r *sessRow, _ time.Time) string { return r.ID },
				cmp:  func(a, b *sessRow) int { return natural(a.ID, b.ID) }},
			{title: "USER", width: 10, max: 24, prio: 10,
				cell: func(r *sessRow, _ time.Time) string {
					if r.User == "" {
						return "-"
					}
					return r.User
				},
				cmp: func(a, b *sessRow) int { return strings.Compare(a.User, b.User) }},
			{title: "CLIENT", width: 16, max: 40, prio: 9,
				cell: func(r *sessRow, _ time.Time) string { return r.Remote },
				cmp:  func(a, b *sessRow) int { return strings.Compare(a.Remote, b.Remote) }},
			{title: "TLS", width: 3, prio: 6,
				cell: func(r *sessRow, _ time.Time) string { return yesNo(r.TLS) },
				cmp:  func(a, b *sessRow) int { return cmpBool(a.TLS, b.TLS) },
				kind: func(r *sessRow) kind {
					if r.TLS {
						return kOK
					}
					return kWarn
				}},
			// RFC 1939's names when there is room, else abbreviated.
			{title: "STATE", width: 7, max: 13, prio: 9,
				cell: func(r *sessRow, _ time.Time) string {
					if r.closing {
						return "closing"
					}
					return r.State
				},
				short: shortState,
				cmp:   func(a, b *sessRow) int { return strings.Compare(shortState(a), shortState(b)) },
				kind: func(r *sessRow) kind {
					switch r.State {
					case "transaction":
						return kOK
					case "update":
						return kAccent
					}
					return kText
				}},
			{title: "LAST", width: 6, max: 10, prio: 5,
				cell: func(r *sessRow, _ time.Time) string { return r.LastCommand },
				cmp:  func(a, b *sessRow) int { return strings.Compare(a.LastCommand, b.LastCommand) }},
			{title: "MSGS", width: 5, right: true, prio: 4,
				cell: func(r *sessRow, _ time.Time) string { return strconv.Itoa(r.Retrieved) },
				cmp:  func(a, b *sessRow) int { return cmp.Compare(a.Retrieved, b.Retrieved) }},
			{title: "SENT", width: 6, right: true, prio: 6,
				cell: func(r *sessRow, _ time.Time) string { return humanBytes(r.Octets) },
				cmp:  func(a, b *sessRow) int { return cmp.Compare(a.Octets, b.Octets) }},
			{title: "CONN", width: 6, right: true, prio: 7,
				cell: func(r *sessRow, now time.Time) string { return dur(now.Sub(r.Since)) },
				// Connected for longest first is the earliest Since.
				cmp: func(a, b *sessRow) int { return b.Since.Compare(a.Since) }},
			{title: "IDLE", width: 6, right: true, prio: 8,
				cell: func(r *sessRow, _ time.Time) string { return dur(r.Idle) },
				cmp:  func(a, b *sessRow) int { return cmp.Compare(a.Idle, b.Idle) },
				kind: func(r *sessRow) kind {
					if r.Idle >= 5*time.Minute {
						return kWarn
					}
					return kText
				}},
		},
	}
}

func contains(s, lowerQ string) bool {
	return strings.Contains(strings.ToLower(s), lowerQ)
}

// setSessions takes a fresh list; sessions being kicked stay marked.
func (m *Model) setSessions(list []control.Session) {
	rows := make([]sessRow, len(list))
	seen := make(map[string]bool, len(m.closing))
	for i, s := range list {
		rows[i].Session = s
		if m.closing[s.ID] {
			rows[i].closing = true
			seen[s.ID] = true
		}
	}
	for id := range m.closing {
		if !seen[id] {
			delete(m.closing, id) // gone: the kick is done
		}
	}
	// The ID column is as wide as the longest id, so ids are never cut.
	idw := 4
	for i := range rows {
		idw = max(idw, len(rows[i].ID)+1)
	}
	m.sessions.cols[0].width, m.sessions.cols[0].max = idw, idw
	m.sessions.setData(rows)
}

// markClosing shows a session as closing until it disappears.
func (m *Model) markClosing(id string, on bool) {
	if on {
		m.closing[id] = true
	} else {
		delete(m.closing, id)
	}
	for i := range m.sessions.all {
		if m.sessions.all[i].ID == id {
			m.sessions.all[i].closing = on
		}
	}
}

// sessionDetail is the detail pane's label/value pairs for a session.
func (m Model) sessionDetail(r *sessRow, now time.Time) [][2]string {
	state := r.State
	if r.closing {
		state += " (closing)"
	}
	user := r.User
	if user == "" {
		user = "- (not logged in)"
	}
	last := r.LastCommand
	if last == "" {
		last = "-"
	}
	return [][2]string{
		{"Session", r.ID},
		{"User", user},
		{"Client", r.Remote},
		{"Server", r.Local},
		{"TLS", yesNo(r.TLS)},
		{"State", state},
		{"Last", last},
		{"Retrieved", strconv.Itoa(r.Retrieved) + " messages"},
		{"Sent", fmt.Sprintf("%s (%d bytes)", humanBytes(r.Octets), r.Octets)},
		{"Connected", fmt.Sprintf("%s ago, %s", dur(now.Sub(r.Since)), r.Since.In(m.loc).Format("15:04:05"))},
		{"Idle", dur(r.Idle)},
		{"Lock", map[bool]string{true: "holds its maildrop lock", false: "-"}[r.Locked]},
	}
}

// detailPane renders the selected session beside the table (side) or
// below it, exactly w×h.
func (m Model) detailPane(w, h int, side bool) []string {
	st := &m.st
	now := m.now()
	lines := make([]string, 0, h)
	r := m.sessions.selected()
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
			title += r.ID + " "
		}
		lines = append(lines, st.border.s(title+strings.Repeat("─", max(w-width(title), 0))))
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
	kv := m.sessionDetail(r, now)
	if side {
		lines = append(lines, bar+st.colHead.s(fit("SESSION "+r.ID, w-2, false)))
		for _, p := range kv[1:] {
			lines = append(lines, bar+st.fg[kMuted].s(fit(p[0], 10, false))+" "+st.fg[kText].s(fit(p[1], w-13, false)))
		}
		// Its latest events, newest last.
		evs := m.ev.forSession(r.ID, 6)
		if len(evs) > 0 && len(lines)+2 <= h {
			lines = append(lines, pad(""), bar+st.colHead.s(fit("RECENT EVENTS", w-2, false)))
			for _, e := range evs {
				if len(lines) >= h {
					break
				}
				lines = append(lines, bar+m.eventLine(e, w-2, true))
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
