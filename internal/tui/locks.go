package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// locksPage is the maildrop locks, of this popd's sessions and of other
// processes, and the unlock.
type locksPage struct {
	tablePage[nodeLock]
	unlock key.Binding
	fresh  bool // the last poll listed the locks (only done while on screen)
}

func newLocksPage(s *shared) page {
	p := &locksPage{
		tablePage: tablePage[nodeLock]{s: s, t: newLockTable(), name: "Locks", noun: "lock", none: "no maildrop is locked"},
		unlock:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "unlock")),
	}
	if s.fleet() {
		p.t.cols = append([]column[nodeLock]{nodeColumn(s, func(l *nodeLock) string { return l.node },
			func(a, b *nodeLock) int { return strings.Compare(a.User, b.User) })}, p.t.cols...)
	}
	return p
}

// Polls: listing locks looks at every maildrop, so only while on screen.
func (p *locksPage) Polls(shown bool) fetch {
	if shown || !p.loaded {
		return fetchLocks
	}
	return 0
}

// Badge: locks come and go, so their count shows only while it is fresh.
func (p *locksPage) Badge() string {
	if !p.fresh {
		return ""
	}
	return p.tablePage.Badge()
}

func (p *locksPage) ShortHelp() []key.Binding { return p.short(p.s.act(p.unlock), holderKey) }

func (p *locksPage) FullHelp() [][]key.Binding {
	return p.s.full([]key.Binding{p.s.act(p.unlock)}, append([]key.Binding{holderKey}, p.general()...)...)
}

func (p *locksPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataMsg:
		p.fresh = msg.got&fetchLocks != 0
		if p.fresh {
			p.setData(msg.locks)
		}
	case tea.MouseMsg:
		p.update(msg)
	case tea.KeyMsg:
		switch {
		case p.update(msg):
		case key.Matches(msg, p.s.act(p.unlock)):
			p.askUnlock()
		case key.Matches(msg, holderKey):
			return p.openHolder() // drill.go
		}
	}
	return nil
}

// askUnlock opens the confirmation for the selected lock.
func (p *locksPage) askUnlock() {
	l := p.t.selected()
	if l == nil {
		return
	}
	body := []string{"Held by " + holder(l) + " for " + human.Duration(p.s.now().Sub(l.Since)) + "."}
	if !l.Stale {
		body = append(body, "It is not stale: its holder may still be working on the maildrop.")
	}
	if l.node != "" {
		body = append(body, "Node "+l.node+" unlocks it.")
	}
	p.s.open(newConfirm(p.s, "Unlock the maildrop of "+l.User+"?", "Unlock", request{act: actUnlock, target: l.User, node: l.node}, body...))
}

// holder says who holds a lock: a session of a popd, or a process.
func holder(l *nodeLock) string {
	if l.Session != "" {
		return "session " + ref(l.node, l.Session)
	}
	if l.Host == "" && l.PID == 0 {
		return l.Owner
	}
	return fmt.Sprintf("%s@%s pid %d", l.Owner, l.Host, l.PID)
}

func newLockTable() table[nodeLock] {
	return table[nodeLock]{
		key: func(l *nodeLock) string { return l.User },
		match: func(l *nodeLock, q string) bool {
			return contains(l.User, q) || contains(holder(l), q) || l.Stale && strings.Contains("stale", q)
		},
		row: func(l *nodeLock) kind {
			if l.down {
				return kMuted
			}
			return kText
		},
		cols: []column[nodeLock]{
			{title: "USER", width: 12, max: 32, prio: 10,
				cell: func(l *nodeLock, _ time.Time) string { return l.User },
				cmp:  func(a, b *nodeLock) int { return strings.Compare(a.User, b.User) }},
			{title: "HOLDER", width: 14, max: 48, prio: 9,
				cell: func(l *nodeLock, _ time.Time) string { return holder(l) },
				cmp:  func(a, b *nodeLock) int { return strings.Compare(holder(a), holder(b)) }},
			{title: "AGE", width: 6, right: true, prio: 8,
				cell: func(l *nodeLock, now time.Time) string { return human.Duration(now.Sub(l.Since)) },
				cmp:  func(a, b *nodeLock) int { return b.Since.Compare(a.Since) }},
			{title: "REFRESHED", width: 10, right: true, prio: 6,
				cell: func(l *nodeLock, now time.Time) string {
					if l.Refreshed.IsZero() {
						return "-"
					}
					return human.Duration(now.Sub(l.Refreshed)) + " ago"
				},
				cmp: func(a, b *nodeLock) int { return b.Refreshed.Compare(a.Refreshed) }},
			column[nodeLock]{title: "STALE", width: 7, prio: 9}.flag(
				func(l *nodeLock) bool { return l.Stale }, "! stale", "no", kWarn, kMuted),
		},
	}
}
