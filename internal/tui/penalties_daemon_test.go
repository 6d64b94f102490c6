package tui

import (
	"context"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
)

// TestFleetDaemonPenalties: real popds. A source fails on pop2 with two
// names; the Penalties page shows it on pop2 with the names, and c clears
// it there: popd publishes penalty.cleared naming who, and has it no more.
func TestFleetDaemonPenalties(t *testing.T) {
	fl, tm, quit := fleetProgram(t, "pop1", "pop2")
	ctl, err := control.Dial(context.Background(), fl.Nodes[1].Control)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	events, err := ctl.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := testutil.DialPOP3(t, fl.Nodes[1].Addr)
	for _, name := range []string{"root", "admin"} {
		c.OK("USER " + name)
		c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
	}

	waitScreen(t, tm, "● 2/2 up")
	tm.Type("5")
	waitScreen(t, tm, "SOURCE", "pop2", "127.0.0.1/32", "admin,root")
	tm.Type("c")
	waitScreen(t, tm, "Clear the penalty of 127.0.0.1/32?", "Names tried: admin, root.", "Node pop2 clears it.")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "penalty of 127.0.0.1/32 on pop2 cleared")
	if ev := testutil.NextEvent(t, events, event.PenaltyCleared, 5*time.Second); ev.Remote != "127.0.0.1/32" || ev.Count != 2 || ev.By == "" {
		t.Errorf("penalty.cleared: %+v", ev)
	}
	if ps, err := ctl.Penalties(context.Background()); err != nil || len(ps) != 0 {
		t.Errorf("penalties on pop2 after the clear: %+v, %v", ps, err)
	}
	quit()
}
