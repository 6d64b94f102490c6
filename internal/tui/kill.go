package tui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// Kicking many sessions at once, by selector (control.Selector): one
// request to each node concerned — the tagged sessions' ids to the node
// that has them, a :kill selector to every node that is up — so that popd
// decides which sessions match as the request arrives.

// killReq asks the Model to kick what selectors pick; with dry only to
// ask popd which sessions they pick now.
type killReq struct {
	sels  map[string]control.Selector // by node ("" for the one popd)
	every *control.Selector           // instead of sels: this one to every node that is up
	dry   bool
	what  string // what is kicked, for people: "3 tagged sessions", "user bob"
	asked int    // the sessions asked for by id (tags, or the rows of a filter); 0 for a selector
}

// nodeKick is one node's answer.
type nodeKick struct {
	node string
	ids  []string
	err  error
}

// killDoneMsg is popd's answer to a killReq, every node's together.
type killDoneMsg struct {
	req   killReq
	res   []nodeKick
	down  []string // the nodes that were not asked: down
	err   error    // nothing could be asked
	total int      // the ids the nodes answered
}

func (r killReq) cmd() tea.Cmd { return func() tea.Msg { return r } }

// selectKicker is a Backend that kicks by selector (*control.Client).
type selectKicker interface {
	KickSelect(ctx context.Context, sel control.Selector, dryRun bool) (control.Kicked, error)
}

const errNoSelect = errString("this popd cannot kick by selector")

// sendKill carries out a killReq: one call to each node concerned, all at
// once, answered together.
func (m *Model) sendKill(r killReq) tea.Cmd {
	if m.s.readOnly {
		m.s.say(readOnlyOff(":kill"), kWarn)
		return nil
	}
	type target struct {
		l   *link
		sel control.Selector
	}
	var targets []target
	done := killDoneMsg{req: r}
	if r.every != nil {
		for _, l := range m.links {
			if l.connected {
				targets = append(targets, target{l, *r.every})
			} else if m.fleet() {
				done.down = append(done.down, l.name)
			}
		}
	} else {
		for _, n := range slices.Sorted(maps.Keys(r.sels)) {
			l, err := m.linkFor(request{act: actKick, node: n})
			if err != nil {
				done.res = append(done.res, nodeKick{node: n, err: err})
				continue
			}
			targets = append(targets, target{l, r.sels[n]})
		}
	}
	if len(targets) == 0 {
		done.err = errOffline
		if m.fleet() {
			done.err = errNoNode
		}
		return func() tea.Msg { return done }
	}
	return func() tea.Msg {
		res := make([]nodeKick, len(targets))
		var wg sync.WaitGroup
		for i, t := range targets {
			b, ctx, name := t.l.backend, t.l.connCtx, t.l.name
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(ctx, actionTimeout)
				defer cancel()
				res[i] = nodeKick{node: name}
				k, ok := b.(selectKicker)
				if !ok {
					res[i].err = errNoSelect
					return
				}
				got, err := k.KickSelect(ctx, t.sel, r.dry)
				res[i].ids, res[i].err = got.IDs, err
			})
		}
		wg.Wait()
		done.res = append(done.res, res...)
		return done
	}
}

// killDone takes the answer: the pages hear it (Sessions opens the dialog
// after a dry run, marks the kicked sessions closing after a kick), and
// the status line says what happened.
func (m *Model) killDone(d killDoneMsg) tea.Cmd {
	var failed []string
	for _, r := range d.res {
		d.total += len(r.ids)
		if r.err != nil {
			failed = append(failed, nodePrefix(r.node)+r.err.Error())
		}
	}
	cmd := m.tell(d)
	switch {
	case d.err != nil:
		m.s.say("could not kick "+d.req.what+": "+d.err.Error(), kErr)
		return cmd
	case len(failed) > 0 && d.total == 0:
		m.s.say("could not kick "+d.req.what+": "+strings.Join(failed, "; "), kErr)
	case d.req.dry && d.total == 0:
		m.s.say("no session matches "+d.req.what, kWarn)
	case d.req.dry:
		return cmd // the dialog asks
	case len(failed) > 0:
		m.s.say(d.summary()+"; failed: "+strings.Join(failed, "; "), kErr)
	default:
		m.s.say(d.summary(), kOK)
	}
	if d.req.dry {
		return cmd
	}
	return tea.Batch(cmd, m.refreshNow())
}

func nodePrefix(node string) string {
	if node == "" {
		return ""
	}
	return node + ": "
}

// summary says what a kick did: "kicked 3 sessions (user bob): pop1 2,
// pop2 1", "kicked 2 of 3 tagged sessions (1 had ended)".
func (d killDoneMsg) summary() string {
	s := "kicked " + human.Count(d.total, "session")
	switch a := d.req.asked; {
	case a > 0 && d.total < a:
		s = fmt.Sprintf("kicked %d of %s (%d had ended)", d.total, d.req.what, a-d.total)
	case a > 0:
		s = "kicked " + d.req.what
	default:
		s += " (" + d.req.what + ")"
	}
	if len(d.res) > 1 {
		var per []string
		for _, r := range d.res {
			if r.err == nil {
				per = append(per, fmt.Sprintf("%s %d", r.node, len(r.ids)))
			}
		}
		s += ": " + strings.Join(per, ", ")
	}
	if len(d.down) > 0 {
		s += "; not asked (down): " + strings.Join(d.down, ", ")
	}
	return s
}

// killDialog is the one confirmation for many sessions: a confirm whose
// action is a killReq. The focus starts on Cancel.
type killDialog struct {
	*confirm
	kill killReq
}

func newKillDialog(s *shared, title, button string, kill killReq, body ...string) *killDialog {
	return &killDialog{confirm: newConfirm(s, title, button, request{}, body...), kill: kill}
}

func (d *killDialog) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && !k.Paste && k.String() == "enter" && d.focus == focusAction {
		d.done = true
		return d.kill.cmd()
	}
	return d.confirm.Update(msg)
}
