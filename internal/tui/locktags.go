package tui

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// Many maildrops at once: space tags locks (U untags all), and b then
// unlocks the tagged ones, in one dialog and one request to each node
// that holds some (many.go); so does :unlock with the locks the filter
// shows, the stale ones, or named.
//
//	:unlock filter | stale | USER…

// unlockKey is b as the help shows it: for the tagged locks when there
// are some.
func (p *locksPage) unlockKey() key.Binding {
	k := p.s.act(p.unlock)
	if n := len(p.t.tags); n > 0 {
		k.SetHelp("b", "unlock "+strconv.Itoa(n)+" tagged")
	}
	return k
}

func (p *locksPage) Commands() []string {
	return []string{"unlock filter", "unlock stale", "unlock "}
}

func (p *locksPage) Command(word string, args []string) (tea.Cmd, bool) {
	if word != "unlock" {
		return nil, false
	}
	switch {
	case p.s.readOnly:
		p.s.say(readOnlyOff(":unlock"), kWarn)
		return nil, true
	case p.s.offline:
		p.s.say("popd unreachable: :unlock is off until it is back", kWarn)
		return nil, true
	case len(args) == 0:
		p.s.say("unlock what? :unlock filter (the locks the filter shows), stale, or USER…", kErr)
		return nil, true
	}
	var rows []*nodeLock
	how := "named"
	switch {
	case len(args) == 1 && args[0] == "filter":
		if p.t.filter == "" {
			p.s.say(":unlock filter: no filter is set (/ sets one)", kErr)
			return nil, true
		}
		rows, how = p.t.rows, fmt.Sprintf("the filter %q shows", p.t.filter)
	case len(args) == 1 && args[0] == "stale":
		for i := range p.t.all {
			if p.t.all[i].Stale && !p.t.all[i].down {
				rows = append(rows, &p.t.all[i])
			}
		}
		how = "stale"
	default:
		for _, n := range args {
			i := slices.IndexFunc(p.t.all, func(l nodeLock) bool { return l.User == n })
			if i < 0 {
				p.s.say("no lock on the maildrop of "+n, kErr)
				return nil, true
			}
			if !slices.Contains(rows, &p.t.all[i]) {
				rows = append(rows, &p.t.all[i])
			}
		}
	}
	if len(rows) == 0 {
		p.s.say("no lock to unlock ("+how+")", kWarn)
		return nil, true
	}
	p.askUnlockMany(rows, 0, how)
	return nil, true
}

// askUnlockTagged is b with tags.
func (p *locksPage) askUnlockTagged() {
	rows, hidden := p.taggedRows()
	p.askUnlockMany(rows, hidden, "tagged")
}

// askUnlockMany opens the one dialog for locks; how says where they come
// from: "tagged", "stale", "named", "the filter "x" shows".
func (p *locksPage) askUnlockMany(rows []*nodeLock, hidden int, how string) {
	what := human.Count(len(rows), "maildrop")
	switch how {
	case "tagged", "stale":
		what = human.Count(len(rows), how+" maildrop")
	case "named":
	default:
		what = "the " + what + " " + how
	}
	req := manyReq{act: actUnlock, names: map[string][]string{}, what: human.Count(len(rows), "maildrop")}
	var lines []string
	fresh, sessions := 0, 0
	for _, l := range rows {
		req.names[l.node] = append(req.names[l.node], l.User)
		line := l.User + ": held by " + holder(l) + " for " + human.Since(p.s.now(), l.Since)
		if l.Stale {
			line += ", stale"
		} else {
			fresh++
		}
		if l.Session != "" {
			sessions++
		}
		lines = append(lines, line)
	}
	body := listed(lines, 5)
	if hidden > 0 {
		body = append(body, fmt.Sprintf("%d of them the filter hides.", hidden))
	}
	if fresh > 0 {
		body = append(body, fmt.Sprintf("%d of them %s not stale: %s may still be working on the maildrop.", fresh,
			either(fresh == 1, "is", "are"), either(fresh == 1, "its holder", "their holders")))
	}
	if sessions > 0 {
		body = append(body, fmt.Sprintf("The %s holding %d of them %s ended first, without UPDATE: no mail is deleted.",
			either(sessions == 1, "session", "sessions"), sessions, either(sessions == 1, "is", "are")))
	}
	if len(req.names) > 1 || p.s.fleet() {
		var per []string
		for _, n := range slices.Sorted(maps.Keys(req.names)) {
			per = append(per, n+" "+strconv.Itoa(len(req.names[n])))
		}
		body = append(body, "Each node unlocks its own: "+strings.Join(per, ", ")+".")
	}
	p.s.open(newManyDialog(p.s, "Unlock "+what+"?", "Unlock "+strconv.Itoa(len(rows)), req, body...))
}

// manyDone untags the maildrops unlocked.
func (p *locksPage) manyDone(d manyDoneMsg) {
	if d.req.act == actUnlock {
		for _, n := range d.doneNames() {
			delete(p.t.tags, n)
		}
	}
}
