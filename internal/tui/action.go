package tui

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
)

// action is something the dashboard asks popd to do. Its names are the
// control API's and popadm's: a session is kicked, a maildrop unlocked.
type action int

const (
	actKick action = iota + 1
	actDelete
	actUnlock
	actEnable
	actDisable
	actAdd
	actPasswd
	actClear    // a source's penalty (penalties.go)
	actClearAll // the penalties of request.sources
)

// actionSpec is everything about one action: its name, how a flash says
// it failed or happened (%s is the target), and the call that does it.
type actionSpec struct {
	name string
	verb string // "could not " + verb
	done string
	do   func(ctx context.Context, b Backend, r request) error
}

var actions = [...]actionSpec{
	actKick: {"kick", "kick session %s", "session %s kicked",
		func(ctx context.Context, b Backend, r request) error { return b.Kick(ctx, r.target) }},
	actDelete: {"delete", "delete %s", "user %s deleted, mail kept", deleteUser},
	actUnlock: {"unlock", "unlock the maildrop of %s", "maildrop of %s unlocked",
		func(ctx context.Context, b Backend, r request) error { return b.Unlock(ctx, r.target) }},
	actEnable: {"enable", "enable %s", "user %s enabled",
		func(ctx context.Context, b Backend, r request) error { return b.SetDisabled(ctx, r.target, false) }},
	actDisable: {"disable", "disable %s", "user %s disabled",
		func(ctx context.Context, b Backend, r request) error { return b.SetDisabled(ctx, r.target, true) }},
	actAdd: {"add", "add user %s", "user %s added",
		func(ctx context.Context, b Backend, r request) error { return b.AddUser(ctx, r.target, r.password) }},
	actPasswd: {"passwd", "set the password of %s", "password of %s set",
		func(ctx context.Context, b Backend, r request) error { return b.SetPassword(ctx, r.target, r.password) }},
	actClear:    {"clear", "clear the penalty of %s", "penalty of %s cleared", clearOne},
	actClearAll: {"clear", "clear the penalties of %s", "penalties of %s cleared", clearAll},
}

// spec is the action's entry in actions; a is one of the constants.
func (a action) spec() actionSpec { return actions[a] }

func (a action) String() string { return a.spec().name }

// request asks for an action: a component returns it as a message, the
// Model carries it out.
type request struct {
	act      action
	target   string // a session id or a user name
	node     string // of a fleet, that holds the session or the lock; "" any
	purge    bool   // actDelete: their mail too
	password string // actAdd, actPasswd
	by       modal  // the form that asked: it shows the outcome itself

	// actClearAll: the sources; target then counts them.
	sources []string

	// actDelete: keep their sessions (unless purge). actDelete and
	// actDisable: then end their sessions on every node (useractions.go;
	// one popd ends them itself as it deletes).
	keep, endSessions bool
}

// String leaves the password out of logs and test failures.
func (r request) String() string { return r.act.String() + " " + r.subject() }

// subject is the target as people read it: a session on a node is
// "pop2/7", as popadm kick takes it; a lock is unlocked "on pop2".
func (r request) subject() string {
	switch {
	case r.node == "":
		return r.target
	case r.act == actKick:
		return ref(r.node, r.target)
	}
	return r.target + " on " + r.node
}

// cmd sends the request to the Model.
func (r request) cmd() tea.Cmd { return func() tea.Msg { return r } }

// failed and succeeded are what the status line says afterwards.
func (r request) failed(err error) string {
	return "could not " + fmt.Sprintf(r.act.spec().verb, r.subject()) + ": " + err.Error()
}

func (r request) succeeded() string {
	if r.act == actDelete && r.purge {
		return "user " + r.subject() + " and their mail deleted"
	}
	return fmt.Sprintf(r.act.spec().done, r.subject())
}

// Every page and the modal hear of an action: sentMsg when it goes to
// popd, doneMsg with popd's answer.
type (
	sentMsg struct{ req request }
	doneMsg struct {
		req request
		err error
	}
)

const (
	errReadOnly = errString("read-only")
	errOffline  = errString("not connected to popd")
)

// send carries out a request, on the node it is for (linkFor).
func (m *Model) send(r request) tea.Cmd {
	if m.s.readOnly {
		return m.done(doneMsg{req: r, err: errReadOnly})
	}
	l, err := m.linkFor(r)
	if err != nil {
		return m.done(doneMsg{req: r, err: err})
	}
	cmd := m.tell(sentMsg{req: r})
	b, ctx := l.backend, l.connCtx
	return tea.Batch(cmd, func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		return doneMsg{req: r, err: r.act.spec().do(ctx, b, r)}
	})
}

// done takes popd's answer: the pages and the modal hear of it, the status
// line says it (unless the form that asked is open to say it), and the
// data is refreshed.
func (m *Model) done(r doneMsg) tea.Cmd {
	asker := r.req.by != nil && r.req.by == m.s.modal
	cmd := m.tell(r)
	switch {
	case r.err != nil && asker:
		return cmd
	case r.err != nil:
		m.s.say(r.req.failed(r.err), kErr)
	default:
		m.s.say(r.req.succeeded(), kOK)
	}
	return tea.Batch(cmd, m.refreshNow())
}
