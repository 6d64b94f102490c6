package tui

import (
	"os"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/testutil"
	"popd/internal/testutil/fleettest"
)

// The drill-down and the purge on a fleet of real popds: bob's session on
// pop2 holds his maildrop; the drill-down says so, with his last login;
// deleting him with his mail, confirmed, ends that session on pop2 first
// and removes the mail (popd used to refuse: "kick it first").
func TestFleetDaemonUserDrillAndPurge(t *testing.T) {
	fl, tm, _ := fleetProgram(t, "pop1", "pop2")
	bob := fleettest.Login(t, fl.Nodes[1], daemonAccounts[1])
	waitScreen(t, tm, "bob", "● 2/2 up")

	tm.Type("2/bob")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "USER bob", "held by session pop2/", "from 127.0.0.1:", "by USER on pop2", "SESSIONS · 1 open")

	tm.Type("d")
	waitScreen(t, tm, "Delete user bob?", "bob has 1 session open: pop2/", "holds their maildrop", "[x] also end them")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Type("x") // their mail too
	tm.Send(tea.KeyMsg{Type: tea.KeyRight})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})

	bob.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !bob.Closed(5 * time.Second) {
		t.Fatal("bob's session is still open")
	}
	waitScreen(t, tm, "user bob on pop2 and their mail deleted")
	testutil.Eventually(t, 5*time.Second, "bob's maildrop removed", func() bool {
		_, err := os.Stat(fl.Site.Maildir("bob"))
		return os.IsNotExist(err)
	})
}
