package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFleetDashboardEndToEnd runs `popadm -fleet` for real in tmux on a
// fleet of three nodes, one of them down: the Sessions page lists the
// sessions of both live nodes with their node, the header counts 2/3 up,
// the Nodes page shows the dead node down with why, and a kick from the
// dashboard ends the session on the second node while the first keeps
// its own.
func TestFleetDashboardEndToEnd(t *testing.T) {
	popadm := filepath.Join(buildPopadm(t), "popadm")
	f := startFleet(t, "pop1", "pop2")
	// pop3 is in the fleet file but not running.
	gone := fmt.Sprintf("[[node]]\nname = \"pop3\"\npop3 = \"127.0.0.1:1\"\ncontrol = %q\n",
		filepath.Join(t.TempDir(), "pop3.sock"))
	data, _ := os.ReadFile(f.file)
	if err := os.WriteFile(f.file, append(data, gone...), 0o644); err != nil {
		t.Fatal(err)
	}
	alice := f.login(0, fleetAccounts[0])
	bob := f.login(1, fleetAccounts[1])

	p := startPane(t, "", 100, 30, popadm, "-fleet", f.file)
	waitScreen := func(what string, re *regexp.Regexp) { t.Helper(); p.waitFor(what, re.MatchString) }
	waitScreen("both sessions and 2/3 up", regexp.MustCompile(`(?s)2/3 up.*pop1 +[0-9a-z]{4}-1 +alice .*\n[ >]*pop2 +[0-9a-z]{4}-1 +bob `))

	p.keys("6")
	waitScreen("pop3 down on the Nodes page", regexp.MustCompile(`(?s)pop1 +up .*pop2 +up .*pop3 +down.*pop3 is down: .*no control socket`))

	// Back to Sessions; bob's row is the second (the cursor, on the first
	// row that came in, may be on it already): kick it (K, from Cancel to
	// the action, enter).
	p.keys("1")
	waitScreen("the Sessions page", regexp.MustCompile(`pop2 +[0-9a-z]{4}-1 +bob `))
	p.keys("j", "K")
	waitScreen("the confirmation", regexp.MustCompile(`Cancel`))
	p.keys("Tab", "Enter")
	if l := bob.Line(); !strings.HasPrefix(l, "-ERR [SYS/TEMP] session ended by the administrator") {
		t.Fatalf("bob got %q", l)
	}
	if !bob.Closed(5 * time.Second) {
		t.Fatal("bob's connection is still open")
	}
	alice.OK("NOOP")
	p.waitFor("bob's row to go", func(s string) bool {
		return strings.Contains(s, "alice ") && !strings.Contains(s, "bob ")
	})
	p.keys("q")
}
