package tui

import (
	"cmp"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// sessionsPage is the live list of sessions, with a pane of the selected
// one's details (sessionpane.go), the stuck ones marked (stuck.go), and
// the kick: of the selected session, of the tagged ones, or by selector
// (:kill, sessioncmds.go).
type sessionsPage struct {
	tablePage[sessRow]
	detail, kick  key.Binding
	closing       map[string]bool // kicked (by ref), until a poll no longer lists them
	panel         paneState       // the details pane (sessionpane.go)
	width, height int
	recent        []evRow // the latest events that name a session
	idCol         int     // the ID column's index: after NODE on a fleet
	stuck         int     // how many rows are stuck, for the header
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
			func(a, b *sessRow) int { return human.Natural(a.ID, b.ID) })}, p.t.cols...)
		p.idCol = 1
	}
	p.tagRows(func(r *sessRow) bool { return r.live() })
	return p
}

func (p *sessionsPage) Polls(bool) fetch { return fetchSessions }

// Stuck is how many sessions are stuck (stuckCounter).
func (p *sessionsPage) Stuck() int { return p.stuck }

// kickKey is K as the help shows it: for the tagged sessions when there
// are some.
func (p *sessionsPage) kickKey() key.Binding {
	k := p.s.act(p.kick)
	if n := len(p.t.tags); n > 0 {
		k.SetHelp("K", "kick "+strconv.Itoa(n)+" tagged")
	}
	return k
}

func (p *sessionsPage) ShortHelp() []key.Binding {
	if len(p.t.tags) > 0 {
		return p.short(p.kickKey(), p.untag, p.detail)
	}
	return p.short(p.kickKey(), p.detail)
}

func (p *sessionsPage) FullHelp() [][]key.Binding {
	return p.s.full([]key.Binding{p.kickKey(), p.detail, hint("esc", "close details")}, p.general()...)
}

func (p *sessionsPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataMsg:
		if msg.got&fetchSessions != 0 {
			p.setSessions(msg.sessions)
		} else {
			p.reage() // each poll
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
	case killDoneMsg:
		p.killAnswered(msg)
	case tea.KeyMsg:
		switch {
		case p.update(msg):
			p.cursorMoved()
		case key.Matches(msg, p.detail):
			p.togglePane()
		case key.Matches(msg, p.s.act(p.kick)):
			p.askKick()
		}
	case tea.MouseMsg:
		p.update(msg)
		p.cursorMoved()
	}
	return nil
}

// askKick opens the confirmation for the tagged sessions, if any, else for
// the selected one.
func (p *sessionsPage) askKick() {
	if len(p.t.tags) > 0 {
		p.askKickTagged()
		return
	}
	r := p.t.selected()
	switch {
	case r == nil, r.closing:
		return
	case r.closed:
		p.s.say("session "+r.ref()+" has ended", kWarn)
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

// sessRow is a session as the table shows it.
type sessRow struct {
	nodeSession
	closing bool   // kicked, and still listed until the next refresh drops it
	stuck   string // why it is stuck ("idle 7m00s"); "" when it is not
	closed  bool   // it ended while the details pane showed it (sessionpane.go)
}

// live says whether the row is a session that may still be acted on.
func (r *sessRow) live() bool { return !r.closing && !r.down && !r.closed }

// shortState abbreviates RFC 1939's state names for the table.
func shortState(r *sessRow) string {
	switch {
	case r.closed:
		return "closed"
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
		key:   func(r *sessRow) string { return r.ref() },
		match: sessionMatcher(),
		row: func(r *sessRow) kind {
			switch {
			case !r.live():
				return kMuted
			case r.stuck != "":
				return kWarn
			}
			return kText
		},
		mark: func(r *sessRow) (string, kind) {
			if r.stuck != "" && r.live() {
				return "!", kWarn
			}
			return "", kText
		},
		cols: []column[sessRow]{
			// A run's tag and a counter, "k3f9-12" (event.Boot): as wide as
			// the longest.
			{title: "ID", width: 4, max: 12, right: true, prio: 10,
				cell: func(r *sessRow, _ time.Time) string { return r.ID },
				cmp:  func(a, b *sessRow) int { return human.Natural(a.ID, b.ID) }},
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
					case r.closed:
						return "closed"
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
			{title: "RETR", width: 5, right: true, prio: 4, // as popadm who says
				cell: func(r *sessRow, _ time.Time) string { return strconv.Itoa(r.Retrieved) },
				cmp:  func(a, b *sessRow) int { return cmp.Compare(a.Retrieved, b.Retrieved) }},
			{title: "SENT", width: 6, right: true, prio: 6,
				cell: func(r *sessRow, _ time.Time) string { return human.Bytes(r.Octets) },
				cmp:  func(a, b *sessRow) int { return cmp.Compare(a.Octets, b.Octets) }},
			{title: "AGE", width: 6, right: true, prio: 7, // connected for, as popadm who says
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

// sessionMatcher is the filter: a piece of the user, the client, the
// state or the node; "stuck", "closing" and "closed" find those; a prefix
// in CIDR notation (192.0.2.0/24) the clients in it, as popd's selector
// does (:kill filter then sends it as one).
func sessionMatcher() func(r *sessRow, q string) bool {
	var lastQ string
	var pre netip.Prefix
	var isPre bool
	return func(r *sessRow, q string) bool {
		if q != lastQ {
			lastQ = q
			pre, isPre = filterPrefix(q)
		}
		if isPre {
			a, ok := remoteAddr(r.Remote)
			return ok && pre.Contains(a)
		}
		return contains(r.User, q) || contains(r.Remote, q) || contains(r.State, q) ||
			r.closing && strings.Contains("closing", q) || r.closed && strings.Contains("closed", q) ||
			r.stuck != "" && r.live() && strings.Contains("stuck", q) || contains(r.node, q)
	}
}

// filterPrefix is the filter as a prefix of addresses, when it is one.
func filterPrefix(q string) (netip.Prefix, bool) {
	if !strings.Contains(q, "/") {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(q))
	return p.Masked(), err == nil
}

// remoteAddr is the address of a session's client ("192.0.2.7:1100").
func remoteAddr(remote string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func contains(s, lowerQ string) bool {
	return strings.Contains(strings.ToLower(s), lowerQ)
}

// setSessions takes a fresh list; sessions being kicked stay marked, and
// the stuck ones are found.
func (p *sessionsPage) setSessions(list []nodeSession) {
	rows := make([]sessRow, len(list), len(list)+1)
	seen := make(map[string]bool, len(p.closing))
	now := p.s.clock()
	for i, s := range list {
		rows[i].nodeSession = s
		rows[i].age(now) // sessync.go
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
	rows = p.keepClosed(rows)
	// The ID column is as wide as the longest id, so ids are never cut.
	idw := 4
	for i := range rows {
		idw = max(idw, len(rows[i].ID)+1)
	}
	id := &p.t.cols[p.idCol]
	id.width, id.max = idw, idw
	p.findStuck(rows)
	p.setData(rows)
}

// findStuck marks the stuck rows and counts them.
func (p *sessionsPage) findStuck(rows []sessRow) {
	p.stuck = 0
	for i := range rows {
		r := &rows[i]
		r.stuck = ""
		if r.live() {
			r.stuck = p.s.stuck.why(&r.Session)
		}
		if r.stuck != "" {
			p.stuck++
		}
	}
}

// reage counts on the idle and stalled times of the rows kept by popd's
// events (sessync.go) to now, and finds the stuck ones again: the table
// is filtered again only if which ones are stuck changed.
func (p *sessionsPage) reage() {
	now := p.s.clock()
	var was []bool
	for i := range p.t.all {
		r := &p.t.all[i]
		if r.at.IsZero() {
			continue
		}
		if was == nil {
			was = make([]bool, len(p.t.all))
			for j := range p.t.all {
				was[j] = p.t.all[j].stuck != ""
			}
		}
		r.age(now)
	}
	if was == nil {
		return
	}
	p.findStuck(p.t.all)
	for i := range p.t.all {
		if was[i] != (p.t.all[i].stuck != "") {
			p.t.rebuild()
			return
		}
	}
}

// restuck applies changed thresholds to the rows on screen.
func (p *sessionsPage) restuck() {
	p.findStuck(p.t.all)
	p.t.rebuild()
}

// markClosing shows a session (by ref) as closing until it disappears.
func (p *sessionsPage) markClosing(ref string, on bool) {
	if on {
		p.closing[ref] = true
	} else {
		delete(p.closing, ref)
	}
	for i := range p.t.all {
		if r := &p.t.all[i]; r.ref() == ref && !r.closed {
			r.closing = on
			delete(p.t.tags, ref)
		}
	}
	p.findStuck(p.t.all)
}

// stuckText says why a row is stuck, with the threshold: "idle 7m00s
// (over 5m)".
func (p *sessionsPage) stuckText(r *sessRow) string {
	if r.stuck == "" {
		return ""
	}
	over := p.s.stuck.idle
	if r.Sending && strings.Contains(r.stuck, "stalled") {
		over = p.s.stuck.send
	}
	return fmt.Sprintf("%s (over %s)", r.stuck, human.Setting(over))
}
