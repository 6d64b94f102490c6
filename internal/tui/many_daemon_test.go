package tui

import (
	"context"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
	"popd/internal/testutil/fleettest"
)

// TestFleetDaemonTagDisable: real popds. alice is logged in on pop1, bob
// on pop2; tagged, e and "also end them": one users_set_disabled disables
// both (an event each naming who), then each node ends its own of their
// sessions.
func TestFleetDaemonTagDisable(t *testing.T) {
	fl, tm, quit := fleetProgram(t, "pop1", "pop2")
	alice := fleettest.Login(t, fl.Nodes[0], daemonAccounts[0])
	bob := fleettest.Login(t, fl.Nodes[1], daemonAccounts[1])
	var evs []<-chan control.Event
	for _, n := range fl.Nodes {
		ctl, err := control.Dial(context.Background(), n.Control)
		if err != nil {
			t.Fatal(err)
		}
		defer ctl.Close()
		ch, err := ctl.Events(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ch)
	}
	waitScreen(t, tm, "alice", "bob", "● 2/2 up")

	tm.Type("2")
	waitScreen(t, tm, "carol", "enabled")
	tm.Type("  e")
	waitScreen(t, tm, "Disable 2 tagged users?", "2 of them have 2 sessions open", "[ ] also end them")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Type("x")
	tm.Send(tea.KeyMsg{Type: tea.KeyRight})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})

	for _, c := range []*testutil.POP3{alice, bob} {
		c.Expect("-ERR [SYS/TEMP] session ended by the administrator")
		if !c.Closed(5 * time.Second) {
			t.Fatal("a session of a disabled user is still open")
		}
	}
	// The node that did it published an event for each, naming who.
	got := map[string]string{}
	for _, ch := range evs {
		for len(got) < 2 {
			select {
			case e := <-ch:
				if e.Type == event.UserChanged && e.Reason == "disabled" {
					got[e.User] = e.By
				}
				continue
			case <-time.After(500 * time.Millisecond):
			}
			break
		}
	}
	if got["alice"] == "" || got["bob"] == "" {
		t.Fatalf("user.changed events: %q", got)
	}
	waitScreen(t, tm, "disabled")
	ctl, err := control.Dial(context.Background(), fl.Nodes[0].Control)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	us, err := ctl.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Disabled != (u.Name != "carol") {
			t.Errorf("%s disabled %v", u.Name, u.Disabled)
		}
	}
	quit()
}
