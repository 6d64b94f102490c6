package tui

import (
	"context"
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"popd/internal/control"
)

// Backend is the control connection as the dashboard needs it;
// *control.Client satisfies it. One that also has History, as
// *control.Client does, gives the header's graphs popd's last hour.
type Backend interface {
	Sessions(ctx context.Context) ([]control.Session, error)
	Stats(ctx context.Context) (control.Stats, error)
	Users(ctx context.Context) ([]control.User, error)
	Locks(ctx context.Context) ([]control.Lock, error)
	Kick(ctx context.Context, id string) error
	AddUser(ctx context.Context, name, password string) error
	SetPassword(ctx context.Context, name, password string) error
	DeleteUser(ctx context.Context, name string, purgeMail bool) error
	SetDisabled(ctx context.Context, name string, disabled bool) error
	Unlock(ctx context.Context, user string) error
	Penalties(ctx context.Context) ([]control.Penalty, error)
	ClearPenalties(ctx context.Context, sources []string) (int, error)
	Events(ctx context.Context) (<-chan control.Event, error)
	Role() string // control.RoleAdmin or control.RoleMonitor
	Close() error
}

// Options configure the dashboard.
type Options struct {
	// Dial connects to popd. It is called again, with backoff, after the
	// connection is lost.
	Dial func(ctx context.Context) (Backend, error)
	// Nodes, when there are any, are the nodes of a fleet (package fleet),
	// in the fleet file's order: the dashboard then watches them all, and
	// Dial is not used.
	Nodes []Node
	// Theme names the colour theme, already chosen by the caller (flag,
	// environment, config file); "" is "default".
	Theme string
	// ReadOnly disables every action. It is also on when popd gives the
	// connection the monitor role.
	ReadOnly bool
	// Mouse turns on mouse reporting (wheel scrolls, click selects). Off by
	// default so that the terminal's text selection works.
	Mouse bool
	// Refresh is how often sessions, stats, users and locks are polled;
	// 0 is a second. Events stream live, and so do the sessions' changes
	// from a popd that sends them (then the sessions are not polled).
	Refresh time.Duration
	// StuckIdle and StuckSend make a session stuck: idle in TRANSACTION
	// for longer than StuckIdle, or writing a RETR or TOP response whose
	// bytes have not moved for longer than StuckSend. 0 is the default
	// (DefaultStuckIdle, DefaultStuckSend); negative turns the rule off.
	StuckIdle, StuckSend time.Duration
}

// Node is one popd of a fleet.
type Node struct {
	// Name is the node's name, shown in the NODE columns.
	Name string
	// Dial connects to the node's control socket; it is called again,
	// with backoff, after the connection is lost.
	Dial func(ctx context.Context) (Backend, error)
	// Timeout bounds the dial, and the listing of sessions and the stats
	// of each poll, so that a node that does not answer is soon shown
	// down; 0 is 10 s and 15 s, as for one popd. (Users and locks, whose
	// listing reads every maildrop, have the 15 s.)
	Timeout time.Duration
}

// Run runs the dashboard on the terminal, in the alternate screen, until
// the user quits or ctx is done.
func Run(ctx context.Context, opt Options) error {
	if opt.Dial == nil && len(opt.Nodes) == 0 {
		return errors.New("tui: Options.Dial is nil")
	}
	for _, n := range opt.Nodes {
		if n.Dial == nil {
			return errors.New("tui: node " + n.Name + ": no Dial")
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(opt, lipgloss.DefaultRenderer())
	m.ctx = ctx
	popts := []tea.ProgramOption{tea.WithAltScreen()}
	if opt.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	p := tea.NewProgram(m, popts...)
	stop := context.AfterFunc(ctx, p.Quit)
	defer stop()
	final, err := p.Run()
	if fm, ok := final.(Model); ok {
		fm.shutdown()
	}
	return err
}

// NewModel returns the dashboard's model, for tests and for embedding in
// another program; Run is the usual way in.
func NewModel(opt Options) Model {
	return newModel(opt, lipgloss.DefaultRenderer())
}
