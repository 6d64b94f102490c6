package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// Many users at once: space tags them (U untags all), and e then enables
// or disables the tagged ones, in one dialog and one request (many.go);
// so do :disable and :enable with the users the filter shows, or named.
//
//	:disable filter | NAME…   disable them (the dialog asks)
//	:enable filter | NAME…    enable them

// toggleKey is e as the help shows it: for the tagged users when there
// are some.
func (p *usersPage) toggleKey() key.Binding {
	k := p.s.act(p.toggle)
	if n := len(p.t.tags); n > 0 && p.drill == nil {
		k.SetHelp("e", "enable/disable "+strconv.Itoa(n)+" tagged")
	}
	return k
}

func (p *usersPage) Commands() []string {
	return []string{"disable filter", "disable ", "enable filter", "enable "}
}

func (p *usersPage) Command(word string, args []string) (tea.Cmd, bool) {
	var disable bool
	switch word {
	case "disable":
		disable = true
	case "enable":
	default:
		return nil, false
	}
	switch {
	case p.s.readOnly:
		p.s.say(readOnlyOff(":"+word), kWarn)
		return nil, true
	case p.s.offline:
		p.s.say("popd unreachable: :"+word+" is off until it is back", kWarn)
		return nil, true
	case len(args) == 0:
		p.s.say(word+" whom? :"+word+" filter (the users the filter shows), or :"+word+" NAME…", kErr)
		return nil, true
	}
	p.drill = nil
	if len(args) == 1 && args[0] == "filter" {
		if p.t.filter == "" {
			p.s.say(":"+word+" filter: no filter is set (/ sets one)", kErr)
			return nil, true
		}
		if len(p.t.rows) == 0 {
			p.s.say("no user matches the filter", kWarn)
			return nil, true
		}
		p.askToggleMany(p.t.rows, 0, disable, fmt.Sprintf("the filter %q shows", p.t.filter))
		return nil, true
	}
	var users []*control.User
	for _, n := range args {
		i := slices.IndexFunc(p.t.all, func(u control.User) bool { return u.Name == n })
		if i < 0 {
			p.s.say("no user "+n, kErr)
			return nil, true
		}
		if !slices.Contains(users, &p.t.all[i]) {
			users = append(users, &p.t.all[i])
		}
	}
	p.askToggleMany(users, 0, disable, "named")
	return nil, true
}

// askToggleTagged is e with tags: disable them all, or, when every one is
// disabled already, enable them all.
func (p *usersPage) askToggleTagged() {
	rows, hidden := p.taggedRows()
	disable := slices.ContainsFunc(rows, func(u *control.User) bool { return !u.Disabled })
	p.askToggleMany(rows, hidden, disable, "tagged")
}

// askToggleMany opens the one dialog for users: those already as asked
// are left out of the request; how (which) says where they come from:
// "tagged", "named", "the filter "bo" shows".
func (p *usersPage) askToggleMany(users []*control.User, hidden int, disable bool, how string) {
	act, verb, already := actEnable, "Enable", "enabled"
	if disable {
		act, verb, already = actDisable, "Disable", "disabled"
	}
	var todo, left []*control.User
	for _, u := range users {
		if u.Disabled == disable {
			left = append(left, u)
		} else {
			todo = append(todo, u)
		}
	}
	what := human.Count(len(users), "user")
	switch how {
	case "tagged":
		what = human.Count(len(users), "tagged user")
	case "named":
	default:
		what = "the " + human.Count(len(users), "user") + " " + how
	}
	if len(todo) == 0 {
		p.s.say("all "+what+" are "+already+" already", kWarn)
		return
	}
	title := verb + " " + what + "?"
	if len(left) > 0 {
		title = fmt.Sprintf("%s %d of %s?", verb, len(todo), what)
	}
	req := manyReq{act: act, names: map[string][]string{}, what: human.Count(len(todo), "user")}
	var lines []string
	sessions, with := 0, 0
	for _, u := range todo {
		req.names[""] = append(req.names[""], u.Name)
		ss := p.liveSessions(u.Name)
		line := u.Name + " (" + userSummary(u)
		if len(ss) > 0 {
			line += ", " + human.Count(len(ss), "session") + " open"
			sessions += len(ss)
			with++
		}
		lines = append(lines, line+")")
	}
	body := listed(lines, 5)
	if hidden > 0 {
		body = append(body, fmt.Sprintf("%d of them the filter hides.", hidden))
	}
	if len(left) > 0 {
		var names []string
		for _, u := range left {
			names = append(names, u.Name)
		}
		body = append(body, strings.Join(listed(names, 3), ", ")+": "+already+" already, left as they are.")
	}
	if disable {
		body = append(body, "They can no longer log in; e enables them again.")
	} else {
		body = append(body, "They can log in again.")
	}
	if sessions > 0 && disable {
		body = append(body, fmt.Sprintf("%d of them %s %s open: they go on unless you tick the box.",
			with, either(with == 1, "has", "have"), human.Count(sessions, "session")))
	}
	d := newManyDialog(p.s, title, verb+" "+strconv.Itoa(len(todo)), req, body...)
	if sessions > 0 && disable {
		d.boxes = []checkbox{{label: "also end them", set: func(r *request, on bool) { r.endSessions = on }}}
	}
	p.s.open(d)
}

// manyDone untags the users done.
func (p *usersPage) manyDone(d manyDoneMsg) {
	if d.req.act == actDisable || d.req.act == actEnable {
		for _, n := range d.doneNames() {
			delete(p.t.tags, n)
		}
	}
}
