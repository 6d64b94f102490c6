package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// locksPage is the maildrop locks, of this popd's sessions and of other
// processes, and the unlock.
type locksPage struct {
	tablePage[control.Lock]
	unlock key.Binding
	fresh  bool // the last poll listed the locks (only done while on screen)
}

func newLocksPage(s *shared) page {
	return &locksPage{
		tablePage: tablePage[control.Lock]{s: s, t: newLockTable(), name: "Locks", noun: "lock", none: "no maildrop is locked"},
		unlock:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "unlock")),
	}
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

func (p *locksPage) ShortHelp() []key.Binding { return p.short(p.s.act(p.unlock)) }

func (p *locksPage) FullHelp() [][]key.Binding {
	return p.s.full([]key.Binding{p.s.act(p.unlock)}, p.general()...)
}

func (p *locksPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pollMsg:
		p.fresh = msg.got&fetchLocks != 0
		if p.fresh {
			p.setData(msg.locks)
		}
	case tea.MouseMsg:
		p.update(msg)
	case tea.KeyMsg:
		if !p.update(msg) && key.Matches(msg, p.s.act(p.unlock)) {
			p.askUnlock()
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
	p.s.open(newConfirm(p.s, "Unlock the maildrop of "+l.User+"?", "Unlock", request{act: actUnlock, target: l.User}, body...))
}

// holder says who holds a lock: a session of this popd, or a process.
func holder(l *control.Lock) string {
	if l.Session != "" {
		return "session " + l.Session
	}
	if l.Host == "" && l.PID == 0 {
		return l.Owner
	}
	return fmt.Sprintf("%s@%s pid %d", l.Owner, l.Host, l.PID)
}

func newLockTable() table[control.Lock] {
	return table[control.Lock]{
		key: func(l *control.Lock) string { return l.User },
		match: func(l *control.Lock, q string) bool {
			return contains(l.User, q) || contains(holder(l), q) || l.Stale && strings.Contains("stale", q)
		},
		cols: []column[control.Lock]{
			{title: "USER", width: 12, max: 32, prio: 10,
				cell: func(l *control.Lock, _ time.Time) string { return l.User },
				cmp:  func(a, b *control.Lock) int { return strings.Compare(a.User, b.User) }},
			{title: "HOLDER", width: 14, max: 48, prio: 9,
				cell: func(l *control.Lock, _ time.Time) string { return holder(l) },
				cmp:  func(a, b *control.Lock) int { return strings.Compare(holder(a), holder(b)) }},
			{title: "AGE", width: 6, right: true, prio: 8,
				cell: func(l *control.Lock, now time.Time) string { return human.Duration(now.Sub(l.Since)) },
				cmp:  func(a, b *control.Lock) int { return b.Since.Compare(a.Since) }},
			{title: "REFRESHED", width: 10, right: true, prio: 6,
				cell: func(l *control.Lock, now time.Time) string {
					if l.Refreshed.IsZero() {
						return "-"
					}
					return human.Duration(now.Sub(l.Refreshed)) + " ago"
				},
				cmp: func(a, b *control.Lock) int { return b.Refreshed.Compare(a.Refreshed) }},
			column[control.Lock]{title: "STALE", width: 7, prio: 9}.flag(
				func(l *control.Lock) bool { return l.Stale }, "! stale", "no", kWarn, kMuted),
		},
	}
}
