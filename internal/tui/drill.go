package tui

import (
	"context"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// Drill-downs (k9s's xray): enter on a user opens what popd knows of them
// (userdrill.go); enter on a lock, or on a session of a user, goes to the
// session in the Sessions page with its details open. Esc comes back.
//
// What a page asks of the frame for them it sends as a frameOp.

// frameOp is a message a page sends for the Model to carry out on the
// frame: switching pages, asking popd on every node.
type frameOp interface {
	apply(m *Model) tea.Cmd
}

// revealer is a page that can show one of its rows, opened: the end of a
// drill-down.
type revealer interface {
	// Reveal selects the row of key, clearing a filter that hides it,
	// and opens its details; false when there is no such row.
	Reveal(key string) bool
}

// jumpOp puts the page named page on screen, at the row of key; esc
// then comes back (eventdrill.go).
type jumpOp struct {
	page string // the page's Name
	key  string // the row's key: a session's ref
	what string // the row, for people: "session pop2/7"
	gone string // said when there is no such row; "": what "is not listed: it has ended"
}

func (j jumpOp) cmd() tea.Cmd { return func() tea.Msg { return j } }

func (j jumpOp) apply(m *Model) tea.Cmd {
	for i, p := range m.pages {
		r, ok := p.(revealer)
		if !ok || p.Name() != j.page {
			continue
		}
		undo := undoFor(p)
		if !r.Reveal(j.key) {
			if j.gone == "" {
				j.gone = j.what + " is not listed: it has ended"
			}
			m.s.say(j.gone, kWarn)
			return nil
		}
		return m.jumped(i, undo)
	}
	return nil
}

// Reveal implements revealer: the session of ref, its details pane open.
func (p *sessionsPage) Reveal(ref string) bool {
	if !slices.ContainsFunc(p.t.all, func(r sessRow) bool { return r.ref() == ref }) {
		return false
	}
	if !p.t.selectKey(ref) {
		p.SetFilter("") // the filter hides it
		p.t.selectKey(ref)
	}
	if !p.paneOpen() {
		p.togglePane()
	}
	return true
}

// selectKey selects the row of key, if it is shown.
func (t *table[T]) selectKey(key string) bool {
	for i, r := range t.rows {
		if t.key(r) == key {
			t.moveTo(i)
			return true
		}
	}
	return false
}

// userDetailer is a Backend that gives one user's details
// (*control.Client).
type userDetailer interface {
	UserDetails(ctx context.Context, name string) (control.UserDetails, error)
}

// userDeleter is a Backend that deletes a user with options
// (*control.Client): keeping their sessions.
type userDeleter interface {
	DeleteUserWith(ctx context.Context, name string, opt control.DeleteOptions) error
}

const errNoDetails = errString("this popd does not give a user's details")

// userQuery asks every node that is up for a user's details.
type userQuery struct{ name string }

func (q userQuery) cmd() tea.Cmd { return func() tea.Msg { return q } }

// userDetailMsg is one node's answer to a userQuery.
type userDetailMsg struct {
	node, name string
	d          control.UserDetails
	err        error
}

func (q userQuery) apply(m *Model) tea.Cmd {
	var cmds []tea.Cmd
	for _, l := range m.links {
		if !l.connected {
			continue
		}
		b, ctx, node, name := l.backend, l.connCtx, l.name, q.name
		cmds = append(cmds, func() tea.Msg {
			ud, ok := b.(userDetailer)
			if !ok {
				return userDetailMsg{node: node, name: name, err: errNoDetails}
			}
			ctx, cancel := context.WithTimeout(ctx, pollTimeout)
			defer cancel()
			d, err := ud.UserDetails(ctx, name)
			cleanDetails(&d)
			return userDetailMsg{node: node, name: name, d: d, err: err}
		})
	}
	return tea.Batch(cmds...)
}

// cleanDetails makes what popd said terminal-safe, as cleanPoll does.
func cleanDetails(d *control.UserDetails) {
	c := human.Clean
	d.Name, d.Scheme, d.LastLoginFrom, d.LastLoginMethod = c(d.Name), c(d.Scheme), c(d.LastLoginFrom), c(d.LastLoginMethod)
	if l := d.Lock; l != nil {
		l.User, l.Session, l.Owner, l.Host = c(l.User), c(l.Session), c(l.Owner), c(l.Host)
	}
	d.Sessions = nil // the dashboard lists the sessions it polls
}

// deleteUser is actDelete: their sessions kept when asked (and no purge,
// which ends them).
func deleteUser(ctx context.Context, b Backend, r request) error {
	if !r.keep || r.purge {
		return b.DeleteUser(ctx, r.target, r.purge)
	}
	d, ok := b.(userDeleter)
	if !ok {
		return errString("this popd cannot keep a deleted user's sessions")
	}
	return d.DeleteUserWith(ctx, r.target, control.DeleteOptions{KeepSessions: true})
}

// holderKey is enter on the Locks page.
var holderKey = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "its session"))

// openHolder is enter on a lock: the session that holds it, in Sessions.
func (p *locksPage) openHolder() tea.Cmd {
	l := p.t.selected()
	switch {
	case l == nil:
		return nil
	case l.Session == "":
		p.s.say("held by "+holder(l)+", not a session of popd", kWarn)
		return nil
	}
	return jumpOp{page: "Sessions", key: ref(l.node, l.Session), what: "session " + ref(l.node, l.Session)}.cmd()
}

// lastLoginText says when and how a user last logged in, from details
// (on a fleet, the latest of the nodes').
func lastLoginText(at time.Time, now time.Time, loc *time.Location, from, method, node string) string {
	if at.IsZero() {
		return "never"
	}
	s := human.Ago(now, at) + " (" + at.In(loc).Format("2006-01-02 15:04:05") + ")"
	if from != "" {
		s += " from " + from
	}
	if method != "" {
		s += " by " + method
	}
	if node != "" {
		s += " on " + node
	}
	return s
}
