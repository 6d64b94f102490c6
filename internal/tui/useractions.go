package tui

import (
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// A user's delete and disable know their live sessions: the dialogs say
// how many are open and offer to end them too ("[x] also end them": on for
// a delete, off for a disable). A purge of their mail ends the session
// that holds the maildrop first (popd does), so it never refuses once
// confirmed; a lock held by something else the dialog says.

// liveSessions are u's sessions as last polled, but those of a node that
// is down.
func (p *usersPage) liveSessions(name string) []nodeSession {
	var out []nodeSession
	for _, s := range p.sessions {
		if s.User == name && !s.down {
			out = append(out, s)
		}
	}
	return out
}

// sessionsText says how many sessions name has open, and which.
func sessionsText(name string, ss []nodeSession) string {
	if len(ss) == 0 {
		return name + " has no session open."
	}
	var which []string
	for i, s := range ss {
		if i == 3 {
			which = append(which, human.Count(len(ss)-3, "more"))
			break
		}
		which = append(which, s.ref()+" from "+s.Remote)
	}
	return name + " has " + human.Count(len(ss), "session") + " open: " + strings.Join(which, ", ") + "."
}

// lockHolder is the session of ss that holds the maildrop, or nil.
func lockHolder(ss []nodeSession) *nodeSession {
	for i := range ss {
		if ss[i].Locked {
			return &ss[i]
		}
	}
	return nil
}

// askDelete opens the delete dialog: their mail kept unless ticked,
// their sessions ended unless unticked. On a fleet it goes to the node
// whose session holds the maildrop, which ends it before a purge.
func (p *usersPage) askDelete(u *control.User) {
	ss := p.liveSessions(u.Name)
	body := []string{
		"They can no longer log in; their mail (" + userSummary(u) + ") is kept unless you tick the box.",
		sessionsText(u.Name, ss),
	}
	req := request{act: actDelete, target: u.Name}
	switch h := lockHolder(ss); {
	case h != nil:
		body = append(body, "Session "+h.ref()+" holds their maildrop: deleting their mail ends it first.")
		req.node = h.node
	case u.Locked:
		body = append(body, "Their maildrop is locked, by no session of popd: their mail cannot be deleted until it is unlocked (Locks).")
	}
	c := newConfirm(p.s, "Delete user "+u.Name+"?", "Delete", req, body...)
	c.boxes = []checkbox{{label: "also delete their mail", set: func(r *request, on bool) { r.purge = on }}}
	if len(ss) > 0 {
		// The node the delete goes to ends its sessions itself; those on
		// other nodes (there are none while the maildrops are shared: a
		// session logged in holds the lock) are asked for once it is done.
		elsewhere := slices.ContainsFunc(ss, func(s nodeSession) bool { return s.node != req.node })
		c.boxes = append(c.boxes, checkbox{label: "also end them", on: true, set: func(r *request, on bool) {
			r.keep, r.endSessions = !on, on && elsewhere
		}})
	}
	p.s.open(c)
}

// toggleUser is e: enable at once; disable at once too, unless the user
// has sessions open: then the dialog asks whether to end them as well.
func (p *usersPage) toggleUser(u *control.User) tea.Cmd {
	if u.Disabled {
		return request{act: actEnable, target: u.Name}.cmd()
	}
	ss := p.liveSessions(u.Name)
	if len(ss) == 0 {
		return request{act: actDisable, target: u.Name}.cmd()
	}
	c := newConfirm(p.s, "Disable user "+u.Name+"?", "Disable", request{act: actDisable, target: u.Name},
		"They can no longer log in; e enables them again.",
		sessionsText(u.Name, ss)+" They go on unless you tick the box.")
	c.boxes = []checkbox{{label: "also end them", set: func(r *request, on bool) { r.endSessions = on }}}
	p.s.open(c)
	return nil
}

// done: once a user is disabled or deleted, their sessions are ended, if
// asked, on every node that is up, by one request each that picks them
// in popd (kick_select), not from the screen.
func (p *usersPage) done(d doneMsg) tea.Cmd {
	r := d.req
	if d.err != nil || !r.endSessions || (r.act != actDisable && r.act != actDelete) {
		return nil
	}
	return killReq{every: &control.Selector{User: r.target}, what: "user " + r.target}.cmd()
}
