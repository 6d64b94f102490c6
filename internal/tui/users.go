package tui

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// usersPage is the users of the passwd-file: add, set a password, delete,
// enable and disable.
type usersPage struct {
	tablePage[control.User]
	add, passwd, delete, toggle key.Binding
}

func newUsersPage(s *shared) page {
	return &usersPage{
		tablePage: tablePage[control.User]{s: s, t: newUserTable(), name: "Users", noun: "user", none: "no users"},
		add:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add")),
		passwd:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "password")),
		delete:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		toggle:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "enable/disable")),
	}
}

// Polls: listing users reads every maildrop, so only while on screen.
func (p *usersPage) Polls(shown bool) fetch {
	if shown || !p.loaded {
		return fetchUsers
	}
	return 0
}

func (p *usersPage) actions() []key.Binding {
	return []key.Binding{p.s.act(p.add), p.s.act(p.passwd), p.s.act(p.delete), p.s.act(p.toggle)}
}

func (p *usersPage) ShortHelp() []key.Binding  { return p.short(p.actions()...) }
func (p *usersPage) FullHelp() [][]key.Binding { return p.s.full(p.actions(), p.general()...) }

func (p *usersPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataMsg:
		if msg.got&fetchUsers != 0 {
			p.setData(msg.users)
		}
	case tea.MouseMsg:
		p.update(msg)
	case tea.KeyMsg:
		if !p.update(msg) {
			return p.key(msg)
		}
	}
	return nil
}

func (p *usersPage) key(msg tea.KeyMsg) tea.Cmd {
	act := p.s.act
	u := p.t.selected()
	switch {
	case key.Matches(msg, act(p.add)):
		p.s.open(newUserForm(p.s, actAdd, ""))
	case u == nil:
	case key.Matches(msg, act(p.passwd)):
		p.s.open(newUserForm(p.s, actPasswd, u.Name))
	case key.Matches(msg, act(p.delete)):
		c := newConfirm(p.s, "Delete user "+u.Name+"?", "Delete", request{act: actDelete, target: u.Name},
			"They can no longer log in; their mail ("+userSummary(u)+") is kept unless you tick the box.")
		c.check = "also delete their mail"
		p.s.open(c)
	case key.Matches(msg, act(p.toggle)):
		a := actDisable
		if u.Disabled {
			a = actEnable
		}
		return request{act: a, target: u.Name}.cmd()
	}
	return nil
}

func newUserTable() table[control.User] {
	return table[control.User]{
		key:   func(u *control.User) string { return u.Name },
		match: func(u *control.User, q string) bool { return contains(u.Name, q) || contains(u.Scheme, q) },
		row: func(u *control.User) kind {
			if u.Disabled {
				return kMuted
			}
			return kText
		},
		cols: []column[control.User]{
			{title: "NAME", width: 12, max: 32, prio: 10,
				cell: func(u *control.User, _ time.Time) string { return u.Name },
				cmp:  func(a, b *control.User) int { return strings.Compare(a.Name, b.Name) }},
			{title: "SCHEME", width: 12, prio: 4,
				cell: func(u *control.User, _ time.Time) string { return u.Scheme },
				cmp:  func(a, b *control.User) int { return strings.Compare(a.Scheme, b.Scheme) }},
			{title: "MSGS", width: 6, right: true, prio: 8,
				cell: func(u *control.User, _ time.Time) string { return strconv.Itoa(u.Messages) },
				cmp:  func(a, b *control.User) int { return cmp.Compare(a.Messages, b.Messages) }},
			{title: "SIZE", width: 6, right: true, prio: 8,
				cell: func(u *control.User, _ time.Time) string { return human.Bytes(u.Octets) },
				cmp:  func(a, b *control.User) int { return cmp.Compare(a.Octets, b.Octets) }},
			column[control.User]{title: "LOCKED", width: 6, prio: 7}.flag(
				func(u *control.User) bool { return u.Locked }, "locked", "-", kAccent, kMuted),
			{title: "LAST LOGIN", width: 10, prio: 6,
				cell: func(u *control.User, now time.Time) string { return human.Ago(now, u.LastLogin) },
				// Most recent first when ascending would surprise; oldest first is
				// what "sort by last login" finds stale accounts with.
				cmp: func(a, b *control.User) int { return a.LastLogin.Compare(b.LastLogin) }},
			column[control.User]{title: "ENABLED", width: 7, prio: 9}.flag(
				func(u *control.User) bool { return !u.Disabled }, "yes", "! no", kOK, kWarn),
		},
	}
}

// userSummary describes a user for a dialog.
func userSummary(u *control.User) string {
	s := fmt.Sprintf("%d messages, %s", u.Messages, human.Bytes(u.Octets))
	if u.Locked {
		s += ", maildrop locked"
	}
	return s
}
