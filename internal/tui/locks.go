package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// locksPage is the maildrop locks, of this popd's sessions and of other
// processes, and the unlock.
type locksPage struct {
	onScreen[nodeLock] // listing locks looks at every maildrop
	unlock             key.Binding
}

func newLocksPage(s *shared) page {
	p := &locksPage{
		onScreen: onScreen[nodeLock]{what: fetchLocks,
			tablePage: tablePage[nodeLock]{s: s, t: newLockTable(), name: "Locks", noun: "lock", none: "no maildrop is locked"}},
		unlock: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "unlock")),
	}
	if s.fleet() {
		p.t.cols = append([]column[nodeLock]{nodeColumn(s, func(l *nodeLock) string { return l.node },
			func(a, b *nodeLock) int { return strings.Compare(a.User, b.User) })}, p.t.cols...)
	}
	p.tagRows(func(l *nodeLock) bool { return !l.down }) // locktags.go
	return p
}

func (p *locksPage) ShortHelp() []key.Binding {
	if len(p.t.tags) > 0 {
		return p.short(p.unlockKey(), p.untag, holderKey)
	}
	return p.short(p.unlockKey(), holderKey)
}

func (p *locksPage) FullHelp() [][]key.Binding {
	return p.s.full([]key.Binding{p.unlockKey()}, append([]key.Binding{holderKey}, p.general()...)...)
}

func (p *locksPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataMsg:
		if msg.between {
			break // the sessions alone
		}
		p.take(msg, msg.locks)
	case manyDoneMsg:
		p.manyDone(msg)
	case tea.MouseMsg:
		p.update(msg)
	case tea.KeyMsg:
		switch {
		case p.update(msg):
		case key.Matches(msg, p.s.act(p.unlock)) && len(p.t.tags) > 0:
			p.askUnlockTagged()
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

// holder says who holds a lock, as popadm locks does (control.Lock's
// Holder): a session of a popd (pop2/7 on a fleet), or a process.
func holder(l *nodeLock) string {
	if l.Session != "" {
		return "session " + ref(l.node, l.Session)
	}
	return l.Holder()
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
			// As popadm locks says them (vocab.go).
			{title: "AGE", width: 6, right: true, prio: 8,
				cell: func(l *nodeLock, now time.Time) string { return human.Since(now, l.Since) },
				cmp:  func(a, b *nodeLock) int { return b.Since.Compare(a.Since) }},
			{title: "REFRESHED", width: 10, right: true, prio: 6,
				cell: func(l *nodeLock, now time.Time) string { return human.Ago(now, l.Refreshed) },
				cmp:  func(a, b *nodeLock) int { return b.Refreshed.Compare(a.Refreshed) }},
			column[nodeLock]{title: "STALE", width: 5, prio: 9}.flag(
				func(l *nodeLock) bool { return l.Stale }, "yes", "no", kWarn, kMuted),
		},
	}
}
