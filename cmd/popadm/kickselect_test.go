package main

import (
	"strings"
	"testing"
	"time"

	"popd/internal/control"
)

// kick by selector: popd picks, the flags are ANDed, a dry run only
// lists; nothing matching is said and is exit status 1, as pkill's (bug 8).
func TestKickSelector(t *testing.T) {
	d, path := start(t)
	for _, s := range []control.Session{
		{ID: "7", User: "alice", Remote: "192.0.2.1:1100", State: "transaction", Idle: 20 * time.Minute},
		{ID: "8", User: "bob", Remote: "192.0.2.2:1100", State: "transaction", Idle: time.Second},
		{ID: "9", Remote: "192.0.2.3:1100", State: "authorization", Idle: 30 * time.Minute},
		{ID: "10", User: "bob", Remote: "198.51.100.1:1100", State: "transaction", Idle: time.Hour},
	} {
		d.AddSession(s)
	}
	c := "-control=" + path

	r := run(t, c, "kick", "--user", "nobody")
	r.want(t, 1, "^$")
	if r.stderr != "popadm: no session of nobody\n" {
		t.Errorf("no match: stderr %q", r.stderr)
	}
	run(t, c, "kick", "--from", "192.0.2.0/24", "--state", "trans", "--dry-run").
		want(t, 0, `^would kick 2 sessions \(from 192\.0\.2\.0/24, in transaction\): 7 8\n$`)
	run(t, c, "kick", "--from", "198.51.100.1", "--dry-run", "--state", "auth").want(t, 1, "^$")
	if calls := d.Calls(); len(calls) != 0 {
		t.Fatalf("a dry run kicked: %q", calls)
	}
	run(t, c, "kick", "--idle-over", "10m", "--from", "192.0.2.0/24").
		want(t, 0, `^kicked 2 sessions \(from 192\.0\.2\.0/24, idle over 10m0s\)\n$`)
	run(t, c, "kick", "--user", "bob").want(t, 0, "^kicked 2 sessions of bob\n$")
	r = run(t, c, "kick", "--user", "bob")
	if r.code != 1 || r.stdout != "" || r.stderr != "popadm: no session of bob\n" {
		t.Errorf("bob again: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, c, "kick", "--state", "update")
	if r.code != 1 || r.stderr != "popadm: no session matches in update\n" {
		t.Errorf("none in update: %d %q", r.code, r.stderr)
	}
	calls := d.Calls()
	if len(calls) != 4 || !strings.HasPrefix(calls[0], "kick 7 by uid ") || !strings.HasPrefix(calls[1], "kick 9 by uid ") {
		t.Errorf("calls %q", calls)
	}

	for _, args := range [][]string{
		{"kick", "7", "--user", "x"},
		{"kick", "7", "--dry-run"},
		{"kick", "--dry-run"},
		{"kick", "--state", "closed"},
		{"kick", "--from", "192.0.2"},
		{"kick", "--idle-over", "-1m"},
		{"kick", "--idle-over", "soon"},
	} {
		r := run(t, append([]string{c}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "usage: popadm kick") {
			t.Errorf("%q: %d %q", args, r.code, r.stderr)
		}
	}
}

// On a fleet a selector goes to every node, each picks its own sessions,
// and the counts add up; nothing anywhere is exit status 1.
func TestFleetKickSelector(t *testing.T) {
	f := startFleet(t, "pop1", "pop2")
	alice := f.login(0, fleetAccounts[0])
	bob := f.login(1, fleetAccounts[1])
	carol := f.login(0, fleetAccounts[2])
	f.run("kick", "--from", "127.0.0.0/8", "--state", "transaction", "--dry-run").
		want(t, 0, `^pop1: would kick 2 sessions \(from 127\.0\.0\.0/8, in transaction\): \S+ \S+\npop2: would kick 1 session \(from 127\.0\.0\.0/8, in transaction\): \S+\n$`)
	alice.OK("NOOP")
	f.run("kick", "--user", "bob").want(t, 0, "^pop1: kicked 0 sessions of bob\npop2: kicked 1 session of bob\n$")
	bob.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	r := f.run("kick", "--user", "bob")
	r.want(t, 1, "^pop1: kicked 0 sessions of bob\npop2: kicked 0 sessions of bob\n$")
	if r.stderr != "popadm: no session of bob\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	f.run("kick", "--state", "transaction").want(t, 0, "^pop1: kicked 2 sessions \\(in transaction\\)\npop2: kicked 0 sessions \\(in transaction\\)\n$")
	alice.Expect("-ERR [SYS/TEMP]")
	carol.Expect("-ERR [SYS/TEMP]")
}
