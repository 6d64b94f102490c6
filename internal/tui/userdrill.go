package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// userDrill is the Users page's drill-down into one user (enter): their
// account, their maildrop and who holds its lock, their last login, and
// their live sessions, which enter opens in Sessions and K kicks. The
// account's keys (d, e, p) act on them; esc closes it. The maildrop, lock
// and last login come from popd (the "user" method, asked at each poll
// while open: on a fleet every node, the latest login and the lock's
// holder kept); the sessions are the dashboard's own, as Sessions lists
// them.
type userDrill struct {
	s       *shared
	name    string
	user    *control.User                  // their line of the users list; nil once gone
	details map[string]control.UserDetails // by node ("" for the one popd)
	errs    map[string]error
	list    tablePage[sessRow]
	open    key.Binding // enter: the session, in Sessions
	kick    key.Binding
	w, h    int
}

// drillHead is the lines above the sessions: the title, the facts
// (drillFacts), a blank line and the sessions' title.
const (
	drillFacts = 4
	drillHead  = 1 + drillFacts + 2
)

func newUserDrill(s *shared, u control.User) *userDrill {
	t := newSessionTable()
	t.cols = slices.DeleteFunc(t.cols, func(c column[sessRow]) bool { return c.title == "USER" })
	if s.fleet() {
		t.cols = append([]column[sessRow]{nodeColumn(s, func(r *sessRow) string { return r.node },
			func(a, b *sessRow) int { return human.Natural(a.ID, b.ID) })}, t.cols...)
	}
	return &userDrill{
		s: s, name: u.Name, user: &u,
		details: map[string]control.UserDetails{}, errs: map[string]error{},
		list: tablePage[sessRow]{s: s, t: t, name: "Users", noun: "session", none: "no session open", loaded: true},
		open: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to session")),
		kick: key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kick")),
	}
}

// setData takes the users list and the sessions of a poll (nil: not in
// this poll).
func (d *userDrill) setData(users []control.User, usersGot bool, sessions []nodeSession, sessionsGot bool) {
	if usersGot {
		d.user = nil
		if i := slices.IndexFunc(users, func(u control.User) bool { return u.Name == d.name }); i >= 0 {
			u := users[i]
			d.user = &u
		}
	}
	if sessionsGot {
		var rows []sessRow
		idw := 4 // as in Sessions: the ids are never cut
		for _, s := range sessions {
			if s.User == d.name {
				rows = append(rows, sessRow{nodeSession: s})
				idw = max(idw, len(s.ID)+1)
			}
		}
		if i := slices.IndexFunc(d.list.t.cols, func(c column[sessRow]) bool { return c.title == "ID" }); i >= 0 {
			d.list.t.cols[i].width, d.list.t.cols[i].max = idw, idw
		}
		d.list.setData(rows)
	}
}

func (d *userDrill) setDetails(m userDetailMsg) {
	if m.err != nil {
		d.errs[m.node] = m.err
		delete(d.details, m.node)
		return
	}
	delete(d.errs, m.node)
	d.details[m.node] = m.d
}

func (d *userDrill) SetSize(w, h int) {
	d.w, d.h = w, h
	d.list.SetSize(w, max(h-drillHead, 1))
}

// sessions are the user's live sessions, as listed.
func (d *userDrill) sessions() []*sessRow { return d.list.t.rows }

// key takes the keys that are the drill's own; ok is false for the
// others (the account's, the frame's).
func (d *userDrill) key(msg tea.KeyMsg) (cmd tea.Cmd, ok bool) {
	if d.list.update(msg) {
		return nil, true
	}
	r := d.list.t.selected()
	switch {
	case key.Matches(msg, d.open):
		if r != nil {
			return jumpOp{page: "Sessions", key: r.ref(), what: "session " + r.ref()}.cmd(), true
		}
		return nil, true
	case key.Matches(msg, d.s.act(d.kick)):
		if r != nil {
			d.askKick(r)
		}
		return nil, true
	}
	return nil, false
}

// mouse: y counts from the drill's first line.
func (d *userDrill) mouse(msg tea.MouseMsg) {
	msg.Y -= drillHead // the list's titles are its line 0
	d.list.update(msg)
}

func (d *userDrill) askKick(r *sessRow) {
	if !r.live() {
		return
	}
	d.s.open(newConfirm(d.s, "Kick session "+r.ref()+"?", "Kick", request{act: actKick, target: r.ID, node: r.node},
		d.name+" from "+r.Remote+", connected "+human.Duration(d.s.clock().Sub(r.Since))+".",
		"The connection is closed without UPDATE: no mail is deleted."))
}

// keys are the drill's keys for the help.
func (d *userDrill) keys() []key.Binding {
	return []key.Binding{d.open, d.s.act(d.kick)}
}

// latest is the details of the node that saw the last login, and that
// node ("" for the one popd); ok is false before any came.
func (d *userDrill) latest() (ud control.UserDetails, node string, ok bool) {
	for _, n := range d.nodeOrder() {
		x := d.details[n]
		if !ok || x.LastLogin.After(ud.LastLogin) {
			ud, node, ok = x, n, true
		}
	}
	return ud, node, ok
}

// nodeOrder is the nodes that answered, in the fleet's order.
func (d *userDrill) nodeOrder() []string {
	if !d.s.fleet() {
		if _, ok := d.details[""]; ok {
			return []string{""}
		}
		return nil
	}
	var out []string
	for _, n := range d.s.nodes {
		if _, ok := d.details[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// lock is the maildrop's lock as the nodes saw it: the one a node's
// session holds, else any; nil when none is held.
func (d *userDrill) lock() *nodeLock {
	var out *nodeLock
	for _, n := range d.nodeOrder() {
		if l := d.details[n].Lock; l != nil && (out == nil || out.Session == "" && l.Session != "") {
			out = &nodeLock{node: n, Lock: *l}
		}
	}
	return out
}

// fact is a line under the title: a label, and a value in its colour.
type fact struct {
	label, value string
	k            kind
}

// facts are the lines under the title.
func (d *userDrill) facts(now time.Time) []fact {
	var out []fact
	add := func(label, value string, k kind) { out = append(out, fact{label, value, k}) }
	u := d.user
	latest, node, have := d.latest()
	switch {
	case u != nil:
	case have:
		u = &latest.User
	default:
		add("Account", "no longer in the users file", kWarn)
		return out
	}
	if u.Disabled {
		add("Account", "disabled · "+u.Scheme, kWarn)
	} else {
		add("Account", "enabled · "+u.Scheme, kText)
	}
	msgs, size := u.Messages, u.Octets
	if have {
		msgs, size = latest.Messages, latest.Octets
	}
	add("Maildrop", fmt.Sprintf("%s, %s", human.Count(msgs, "message"), human.Bytes(size)), kText)
	add("Lock", d.lockText(now, have), kText)
	at, from, method := u.LastLogin, "", ""
	if have && !latest.LastLogin.Before(at) {
		at, from, method = latest.LastLogin, latest.LastLoginFrom, latest.LastLoginMethod
	} else {
		node = ""
	}
	add("Last login", lastLoginText(at, now, d.s.loc, from, method, node), kText)
	return out
}

// failed says why no node gave the details; "" when one did, or none
// answered yet.
func (d *userDrill) failed() string {
	if len(d.details) > 0 || len(d.errs) == 0 {
		return ""
	}
	var why []string
	for _, n := range slices.Sorted(maps.Keys(d.errs)) {
		why = append(why, nodePrefix(n)+d.errs[n].Error())
	}
	return "no details from popd: " + strings.Join(why, "; ")
}

// lockText says who holds the maildrop's lock.
func (d *userDrill) lockText(now time.Time, have bool) string {
	l := d.lock()
	switch {
	case l != nil:
		s := "held by " + holder(l) + " for " + human.Duration(now.Sub(l.Since))
		if l.Stale {
			s += ", stale"
		}
		return s
	case have:
		return "not locked"
	case d.user != nil && d.user.Locked:
		return "locked"
	}
	return "not locked"
}

// View is the drill, exactly w×h.
func (d *userDrill) View() string {
	st := &d.s.st
	now := d.s.clock()
	lines := make([]string, 0, d.h)
	title := " USER " + d.name
	if why := d.failed(); why != "" {
		title += " · " + why
	}
	lines = append(lines, st.colHead.s(fit(title, d.w, false)))
	for _, f := range d.facts(now) {
		lines = append(lines, st.fg[kMuted].s(fit("  "+f.label, 14, false))+st.fg[f.k].s(fit(f.value, d.w-14, false)))
	}
	for len(lines) < 1+drillFacts {
		lines = append(lines, strings.Repeat(" ", d.w))
	}
	lines = append(lines, strings.Repeat(" ", d.w))
	n := len(d.list.t.all)
	sub := " SESSIONS · none open"
	if n > 0 {
		sub = fmt.Sprintf(" SESSIONS · %d open", n)
	}
	lines = append(lines, st.colHead.s(fit(sub, d.w, false)))
	lines = append(lines, d.list.lines()...)
	if len(lines) > d.h {
		lines = lines[:d.h]
	}
	return strings.Join(lines, "\n")
}

// status is the status line while the drill is open.
func (d *userDrill) status() []string {
	return []string{"user " + d.name, human.Count(len(d.list.t.all), "session"), "esc back"}
}
