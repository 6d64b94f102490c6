package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// sessionsPage is the live list of sessions, with a pane of the selected
// one's details (beside the table on a wide terminal, else below it when
// asked for), and the kick.
type sessionsPage struct {
	tablePage[sessRow]
	detail, kick  key.Binding
	closing       map[string]bool // kicked (by ref), until a poll no longer lists them
	toggled       bool            // the detail pane is toggled from its default
	width, height int
	recent        []evRow // the latest events that name a session
	idCol         int     // the ID column's index: after NODE on a fleet
}

func newSessionsPage(s *shared) page {
	p := &sessionsPage{
		tablePage: tablePage[sessRow]{s: s, t: newSessionTable(), name: "Sessions", noun: "session", none: "no sessions"},
		detail:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		kick:      key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kick")),
		closing:   map[string]bool{},
	}
	if s.fleet() {
		p.t.cols = append([]column[sessRow]{nodeColumn(s, func(r *sessRow) string { return r.node },
			func(a, b *sessRow) int { return natural(a.ID, b.ID) })}, p.t.cols...)
		p.idCol = 1
	}
	return p
}

func (p *sessionsPage) Polls(bool) fetch { return fetchSessions }

func (p *sessionsPage) ShortHelp() []key.Binding {
	return p.short(p.s.act(p.kick), p.detail)
}

func (p *sessionsPage) FullHelp() [][]key.Binding {
	return p.s.full([]key.Binding{p.s.act(p.kick), p.detail}, p.general()...)
}

func (p *sessionsPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataMsg:
		if msg.got&fetchSessions != 0 {
			p.setSessions(msg.sessions)
		}
	case eventsMsg:
		p.addRecent(msg.evs, msg.name)
	case sentMsg:
		if msg.req.act == actKick {
			p.markClosing(ref(msg.req.node, msg.req.target), true)
		}
	case doneMsg:
		if msg.req.act == actKick && msg.err != nil {
			p.markClosing(ref(msg.req.node, msg.req.target), false)
		}
	case tea.KeyMsg:
		switch {
		case p.update(msg):
		case key.Matches(msg, p.detail):
			p.toggled = !p.toggled
			p.SetSize(p.width, p.height)
		case key.Matches(msg, p.s.act(p.kick)):
			p.askKick()
		}
	case tea.MouseMsg:
		p.update(msg)
	}
	return nil
}

// askKick opens the confirmation for the selected session.
func (p *sessionsPage) askKick() {
	r := p.t.selected()
	if r == nil || r.closing {
		return
	}
	who := r.User
	if who == "" {
		who = "not logged in"
	}
	p.s.open(newConfirm(p.s, "Kick session "+r.ref()+"?", "Kick", request{act: actKick, target: r.ID, node: r.node},
		who+" from "+r.Remote+", connected "+human.Duration(p.s.now().Sub(r.Since))+".",
		"The connection is closed without UPDATE: no mail is deleted."))
}

// Where the detail pane goes.
const (
	wideWidth = 140 // from here the session detail pane is beside the table
	paneWidth = 46
)

// sizes lays out the page: the table's size, and the detail pane's (0
// when hidden).
func (p *sessionsPage) sizes() (tableW, tableH, paneW, paneH int) {
	w, h := p.width, p.height
	wide := w >= wideWidth
	switch show := wide != p.toggled; {
	case !show:
		return w, h, 0, 0
	case wide:
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

// sessRow is a session as the table shows it.
type sessRow struct {
	nodeSession
	closing bool // kicked, and still listed until the next refresh drops it
}

// shortState abbreviates RFC 1939's state names for the table.
func shortState(r *sessRow) string {
	switch {
	case r.closing:
		return "closing"
	case r.down:
		return "down"
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
		key: func(r *sessRow) string { return r.ref() },
		match: func(r *sessRow, q string) bool {
			return contains(r.User, q) || contains(r.Remote, q) || contains(r.State, q) ||
				r.closing && strings.Contains("closing", q) || contains(r.node, q)
		},
		row: func(r *sessRow) kind {
			if r.closing || r.down {
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
			column[sessRow]{title: "TLS", width: 3, prio: 6}.flag(
				func(r *sessRow) bool { return r.TLS }, "yes", "no", kOK, kWarn),
			// RFC 1939's names when there is room, else abbreviated.
			{title: "STATE", width: 7, max: 13, prio: 9,
				cell: func(r *sessRow, _ time.Time) string {
					switch {
					case r.closing:
						return "closing"
					case r.down:
						return "node down"
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
				cell: func(r *sessRow, _ time.Time) string { return human.Bytes(r.Octets) },
				cmp:  func(a, b *sessRow) int { return cmp.Compare(a.Octets, b.Octets) }},
			{title: "CONN", width: 6, right: true, prio: 7,
				cell: func(r *sessRow, now time.Time) string { return human.Duration(now.Sub(r.Since)) },
				// Connected for longest first is the earliest Since.
				cmp: func(a, b *sessRow) int { return b.Since.Compare(a.Since) }},
			{title: "IDLE", width: 6, right: true, prio: 8,
				cell: func(r *sessRow, _ time.Time) string { return human.Duration(r.Idle) },
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
func (p *sessionsPage) setSessions(list []nodeSession) {
	rows := make([]sessRow, len(list))
	seen := make(map[string]bool, len(p.closing))
	for i, s := range list {
		rows[i].nodeSession = s
		if ref := s.ref(); p.closing[ref] {
			rows[i].closing = true
			seen[ref] = true
		}
	}
	for id := range p.closing {
		if !seen[id] {
			delete(p.closing, id) // gone: the kick is done
		}
	}
	// The ID column is as wide as the longest id, so ids are never cut.
	idw := 4
	for i := range rows {
		idw = max(idw, len(rows[i].ID)+1)
	}
	id := &p.t.cols[p.idCol]
	id.width, id.max = idw, idw
	p.setData(rows)
}

// markClosing shows a session (by ref) as closing until it disappears.
func (p *sessionsPage) markClosing(ref string, on bool) {
	if on {
		p.closing[ref] = true
	} else {
		delete(p.closing, ref)
	}
	for i := range p.t.all {
		if p.t.all[i].ref() == ref {
			p.t.all[i].closing = on
		}
	}
}

// sessionDetail is the detail pane's label/value pairs for a session.
func (p *sessionsPage) sessionDetail(r *sessRow, now time.Time) [][2]string {
	state := r.State
	switch {
	case r.closing:
		state += " (closing)"
	case r.down:
		state += " (node down: as it last said)"
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
		{"Session", r.ref()},
		{"User", user},
		{"Client", r.Remote},
		{"Server", r.Local},
		{"TLS", human.YesNo(r.TLS)},
		{"State", state},
		{"Last", last},
		{"Retrieved", strconv.Itoa(r.Retrieved) + " messages"},
		{"Sent", fmt.Sprintf("%s (%d bytes)", human.Bytes(r.Octets), r.Octets)},
		{"Connected", fmt.Sprintf("%s ago, %s", human.Duration(now.Sub(r.Since)), r.Since.In(p.s.loc).Format("15:04:05"))},
		{"Idle", human.Duration(r.Idle)},
		{"Lock", map[bool]string{true: "holds its maildrop lock", false: "-"}[r.Locked]},
	}
}

// pane renders the selected session beside the table (side) or below it,
// exactly w×h.
func (p *sessionsPage) pane(w, h int, side bool) []string {
	st := &p.s.st
	now := p.s.now()
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
	kv := p.sessionDetail(r, now)
	if side {
		lines = append(lines, bar+st.colHead.s(fit("SESSION "+r.ref(), w-2, false)))
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
