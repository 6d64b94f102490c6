package tui

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"popd/internal/control"
	"popd/internal/testutil/fleettest"
	"popd/internal/testutil/site"
)

// The dashboard on a fleet of real popds (daemon.Run, in this process),
// over their control sockets, as popadm -fleet runs it.

// The Nodes page has popd's version from the control hello.
var _ versioner = (*control.Client)(nil)

var daemonAccounts = []site.Account{
	{Name: "alice", Pass: "alice pw", Scheme: "PLAIN"},
	{Name: "bob", Pass: "bob pw", Scheme: "PLAIN"},
	{Name: "carol", Pass: "carol pw", Scheme: "PLAIN"},
}

// fleetProgram starts a node for each name and the dashboard on them, as
// a running program on a 120×30 terminal. quit ends it, releases its
// connections and returns its model; the end of the test calls it too.
func fleetProgram(t *testing.T, names ...string) (fl *fleettest.Fleet, tm *teatest.TestModel, quit func() Model) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	s := site.New(t, daemonAccounts)
	for _, a := range daemonAccounts {
		s.Deliver(t, a.Name, "Subject: hello\r\n\r\nhi\r\n")
	}
	fl = fleettest.Start(t, s, names...)
	opt := Options{Refresh: 50 * time.Millisecond}
	for _, n := range fl.Nodes {
		opt.Nodes = append(opt.Nodes, Node{Name: n.Name, Timeout: 2 * time.Second,
			Dial: func(ctx context.Context) (Backend, error) { return control.Dial(ctx, n.Control) }})
	}
	tm = teatest.NewTestModel(t, NewModel(opt), teatest.WithInitialTermSize(120, 30))
	quit = sync.OnceValue(func() Model {
		tm.Send(tea.QuitMsg{})
		tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		m, ok := tm.FinalModel(t).(Model)
		if !ok {
			t.Fatalf("final model is %T", tm.FinalModel(t))
		}
		m.shutdown()
		return m
	})
	t.Cleanup(func() { quit() }) // before the nodes stop: cleanups run last first
	return fl, tm, quit
}

// TestFleetDaemonSessions: every node's sessions, each with its node.
func TestFleetDaemonSessions(t *testing.T) {
	fl, tm, quit := fleetProgram(t, "pop1", "pop2")
	fleettest.Login(t, fl.Nodes[0], daemonAccounts[0])
	fleettest.Login(t, fl.Nodes[1], daemonAccounts[1])
	waitScreen(t, tm, "NODE", "alice", "bob", "● 2/2 up", "1 Sessions 2")

	m := quit()
	var got []string
	for _, r := range pageOf[*sessionsPage](m).t.rows {
		got = append(got, r.node+" "+r.User+" "+r.State)
	}
	if want := []string{"pop1 alice transaction", "pop2 bob transaction"}; !slices.Equal(got, want) {
		t.Fatalf("sessions %q, want %q", got, want)
	}
}

// TestFleetDaemonNodeDown: a node that stops is shown down, with why; the
// others go on.
func TestFleetDaemonNodeDown(t *testing.T) {
	fl, tm, quit := fleetProgram(t, "pop1", "pop2", "pop3")
	waitScreen(t, tm, "● 3/3 up")
	tm.Type("6")
	waitScreen(t, tm, "SESSIONS", "LOGINS/MIN")

	if err := fl.Nodes[2].Stop(); err != nil {
		t.Fatal(err)
	}
	waitScreen(t, tm, "pop3 is down", "2/3 up")

	// The others still work.
	fleettest.Login(t, fl.Nodes[1], daemonAccounts[2])
	tm.Type("1")
	waitScreen(t, tm, "carol")

	m := quit()
	nodes := pageOf[*nodesPage](m).t.all
	if len(nodes) != 3 || !nodes[0].up || !nodes[1].up || nodes[2].up || nodes[2].err == "" {
		t.Fatalf("nodes %+v", nodes)
	}
	if nodes[1].version == "" || nodes[1].stats.Sessions != 1 {
		t.Errorf("pop2: version %q, %d sessions", nodes[1].version, nodes[1].stats.Sessions)
	}
}

// TestFleetDaemonKick: K on a session of the second node ends it there;
// the client sees its connection close; the other node's session lives.
func TestFleetDaemonKick(t *testing.T) {
	fl, tm, _ := fleetProgram(t, "pop1", "pop2")
	alice := fleettest.Login(t, fl.Nodes[0], daemonAccounts[0])
	bob := fleettest.Login(t, fl.Nodes[1], daemonAccounts[1])
	waitScreen(t, tm, "alice", "bob")

	tm.Type("/bob")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	tm.Type("K")
	waitScreen(t, tm, "Kick session pop2/")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})

	bob.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !bob.Closed(5 * time.Second) {
		t.Fatal("bob's connection is still open")
	}
	waitScreen(t, tm, "kicked")
	alice.OK("NOOP")
}
