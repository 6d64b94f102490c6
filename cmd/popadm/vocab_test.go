package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/tui"
)

// One vocabulary (issue 14): popadm who, user list, locks and penalties
// have the console's columns, named as it names them, in its order.
func TestListingsSpeakAsTheConsole(t *testing.T) {
	d, path := start(t)
	now := time.Now()
	d.AddSession(control.Session{ID: "7", User: "alice", Remote: "192.0.2.1:50123", State: "transaction", Since: now.Add(-time.Minute)})
	d.PutUser(control.User{Name: "alice", Scheme: "PLAIN", Messages: 2, Octets: 2048, Locked: true}, "pw")
	d.AddLock(control.Lock{User: "alice", Session: "7", Owner: "popd", Since: now.Add(-time.Minute), Refreshed: now})
	d.AddPenalty(control.Penalty{Source: "198.51.100.0/24", Failures: 5, Last: now, Delay: time.Second})
	cols := regexp.MustCompile(` {2,}`)
	for _, tc := range []struct {
		view string
		args []string
	}{
		{"Sessions", []string{"who"}},
		{"Users", []string{"user", "list"}},
		{"Locks", []string{"locks"}},
		{"Penalties", []string{"penalties"}},
	} {
		r := run(t, append([]string{"-control", path}, tc.args...)...)
		r.want(t, 0, "")
		header, _, _ := strings.Cut(r.stdout, "\n")
		got := cols.Split(strings.TrimSpace(header), -1)
		want := tui.Columns(tc.view)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("popadm %s says %q; the console's %s %q", strings.Join(tc.args, " "), got, tc.view, want)
		}
	}
}
