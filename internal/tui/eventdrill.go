package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/event"
)

// Enter on an event opens its session in Sessions, its details open,
// when it is live (NODE/ID on a fleet); of one that has ended the status
// line says so, and why as its events tell: "session q3k9-12 has ended
// (quit)". After any jump (an event's session, a lock's holder, a user's
// session: drill.go) esc goes back to the page it came from, as it was:
// the Events view on the same event, the details pane as it was.

// sessionKey is enter on the Events page.
var sessionKey = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "its session"))

// openSession is enter on an event.
func (p *eventsPage) openSession() tea.Cmd {
	r := p.selected()
	switch {
	case r == nil, r.notice:
		return nil
	case r.e.Session == "":
		p.s.say("a "+string(r.e.Type)+" event names no session", kWarn)
		return nil
	}
	id := ref(r.node, r.e.Session)
	if why, ended := p.ended(r.node, r.e.Session); ended {
		msg := "session " + id + " has ended"
		if why != "" {
			msg += " (" + why + ")"
		}
		p.s.say(msg, kWarn)
		return nil
	}
	// Come back to this event, not to the newest.
	p.follow = false
	return jumpOp{page: "Sessions", key: id, what: "session " + id, gone: "session " + id + " has ended"}.cmd()
}

// ended says whether the events kept tell that a session has ended, and
// why: "kicked by uid 0", else its session.closed's reason ("quit").
func (p *eventsPage) ended(node, id string) (why string, ended bool) {
	for _, rows := range [][]evRow{p.rows, p.pending} {
		for i := range rows {
			e := &rows[i].e
			if e.Session != id || rows[i].node != node {
				continue
			}
			switch e.Type {
			case event.Kicked:
				why, ended = "kicked", true
				if e.By != "" {
					why += " by " + e.By
				}
				return why, ended
			case event.SessionClosed:
				why, ended = e.Reason, true
			}
		}
	}
	return why, ended
}

// back is where esc goes after a jump: the page it came from, and how to
// put the page jumped to back as it was.
type back struct {
	page int
	undo func()
}

// undoer is a page a jump changes beyond its selection (the Sessions
// page opens its details pane): undo puts it back as it was now.
type undoer interface{ undo() func() }

func undoFor(p page) func() {
	if u, ok := p.(undoer); ok {
		return u.undo()
	}
	return func() {}
}

// jumped puts page i on screen after a jump, esc to come back.
func (m *Model) jumped(i int, undo func()) tea.Cmd {
	from := m.cur
	cmd := m.setPage(i) // forgets any earlier way back
	if from != i {
		m.back = &back{page: from, undo: undo}
	}
	return cmd
}

// goBack is esc after a jump: the page jumped to as it was, and the one
// it came from on screen. false when there was no jump, or other keys
// changed the page since.
func (m *Model) goBack() (tea.Cmd, bool) {
	b := m.back
	if b == nil {
		return nil, false
	}
	b.undo()
	return m.setPage(b.page), true
}

// undo implements undoer: the details pane as it is now.
func (p *sessionsPage) undo() func() {
	was := p.panel
	return func() {
		p.panel.set, p.panel.open = was.set, was.open
		if !p.paneOpen() {
			p.dropClosed()
		}
		p.SetSize(p.width, p.height)
	}
}
