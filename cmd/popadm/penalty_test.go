package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/testutil"
)

// Issue 14, bug 9: who and who --json list the sessions oldest first, the
// id settling a tie (a boot's ids count up), whatever order popd gives.
func TestWhoSorted(t *testing.T) {
	d, path := start(t)
	at := time.Now().Add(-time.Hour)
	for _, s := range []control.Session{
		{ID: "k3f9-10", User: "carol", Since: at},
		{ID: "k3f9-2", User: "newest", Since: at.Add(time.Minute)},
		{ID: "k3f9-9", User: "bob", Since: at},
		{ID: "k3f9-1", User: "oldest", Since: at.Add(-time.Minute)},
	} {
		d.AddSession(s)
	}
	want := []string{"k3f9-1", "k3f9-9", "k3f9-10", "k3f9-2"}
	r := run(t, "-control", path, "who")
	r.want(t, 0, "")
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		ids = append(ids, strings.Fields(l)[0])
	}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("who lists %q, want %q:\n%s", ids, want, r.stdout)
	}
	var got []control.Session
	if err := json.Unmarshal([]byte(run(t, "-control", path, "who", "--json").stdout), &got); err != nil {
		t.Fatal(err)
	}
	ids = ids[:0]
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("who --json lists %q, want %q", ids, want)
	}
}

// Issue 14, bug 8: clearing the penalty of a source that has none is
// said, and exits 1 (as pkill does when nothing matched).
func TestPenaltyClearNothing(t *testing.T) {
	d, path := start(t)
	d.AddPenalty(control.Penalty{Source: "192.0.2.1/32", Failures: 3, Users: []string{"root", "admin"}})
	c := "-control=" + path
	run(t, c, "penalties").want(t, 0, `(?m)^SOURCE +FAILURES +LAST +DELAY +USERS\n192\.0\.2\.1/32 +3 +.* +root,admin$`)
	run(t, c, "penalty", "clear", "192.0.2.1/32").want(t, 0, "^cleared the penalty of 192.0.2.1/32\n$")
	r := run(t, c, "penalty", "clear", "192.0.2.1/32")
	if r.code != 1 || r.stdout != "" || r.stderr != "popadm: no penalty for 192.0.2.1/32\n" {
		t.Errorf("clearing again: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// On a fleet, a source is penalised on the nodes it tried: penalty clear
// clears it where it is and says where; it fails (1) only when no node
// had it. The penalties list names the users the source tried.
func TestFleetPenaltyClear(t *testing.T) {
	f := startFleet(t, "pop1", "pop2")
	c := testutil.DialPOP3(t, f.nodes[1].addr)
	for _, name := range []string{"root", "admin"} {
		c.OK("USER " + name)
		c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
	}
	r := f.run("penalties")
	r.want(t, 0, `^NODE +SOURCE +FAILURES +LAST +DELAY +USERS\npop2 +127\.0\.0\.1/32 +2 +\S+ ago +\S+ +admin,root\n$`)

	f.run("penalty", "clear", "127.0.0.1").want(t, 0, "^pop2: cleared the penalty of 127.0.0.1\n$")
	r = f.run("penalty", "clear", "127.0.0.1")
	if r.code != 1 || r.stdout != "" || r.stderr != "popadm: no penalty for 127.0.0.1 on any node\n" {
		t.Errorf("clearing again: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// With a node down, nothing found on the others is said as such.
	f.nodes[0].stop()
	r = f.run("penalty", "clear", "127.0.0.1")
	if r.code != 1 || !strings.Contains(r.stderr, "popadm: node pop1: ") ||
		!strings.HasSuffix(r.stderr, "popadm: no penalty for 127.0.0.1 on the nodes that answered\n") {
		t.Errorf("with pop1 down: exit %d, stderr %q", r.code, r.stderr)
	}
}

// who on a fleet: node by node, each node's sessions oldest first.
func TestFleetWhoSorted(t *testing.T) {
	f := startFleet(t, "pop1", "pop2")
	f.login(1, fleetAccounts[0])
	f.login(0, fleetAccounts[1])
	testutil.DialPOP3(t, f.nodes[1].addr) // not logged in
	f.login(0, fleetAccounts[2])
	r := f.run("who")
	r.want(t, 0, `^NODE +ID .*\npop1 +\S+ +bob .*\npop1 +\S+ +carol .*\npop2 +\S+ +alice .*\npop2 +\S+ +- .*\n$`)
}
