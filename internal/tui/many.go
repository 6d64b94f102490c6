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

// One action on many users or maildrops (the tagged ones, or those a :
// command names): one dialog, its focus on Cancel, then one request to
// each node concerned carrying the names (control's users_set_disabled,
// locks_unlock). popd does each name as it does one, an event each, and
// answers for each: the status line says what was done, and which failed
// and why (usertags.go, locktags.go).

// manyReq asks the Model to do act to the names, on their nodes.
type manyReq struct {
	act   action              // actDisable, actEnable or actUnlock
	names map[string][]string // by node; "" for the one popd, or any node up
	what  string              // for people: "3 tagged users"
	// endSessions: once they are disabled, their sessions end too, on
	// every node that is up (one kick_select each: kill.go).
	endSessions bool
}

func (r manyReq) cmd() tea.Cmd { return func() tea.Msg { return r } }

// nodeMany is one node's answer: a result for each name it did, or why
// the call failed (then asked are the names it was given).
type nodeMany struct {
	node  string
	asked []string
	res   []control.NameResult
	err   error
}

// manyDoneMsg is popd's answer to a manyReq, every node's together. The
// pages hear it (they untag what was done).
type manyDoneMsg struct {
	req manyReq
	res []nodeMany
}

// manyDoer is a Backend that acts on many names in one call
// (*control.Client).
type manyDoer interface {
	SetDisabledMany(ctx context.Context, names []string, disabled bool) ([]control.NameResult, error)
	UnlockMany(ctx context.Context, users []string) ([]control.NameResult, error)
}

const errNoMany = errString("this popd cannot act on many at once")

// manyWords are how the status line says an action on many: its verb
// done, the verb, and what it is done to.
func (r manyReq) words() (done, verb, noun string) {
	switch r.act {
	case actUnlock:
		return "unlocked", "unlock", "maildrop"
	case actEnable:
		return "enabled", "enable", "user"
	}
	return "disabled", "disable", "user"
}

// apply carries out the request (frameOp): the nodes' calls at once,
// answered together.
func (r manyReq) apply(m *Model) tea.Cmd {
	if _, verb, _ := r.words(); m.s.readOnly {
		m.s.say(readOnlyOff(verb), kWarn)
		return nil
	}
	type target struct {
		l     *link
		names []string
	}
	done := manyDoneMsg{req: r}
	var targets []target
	for _, n := range slices.Sorted(maps.Keys(r.names)) {
		l, err := m.linkFor(request{act: r.act, node: n})
		if err != nil {
			done.res = append(done.res, nodeMany{node: n, asked: r.names[n], err: err})
			continue
		}
		targets = append(targets, target{l, r.names[n]})
	}
	return func() tea.Msg {
		res := make([]nodeMany, len(targets))
		var wg sync.WaitGroup
		for i, t := range targets {
			b, ctx := t.l.backend, t.l.connCtx
			res[i] = nodeMany{node: t.l.name, asked: t.names}
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(ctx, actionTimeout)
				defer cancel()
				md, ok := b.(manyDoer)
				if !ok {
					res[i].err = errNoMany
					return
				}
				var err error
				if r.act == actUnlock {
					res[i].res, err = md.UnlockMany(ctx, t.names)
				} else {
					res[i].res, err = md.SetDisabledMany(ctx, t.names, r.act == actDisable)
				}
				res[i].err = err
			})
		}
		wg.Wait()
		done.res = append(done.res, res...)
		return done
	}
}

// split is the answer as the names done, by node, and what failed, said
// for people: "eve: no user "eve"", "pop2: not connected to pop2".
func (d manyDoneMsg) split() (ok map[string][]string, failed []string) {
	ok = map[string][]string{}
	for _, r := range d.res {
		for _, x := range r.res {
			if x.Error == nil {
				ok[r.node] = append(ok[r.node], x.Name)
			} else {
				failed = append(failed, x.Name+": "+x.Error.Message)
			}
		}
		if r.err != nil {
			// What the node did not answer for is not known done.
			for _, n := range r.asked[min(len(r.res), len(r.asked)):] {
				failed = append(failed, nodePrefix(r.node)+n+": "+r.err.Error())
			}
		}
	}
	return ok, failed
}

// apply takes the answer (frameOp): the pages hear it, the status line
// says it, the data is refreshed; disabled users' sessions are then
// ended, if asked.
func (d manyDoneMsg) apply(m *Model) tea.Cmd {
	cmds := []tea.Cmd{m.tell(d)}
	ok, failed := d.split()
	n := 0
	for _, names := range ok {
		n += len(names)
	}
	done, verb, noun := d.req.words()
	const most = 3
	why := failed
	if len(why) > most {
		why = append(slices.Clip(why[:most]), fmt.Sprintf("%d more", len(failed)-most))
	}
	switch {
	case len(failed) == 0:
		m.s.say(done+" "+d.req.what, kOK)
	case n == 0:
		m.s.say("could not "+verb+" "+d.req.what+": "+strings.Join(why, "; "), kErr)
	default:
		m.s.say(fmt.Sprintf("%s %s, %d failed: %s", done, human.Count(n, noun), len(failed), strings.Join(why, "; ")), kErr)
	}
	if n > 0 {
		cmds = append(cmds, m.refreshNow())
	}
	if d.req.endSessions && d.req.act == actDisable && n > 0 {
		var users []string
		for _, names := range ok {
			users = append(users, names...)
		}
		slices.Sort(users)
		cmds = append(cmds, killReq{every: &control.Selector{Users: users}, what: "the sessions of " + human.Count(len(users), "user")}.cmd())
	}
	return tea.Batch(cmds...)
}

// doneNames are the names d says were done, on any node.
func (d manyDoneMsg) doneNames() []string {
	ok, _ := d.split()
	var out []string
	for _, names := range ok {
		out = append(out, names...)
	}
	return out
}

// manyDialog is the one confirmation for many: a confirm whose action is
// a manyReq. The focus starts on Cancel.
type manyDialog struct {
	*confirm
	many manyReq
}

func newManyDialog(s *shared, title, button string, many manyReq, body ...string) *manyDialog {
	return &manyDialog{confirm: newConfirm(s, title, button, request{act: many.act}, body...), many: many}
}

func (d *manyDialog) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && !k.Paste && k.String() == "enter" && d.focus == focusAction {
		d.done = true
		var r request
		for _, b := range d.boxes {
			b.set(&r, b.on)
		}
		req := d.many
		req.endSessions = r.endSessions
		return req.cmd()
	}
	return d.confirm.Update(msg)
}

// listed is at most most lines of items, then how many more.
func listed(items []string, most int) []string {
	if len(items) <= most {
		return items
	}
	return append(slices.Clip(items[:most]), fmt.Sprintf("… and %d more", len(items)-most))
}

// either is yes when b, else no: a verb that agrees with its count.
func either(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
