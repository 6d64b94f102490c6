package tui

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// nodesPage is a fleet's nodes, a row each: up or down, its sessions, its
// logins a minute and bytes sent a second over the last minute, popd's
// version.
// Under the table, each node that is down says why, and when it is tried
// again.
type nodesPage struct {
	tablePage[nodeInfo]
}

func newNodesPage(s *shared) page {
	return &nodesPage{tablePage[nodeInfo]{s: s, t: newNodeTable(s), name: "Nodes", noun: "node", none: "no nodes"}}
}

// Badge is the nodes up of all: "2/3".
func (p *nodesPage) Badge() string {
	if !p.loaded {
		return ""
	}
	return strconv.Itoa(p.up()) + "/" + strconv.Itoa(len(p.t.all))
}

func (p *nodesPage) up() int {
	n := 0
	for i := range p.t.all {
		if p.t.all[i].up {
			n++
		}
	}
	return n
}

func (p *nodesPage) Status() []string {
	st := p.tablePage.Status()
	st[0] += ", " + strconv.Itoa(p.up()) + " up"
	return st
}

func (p *nodesPage) ShortHelp() []key.Binding  { return p.short() }
func (p *nodesPage) FullHelp() [][]key.Binding { return p.s.full(nil, p.general()...) }

func (p *nodesPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case nodesMsg:
		p.setData(msg.nodes)
		p.SetSize(p.w, p.h)
	case tea.KeyMsg, tea.MouseMsg:
		p.update(msg)
	}
	return nil
}

// SetSize leaves room under the table for what the nodes that are down
// say.
func (p *nodesPage) SetSize(w, h int) {
	p.w, p.h = w, h
	p.t.setHeight(p.tableHeight(len(p.notes())) - 1)
}

func (p *nodesPage) tableHeight(notes int) int {
	return max(p.h-notes, min(p.h, 2))
}

func (p *nodesPage) View() string {
	notes := p.notes()
	lines := p.t.view(&p.s.st, p.w, p.tableHeight(len(notes)), p.s.now(), p.empty())
	lines = append(lines, notes...)
	return strings.Join(lines[:min(len(lines), p.h)], "\n")
}

// notes are the lines under the table: for each node that is down, why,
// and when it is tried again; at most half the page.
func (p *nodesPage) notes() []string {
	st := &p.s.st
	w := p.w
	var out []string
	for i := range p.t.all {
		n := &p.t.all[i]
		if n.up || n.err == "" {
			continue
		}
		text := n.name + " is down: " + n.err
		if n.dialing {
			text += " · reconnecting…"
		} else if secs := int(math.Ceil(n.retryAt.Sub(p.s.now()).Seconds())); secs > 0 {
			text += " · reconnecting in " + strconv.Itoa(secs) + "s"
		}
		for j, l := range wrap(text, max(w-4, 1)) {
			mark := "  ! "
			if j > 0 {
				mark = "    "
			}
			out = append(out, st.fg[kErr].s(fit(mark+l, w, false)))
		}
	}
	if len(out) == 0 {
		return nil
	}
	out = append([]string{strings.Repeat(" ", w)}, out...)
	return out[:min(len(out), p.h/2)]
}

// status is what the STATUS column says.
func (n *nodeInfo) status() string {
	switch {
	case n.up:
		return "up"
	case n.err != "":
		return "down"
	}
	return "dialing"
}

// sparkW is the width of the Nodes page's sparklines.
const sparkW = 10

// minuteSpark draws vals, the last minute's polls, in w cells: each cell
// the largest of its share of them.
func minuteSpark(vals []float64, w int) string {
	if n := len(vals); n > w {
		cells := make([]float64, w)
		for i := range cells {
			cells[i] = slices.Max(vals[i*n/w : (i+1)*n/w])
		}
		vals = cells
	}
	return sparkline(vals, w)
}

// rateCell is a rate and its sparkline: "4.5 ▁▂▅", "-" while down.
func rateCell(n *nodeInfo, vals []float64, format func(float64) string, valW int) string {
	if !n.up || !n.have {
		return "-"
	}
	return fit(format(last(vals)), valW, true) + " " + minuteSpark(vals, sparkW)
}

func newNodeTable(s *shared) table[nodeInfo] {
	nodeW := max(s.nodeW, len("NODE")+1)
	order := func(n *nodeInfo) int { return slices.Index(s.nodes, n.name) }
	upOnly := func(f func(n *nodeInfo) string) func(*nodeInfo, time.Time) string {
		return func(n *nodeInfo, _ time.Time) string {
			if !n.up || !n.have {
				return "-"
			}
			return f(n)
		}
	}
	bytes := func(f float64) string { return human.Bytes(int64(f)) }
	perMinute := func(perSecond float64) string { return human.Rate(perSecond * 60) }
	return table[nodeInfo]{
		key: func(n *nodeInfo) string { return n.name },
		match: func(n *nodeInfo, q string) bool {
			return contains(n.name, q) || contains(n.status(), q) || contains(n.version, q) || contains(n.err, q)
		},
		row: func(n *nodeInfo) kind {
			if !n.up {
				return kMuted
			}
			return kText
		},
		cols: []column[nodeInfo]{
			{title: "NODE", width: nodeW, max: nodeW, prio: 10,
				cell: func(n *nodeInfo, _ time.Time) string { return n.name },
				cmp:  func(a, b *nodeInfo) int { return cmp.Compare(order(a), order(b)) }},
			{title: "STATUS", width: 7, prio: 10,
				cell: func(n *nodeInfo, _ time.Time) string { return n.status() },
				cmp:  func(a, b *nodeInfo) int { return cmpBool(a.up, b.up) },
				kind: func(n *nodeInfo) kind {
					if n.up {
						return kOK
					}
					return kErr
				}},
			{title: "SESSIONS", width: 8, right: true, prio: 9,
				cell: upOnly(func(n *nodeInfo) string { return strconv.Itoa(n.stats.Sessions) }),
				cmp:  func(a, b *nodeInfo) int { return cmp.Compare(a.stats.Sessions, b.stats.Sessions) }},
			// Per minute, as the header and popadm stats say them.
			{title: "LOGINS/MIN", width: 4 + 1 + sparkW, prio: 8,
				cell: func(n *nodeInfo, _ time.Time) string { return rateCell(n, n.lps, perMinute, 4) },
				cmp:  func(a, b *nodeInfo) int { return cmp.Compare(last(a.lps), last(b.lps)) },
				kind: func(*nodeInfo) kind { return kAccent }},
			{title: "SENT/S", width: 6 + 1 + sparkW, prio: 7,
				cell: func(n *nodeInfo, _ time.Time) string { return rateCell(n, n.bps, bytes, 6) },
				cmp:  func(a, b *nodeInfo) int { return cmp.Compare(last(a.bps), last(b.bps)) },
				kind: func(*nodeInfo) kind { return kAccent }},
			{title: "VERSION", width: 7, max: 16, prio: 6,
				cell: func(n *nodeInfo, _ time.Time) string { return cmp.Or(n.version, "-") },
				cmp:  func(a, b *nodeInfo) int { return strings.Compare(a.version, b.version) }},
			{title: "UPTIME", width: 6, right: true, prio: 4,
				cell: upOnly(func(n *nodeInfo) string { return human.Duration(n.stats.Uptime) }),
				cmp:  func(a, b *nodeInfo) int { return cmp.Compare(a.stats.Uptime, b.stats.Uptime) }},
			{title: "ROLE", width: 7, prio: 3,
				cell: func(n *nodeInfo, _ time.Time) string { return cmp.Or(n.role, "-") },
				cmp:  func(a, b *nodeInfo) int { return strings.Compare(a.role, b.role) }},
		},
	}
}
