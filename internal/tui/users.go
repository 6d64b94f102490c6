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
// enable and disable (useractions.go); enter drills down into one
// (userdrill.go), esc comes back.
type usersPage struct {
	tablePage[control.User]
	add, passwd, delete, toggle, open key.Binding
	sessions                          []nodeSession // the latest poll's, for the drill and the dialogs
	drill                             *userDrill    // open on a user; nil for the list
}

func newUsersPage(s *shared) page {
	p := &usersPage{
		tablePage: tablePage[control.User]{s: s, t: newUserTable(), name: "Users", noun: "user", none: "no users"},
		add:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add")),
		passwd:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "password")),
		delete:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		toggle:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "enable/disable")),
		open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
	}
	p.tagRows(nil) // usertags.go
	return p
}

// Polls: listing users reads every maildrop, so only while on screen.
func (p *usersPage) Polls(shown bool) fetch {
	if shown || !p.loaded {
		return fetchUsers
	}
	return 0
}

func (p *usersPage) actions() []key.Binding {
	return []key.Binding{p.s.act(p.add), p.s.act(p.passwd), p.s.act(p.delete), p.toggleKey()}
}

func (p *usersPage) ShortHelp() []key.Binding {
	if d := p.drill; d != nil {
		k := &p.s.keys
		return append(d.keys(), p.s.act(p.delete), p.s.act(p.toggle), hint("esc", "back"), k.Views, k.Help, k.Quit)
	}
	if len(p.t.tags) > 0 {
		return p.short(p.toggleKey(), p.untag, p.open)
	}
	return p.short(append(p.actions(), p.open)...)
}

func (p *usersPage) FullHelp() [][]key.Binding {
	if d := p.drill; d != nil {
		return p.s.full(append(d.keys(), p.actions()...), hint("esc", "back to the users"))
	}
	return p.s.full(p.actions(), append([]key.Binding{p.open}, p.general()...)...)
}

func (p *usersPage) Status() []string {
	if p.drill != nil {
		return p.drill.status()
	}
	return p.tablePage.Status()
}

func (p *usersPage) SetSize(w, h int) {
	p.tablePage.SetSize(w, h)
	if p.drill != nil {
		p.drill.SetSize(w, h)
	}
}

func (p *usersPage) View() string {
	if p.drill != nil {
		return p.drill.View()
	}
	return p.tablePage.View()
}

// SetFilter filters the users; a filter typed in the drill-down goes
// back to the list it filters.
func (p *usersPage) SetFilter(q string) {
	if q != p.t.filter {
		p.drill = nil
	}
	p.tablePage.SetFilter(q)
}

// Back closes the drill-down (esc), if it is open (backer).
func (p *usersPage) Back() bool {
	if p.drill == nil {
		return false
	}
	p.drill = nil
	return true
}

func (p *usersPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataMsg:
		if msg.got&fetchSessions != 0 {
			p.sessions = msg.sessions
		}
		if msg.got&fetchUsers != 0 {
			p.setData(msg.users)
		}
		if d := p.drill; d != nil {
			d.setData(msg.users, msg.got&fetchUsers != 0, msg.sessions, msg.got&fetchSessions != 0)
			if msg.got&fetchUsers != 0 {
				return userQuery{name: d.name}.cmd() // the details, as fresh as the list
			}
		}
	case manyDoneMsg:
		p.manyDone(msg)
	case userDetailMsg:
		if d := p.drill; d != nil && msg.name == d.name {
			d.setDetails(msg)
		}
	case doneMsg:
		return p.done(msg)
	case tea.MouseMsg:
		if p.drill != nil {
			p.drill.mouse(msg)
		} else {
			p.update(msg)
		}
	case tea.KeyMsg:
		if d := p.drill; d != nil {
			if cmd, ok := d.key(msg); ok {
				return cmd
			}
			return p.key(msg, d.user)
		}
		if p.update(msg) {
			return nil
		}
		if u := p.t.selected(); u != nil && key.Matches(msg, p.open) {
			return p.openDrill(*u)
		}
		return p.key(msg, p.t.selected())
	}
	return nil
}

// openDrill drills down into u.
func (p *usersPage) openDrill(u control.User) tea.Cmd {
	p.drill = newUserDrill(p.s, u)
	p.drill.setData(nil, false, p.sessions, true)
	p.drill.SetSize(p.w, p.h)
	return userQuery{name: u.Name}.cmd()
}

// key takes the account's keys, for u: the selected user, or the one
// drilled into (nil: none).
func (p *usersPage) key(msg tea.KeyMsg, u *control.User) tea.Cmd {
	act := p.s.act
	switch {
	case key.Matches(msg, act(p.add)):
		p.s.open(newUserForm(p.s, actAdd, ""))
	case u == nil:
	case key.Matches(msg, act(p.passwd)):
		p.s.open(newUserForm(p.s, actPasswd, u.Name))
	case key.Matches(msg, act(p.delete)):
		p.askDelete(u)
	case key.Matches(msg, act(p.toggle)) && p.drill == nil && len(p.t.tags) > 0:
		p.askToggleTagged()
	case key.Matches(msg, act(p.toggle)):
		return p.toggleUser(u)
	}
	return nil
}

func newUserTable() table[control.User] {
	return table[control.User]{
		key: func(u *control.User) string { return u.Name },
		match: func(u *control.User, q string) bool {
			return contains(u.Name, q) || contains(u.Scheme, q) || u.Disabled && strings.Contains("disabled", q)
		},
		row: func(u *control.User) kind {
			if u.Disabled {
				return kMuted
			}
			return kText
		},
		// As popadm user list says them (vocab.go).
		cols: []column[control.User]{
			{title: "NAME", width: 12, max: 32, prio: 10,
				cell: func(u *control.User, _ time.Time) string { return u.Name },
				cmp:  func(a, b *control.User) int { return strings.Compare(a.Name, b.Name) }},
			{title: "SCHEME", width: 12, prio: 4,
				cell: func(u *control.User, _ time.Time) string { return u.Scheme },
				cmp:  func(a, b *control.User) int { return strings.Compare(a.Scheme, b.Scheme) }},
			column[control.User]{title: "STATUS", width: 8, prio: 9}.flag(
				func(u *control.User) bool { return !u.Disabled }, "enabled", "disabled", kOK, kWarn),
			{title: "MSGS", width: 6, right: true, prio: 8,
				cell: func(u *control.User, _ time.Time) string { return strconv.Itoa(u.Messages) },
				cmp:  func(a, b *control.User) int { return cmp.Compare(a.Messages, b.Messages) }},
			{title: "SIZE", width: 6, right: true, prio: 8,
				cell: func(u *control.User, _ time.Time) string { return human.Bytes(u.Octets) },
				cmp:  func(a, b *control.User) int { return cmp.Compare(a.Octets, b.Octets) }},
			column[control.User]{title: "LOCKED", width: 6, prio: 7}.flag(
				func(u *control.User) bool { return u.Locked }, "yes", "no", kAccent, kMuted),
			{title: "LAST LOGIN", width: 10, prio: 6,
				cell: func(u *control.User, now time.Time) string { return human.Ago(now, u.LastLogin) },
				// Most recent first when ascending would surprise; oldest first is
				// what "sort by last login" finds stale accounts with.
				cmp: func(a, b *control.User) int { return a.LastLogin.Compare(b.LastLogin) }},
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
