package tui

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// penaltiesPage is the sources popd slows down for their failed logins: a
// row each, with its failures in a row, the last one's age, the delay the
// next earns and the user names it tried. c clears the selected source's
// penalty, C those of every source the filter shows; each asks first.
// The worst offenders come first: it sorts by failures, most first.
//
// On a fleet each node keeps the penalties of the sources that tried it:
// a row is a source on a node (NODE first), and its clear goes there.
type penaltiesPage struct {
	onScreen[nodePenalty] // a node may hold a great many sources under attack
	clear, clearAll       key.Binding
}

// nodePenalty is a penalty as a node listed it (see nodeSession).
type nodePenalty struct {
	node string
	down bool
	control.Penalty
}

// users is the names the source tried, newest first, as the table and the
// CLI show them.
func (r *nodePenalty) users() string { return strings.Join(r.Users, ",") }

func newPenaltiesPage(s *shared) page {
	p := &penaltiesPage{
		onScreen: onScreen[nodePenalty]{what: fetchPenalties,
			tablePage: tablePage[nodePenalty]{s: s, t: newPenaltyTable(), name: "Penalties", noun: "source",
				none: "no source is slowed down"}},
		clear:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clear")),
		clearAll: key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "clear all shown")),
	}
	if s.fleet() {
		p.t.cols = append([]column[nodePenalty]{nodeColumn(s, func(r *nodePenalty) string { return r.node }, cmpSource)},
			p.t.cols...)
		p.t.sort++
	}
	return p
}

func (p *penaltiesPage) actions() []key.Binding {
	return []key.Binding{p.s.act(p.clear), p.s.act(p.clearAll)}
}

func (p *penaltiesPage) ShortHelp() []key.Binding  { return p.short(p.actions()...) }
func (p *penaltiesPage) FullHelp() [][]key.Binding { return p.s.full(p.actions(), p.general()...) }

func (p *penaltiesPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataMsg:
		if msg.between {
			break // the sessions alone
		}
		p.take(msg, msg.penalties)
	case tea.MouseMsg:
		p.update(msg)
	case tea.KeyMsg:
		switch {
		case p.update(msg):
		case key.Matches(msg, p.s.act(p.clear)):
			p.askClear()
		case key.Matches(msg, p.s.act(p.clearAll)):
			p.askClearAll()
		}
	}
	return nil
}

// askClear opens the confirmation for the selected source.
func (p *penaltiesPage) askClear() {
	r := p.t.selected()
	if r == nil {
		return
	}
	body := []string{human.Count(r.Failures, "failed login") + " in a row, the last " + human.Ago(p.s.now(), r.Last) +
		"; the next would wait " + human.Duration(r.Delay) + "."}
	if len(r.Users) > 0 {
		body = append(body, "Names tried: "+strings.Join(r.Users, ", ")+".")
	}
	if r.node != "" {
		body = append(body, "Node "+r.node+" clears it.")
	}
	p.s.open(newConfirm(p.s, "Clear the penalty of "+r.Source+"?", "Clear",
		request{act: actClear, target: r.Source, node: r.node}, body...))
}

// askClearAll opens one confirmation for every source the filter shows:
// a request per node (one for the one popd). Rows of nodes that are down
// are left.
func (p *penaltiesPage) askClearAll() {
	var reqs []request
	at := map[string]int{} // node → its request in reqs
	left, all := 0, 0
	var names []string
	for _, r := range p.t.rows {
		if r.down {
			left++
			continue
		}
		i, ok := at[r.node]
		if !ok {
			i = len(reqs)
			at[r.node] = i
			reqs = append(reqs, request{act: actClearAll, node: r.node})
		}
		reqs[i].sources = append(reqs[i].sources, r.Source)
		all++
		names = append(names, ref(r.node, r.Source))
	}
	if all == 0 {
		p.s.say("no penalty to clear here", kWarn)
		return
	}
	for i := range reqs {
		reqs[i].target = human.Count(len(reqs[i].sources), "source")
	}
	shown := "Every source listed"
	if p.t.filter != "" {
		shown = "Every source the filter \"" + p.t.filter + "\" shows"
	}
	body := []string{shown + ": " + listSome(names, 6) + "."}
	if left > 0 {
		body = append(body, human.Count(left, "source")+" on nodes that are down stay as they are.")
	}
	if len(reqs) > 1 {
		body = append(body, "Each node clears its own.")
	}
	c := newConfirm(p.s, "Clear the penalties of "+human.Count(all, "source")+"?", "Clear "+strconv.Itoa(all), reqs[0], body...)
	c.also = reqs[1:]
	p.s.open(c)
}

// listSome lists the first n of names, then how many more.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + " and " + strconv.Itoa(len(names)-n) + " more"
}

// The clears, as actions (action.go): popd clears each source it has a
// penalty for. One that has none any more (quiet time forgot it, or
// someone cleared it meanwhile) is not cleared again: for one source that
// is said, for many it is no matter.
func clearOne(ctx context.Context, b Backend, r request) error {
	n, err := b.ClearPenalties(ctx, []string{r.target})
	if err == nil && n == 0 {
		err = errString("it has none any more")
	}
	return err
}

func clearAll(ctx context.Context, b Backend, r request) error {
	_, err := b.ClearPenalties(ctx, r.sources)
	return err
}

// penalties are every link's latest penalties, each with its node.
func (m *Model) penalties() []nodePenalty {
	var out []nodePenalty
	for _, l := range m.links {
		if l.got&fetchPenalties == 0 {
			continue
		}
		for _, pn := range l.penalties {
			out = append(out, nodePenalty{node: l.name, down: !l.connected, Penalty: pn})
		}
	}
	return out
}

// cmpSource orders sources by address, then prefix length.
func cmpSource(a, b *nodePenalty) int {
	pa, _ := netip.ParsePrefix(a.Source)
	pb, _ := netip.ParsePrefix(b.Source)
	if c := pa.Addr().Compare(pb.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(pa.Bits(), pb.Bits()); c != 0 {
		return c
	}
	return strings.Compare(a.Source, b.Source)
}

func newPenaltyTable() table[nodePenalty] {
	cols := []column[nodePenalty]{
		{title: "SOURCE", width: 19, prio: 10, // an IPv4 address or an IPv6 /48
			cell: func(r *nodePenalty, _ time.Time) string { return r.Source },
			cmp:  cmpSource},
		{title: "FAILURES", width: 9, right: true, prio: 9,
			cell: func(r *nodePenalty, _ time.Time) string { return strconv.Itoa(r.Failures) },
			cmp:  func(a, b *nodePenalty) int { return cmp.Compare(a.Failures, b.Failures) },
			kind: func(*nodePenalty) kind { return kErr }},
		{title: "LAST", width: 9, right: true, prio: 8,
			cell: func(r *nodePenalty, now time.Time) string { return human.Ago(now, r.Last) },
			// As an age: the latest first.
			cmp: func(a, b *nodePenalty) int { return b.Last.Compare(a.Last) }},
		{title: "DELAY", width: 6, right: true, prio: 7,
			cell: func(r *nodePenalty, _ time.Time) string { return human.Duration(r.Delay) },
			cmp:  func(a, b *nodePenalty) int { return cmp.Compare(a.Delay, b.Delay) }},
		{title: "USERS", width: 12, max: 8 * 16, prio: 6,
			cell: func(r *nodePenalty, _ time.Time) string {
				if len(r.Users) == 0 {
					return "-"
				}
				return r.users()
			},
			cmp: func(a, b *nodePenalty) int { return cmp.Compare(len(a.Users), len(b.Users)) }},
	}
	return table[nodePenalty]{
		key: func(r *nodePenalty) string { return ref(r.node, r.Source) },
		match: func(r *nodePenalty, q string) bool {
			return contains(r.Source, q) || contains(r.users(), q) || contains(r.node, q)
		},
		row: func(r *nodePenalty) kind {
			if r.down {
				return kMuted
			}
			return kText
		},
		cols: cols,
		sort: slices.IndexFunc(cols, func(c column[nodePenalty]) bool { return c.title == "FAILURES" }),
		desc: true,
	}
}
