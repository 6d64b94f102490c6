package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// The Sessions page's : commands (commander), and the kick of many
// sessions: the tagged ones (K), or those a selector picks (:kill), in one
// dialog, carried out by one request to each node (kill.go).
//
//	:kill user NAME | from CIDR | from /N | state STATE | idle DURATION | filter
//	          any of them together: a session must match all
//	:stuck                 only the stuck sessions (the filter "stuck")
//	:stuck-idle DURATION   idle in TRANSACTION for longer is stuck ("off")
//	:stuck-send DURATION   a RETR or TOP stalled for longer is stuck ("off")

const killUsage = "kill what? :kill user NAME, from CIDR (or from /24: the selected client's), state STATE, idle DURATION, filter — together they must all match"

func (p *sessionsPage) Commands() []string {
	return []string{"kill user ", "kill from ", "kill state ", "kill idle ", "kill filter", "stuck", "stuck-idle ", "stuck-send "}
}

func (p *sessionsPage) Command(word string, args []string) (tea.Cmd, bool) {
	switch word {
	case "kill", "kick":
		return p.killCommand(args), true
	case "stuck":
		p.SetFilter("stuck")
		p.s.say("stuck: "+p.s.stuck.String(), kOK)
	case "stuck-idle", "stuck-send":
		d, err := parseThreshold(strings.Join(args, " "))
		if err != nil {
			p.s.say(":"+word+": "+err.Error(), kErr)
			return nil, true
		}
		if word == "stuck-idle" {
			p.s.stuck.idle = d
		} else {
			p.s.stuck.send = d
		}
		p.restuck()
		p.s.say("stuck: "+p.s.stuck.String(), kOK)
	default:
		return nil, false
	}
	return nil, true
}

// killCommand reads :kill's selector and asks popd, in a dry run, which
// sessions it picks; the answer opens the dialog (killAnswered).
func (p *sessionsPage) killCommand(args []string) tea.Cmd {
	if p.s.readOnly {
		p.s.say(readOnlyOff(":kill"), kWarn)
		return nil
	}
	fail := func(msg string) tea.Cmd { p.s.say(msg, kErr); return nil }
	if len(args) == 0 {
		return fail(killUsage)
	}
	var sel control.Selector
	useFilter := false
	for i := 0; i < len(args); i++ {
		word := strings.ToLower(args[i])
		if word == "filter" {
			useFilter = true
			continue
		}
		if i+1 >= len(args) {
			return fail(killUsage)
		}
		i++
		v := args[i]
		switch word {
		case "user":
			sel.User = v
		case "from", "source":
			from, err := p.fromArg(v)
			if err != nil {
				return fail(":kill from: " + err.Error())
			}
			sel.From = from
		case "state":
			st, ok := control.StateNamed(v)
			if !ok {
				return fail(":kill state: no state " + v + " (" + strings.Join(control.SessionStates, ", ") + ")")
			}
			sel.State = st
		case "idle":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fail(":kill idle: not a duration: " + v + " (e.g. 10m)")
			}
			sel.IdleOver = d
		default:
			return fail(killUsage)
		}
	}
	req := killReq{dry: true, what: sel.String()}
	if useFilter {
		q := p.t.filter
		if q == "" {
			return fail(":kill filter: no filter is set (/ sets one)")
		}
		if pre, ok := filterPrefix(strings.ToLower(q)); ok && sel.From == "" {
			// A filter that is a selector popd knows goes as one.
			sel.From = pre.String()
			req.what = sel.String() + " (the filter)"
		} else {
			// Else the sessions it shows now, by id.
			req.sels = map[string]control.Selector{}
			for _, r := range p.t.rows {
				if !r.live() {
					continue
				}
				s := req.sels[r.node]
				if s.IDs == nil {
					s = sel
				}
				s.IDs = append(s.IDs, r.ID)
				req.sels[r.node] = s
				req.asked++
			}
			if req.asked == 0 {
				return fail("no session matches the filter")
			}
			req.what = fmt.Sprintf("the %s the filter %q shows", human.Count(req.asked, "session"), q)
			if !sel.Empty() {
				req.what += ", " + sel.String()
			}
		}
	}
	if req.sels == nil {
		s := sel
		req.every = &s
	}
	return req.cmd()
}

// fromArg reads :kill from's argument: an address, a prefix, or "/N" for
// the selected session's client's prefix of N bits ("by source /24").
func (p *sessionsPage) fromArg(v string) (string, error) {
	if bits, ok := strings.CutPrefix(v, "/"); ok {
		r := p.t.selected()
		if r == nil {
			return "", fmt.Errorf("no session selected to take %s of", v)
		}
		a, ok := remoteAddr(r.Remote)
		if !ok {
			return "", fmt.Errorf("session %s's client %q has no address", r.ref(), r.Remote)
		}
		v = a.String() + "/" + bits
	}
	pre, err := control.ParseFrom(v)
	if err != nil {
		return "", fmt.Errorf("not an address or a prefix: %s", v)
	}
	return pre.String(), nil
}

// askKickTagged opens the one dialog for every tagged session.
func (p *sessionsPage) askKickTagged() {
	rows, hidden := p.taggedRows()
	req := killReq{sels: map[string]control.Selector{}}
	for _, r := range rows {
		s := req.sels[r.node]
		s.IDs = append(s.IDs, r.ID)
		req.sels[r.node] = s
	}
	req.asked = len(rows)
	req.what = human.Count(len(rows), "tagged session")
	body := p.describe(rows)
	if hidden > 0 {
		body = append(body, fmt.Sprintf("%d of them the filter hides.", hidden))
	}
	body = append(body, "The connections are closed without UPDATE: no mail is deleted.")
	p.s.open(newKillDialog(p.s, "Kick "+req.what+"?", fmt.Sprintf("Kick %d", len(rows)), req, body...))
}

// describe lists sessions for a dialog, a line each: "7 bob from
// 198.51.100.7:40022", the first few, then how many more.
func (p *sessionsPage) describe(rows []*sessRow) []string {
	const most = 5
	var out []string
	for i, r := range rows {
		if i == most {
			out = append(out, fmt.Sprintf("… and %d more", len(rows)-most))
			break
		}
		who := r.User
		if who == "" {
			who = "-"
		}
		out = append(out, fmt.Sprintf("%s %s from %s", r.ref(), who, r.Remote))
	}
	return out
}

// killAnswered takes popd's answer to a :kill's dry run, and opens the
// dialog with what it matched; after a kick, the sessions kicked show as
// closing.
func (p *sessionsPage) killAnswered(d killDoneMsg) {
	if d.err != nil {
		return
	}
	if !d.req.dry {
		for _, r := range d.res {
			for _, id := range r.ids {
				p.markClosing(ref(r.node, id), true)
			}
		}
		return
	}
	var rows []*sessRow
	byRef := map[string]*sessRow{}
	for i := range p.t.all {
		byRef[p.t.all[i].ref()] = &p.t.all[i]
	}
	n := 0
	for _, r := range d.res {
		for _, id := range r.ids {
			n++
			if row := byRef[ref(r.node, id)]; row != nil {
				rows = append(rows, row)
			} else {
				rows = append(rows, &sessRow{nodeSession: nodeSession{node: r.node, Session: control.Session{ID: id, Remote: "?"}}})
			}
		}
	}
	if n == 0 {
		return // the frame said so
	}
	kill := d.req
	kill.dry = false
	var body []string
	if kill.asked > 0 {
		body = append(body, fmt.Sprintf("The filter is not a selector popd knows: these go by id (%d of %d still open).", n, kill.asked))
	} else {
		body = append(body, "popd matches "+human.Count(n, "session")+" now ("+kill.what+"); it decides again when you confirm.")
	}
	body = append(body, p.describe(rows)...)
	if len(d.down) > 0 {
		body = append(body, "Not asked (down): "+strings.Join(d.down, ", ")+".")
	}
	var failed []string
	for _, r := range d.res {
		if r.err != nil {
			failed = append(failed, nodePrefix(r.node)+r.err.Error())
		}
	}
	if len(failed) > 0 {
		body = append(body, "Not asked: "+strings.Join(failed, "; ")+".")
	}
	body = append(body, "The connections are closed without UPDATE: no mail is deleted.")
	if kill.sels != nil {
		// By id: only those still open.
		kill.sels = maps.Clone(kill.sels)
		for _, r := range d.res {
			if len(r.ids) == 0 {
				delete(kill.sels, r.node) // no ids must never mean "any"
				continue
			}
			s := kill.sels[r.node]
			s.IDs = slices.Clone(r.ids)
			kill.sels[r.node] = s
		}
		kill.asked = n
	}
	p.s.open(newKillDialog(p.s, "Kick "+human.Count(n, "session")+"?", fmt.Sprintf("Kick %d", n), kill, body...))
}
