package control_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
)

func TestSelectorMatches(t *testing.T) {
	ss := []control.Session{
		{ID: "1", User: "alice", Remote: "192.0.2.10:1100", State: "transaction", Idle: 10 * time.Minute},
		{ID: "2", User: "bob", Remote: "192.0.2.200:1100", State: "transaction", Idle: time.Second},
		{ID: "3", Remote: "198.51.100.7:40000", State: "authorization", Idle: 11 * time.Minute},
		{ID: "4", User: "alice", Remote: "[2001:db8::42]:60111", State: "update"},
		{ID: "5", User: "carol", Remote: "[::ffff:192.0.2.9]:5", State: "transaction", Idle: time.Hour},
	}
	for _, tc := range []struct {
		sel  control.Selector
		want []string
	}{
		{control.Selector{User: "alice"}, []string{"1", "4"}},
		{control.Selector{User: "Alice"}, nil}, // names are exact
		{control.Selector{From: "192.0.2.0/24"}, []string{"1", "2", "5"}},
		{control.Selector{From: "192.0.2.10/24"}, []string{"1", "2", "5"}}, // masked
		{control.Selector{From: "192.0.2.10"}, []string{"1"}},              // one address, not a prefix of the text
		{control.Selector{From: "2001:db8::/32"}, []string{"4"}},
		{control.Selector{State: "transaction"}, []string{"1", "2", "5"}},
		{control.Selector{IdleOver: 10 * time.Minute}, []string{"3", "5"}}, // longer than, not as long as
		{control.Selector{User: "alice", State: "transaction"}, []string{"1"}},
		{control.Selector{From: "192.0.2.0/24", IdleOver: 5 * time.Minute}, []string{"1", "5"}},
		{control.Selector{IDs: []string{"2", "3", "99"}}, []string{"2", "3"}},
		{control.Selector{IDs: []string{"2", "3"}, State: "authorization"}, []string{"3"}},
	} {
		match, err := tc.sel.Matcher()
		if err != nil {
			t.Fatalf("%+v: %v", tc.sel, err)
		}
		var got []string
		for _, s := range ss {
			if match(s) {
				got = append(got, s.ID)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.sel, got, tc.want)
		}
	}
	for _, sel := range []control.Selector{{}, {From: "192.0.2"}, {From: "alice"}, {State: "TRANSACTION"}, {State: "trans"}, {IdleOver: -1}} {
		var ce *control.Error
		if _, err := sel.Matcher(); !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
			t.Errorf("%+v: %v, want invalid", sel, err)
		}
	}
}

func TestSelectorWords(t *testing.T) {
	sel := control.Selector{IDs: []string{"7"}, User: "bob", From: "192.0.2.7/24", State: "transaction", IdleOver: 10 * time.Minute}
	if got := sel.String(); got != "session 7, user bob, from 192.0.2.0/24, in transaction, idle over 10m0s" {
		t.Errorf("String: %q", got)
	}
	for sel, want := range map[*control.Selector]string{
		{From: "192.0.2.7"}: "from 192.0.2.7",
		{IDs: []string{"a-1", "a-2"}, Users: []string{"bob"}}:                  "sessions a-1, a-2, user bob",
		{IDs: []string{"1", "2", "3", "4", "5", "6", "7"}}:                     "7 sessions by id",
		{Users: []string{"a", "b", "c", "d", "e", "f", "g", "h"}, IdleOver: 0}: "8 users",
	} {
		if got := sel.String(); got != want {
			t.Errorf("String: %q, want %q", got, want)
		}
	}
	for in, want := range map[string]string{"trans": "transaction", "AUTH": "authorization", "u": "update"} {
		if got, ok := control.StateNamed(in); !ok || got != want {
			t.Errorf("StateNamed(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := control.StateNamed("closed"); ok {
		t.Error("StateNamed(closed)")
	}
}

// TestKickSelectMethod: over the socket, kick_select kicks what matches
// (each a kick with who did it), a dry run only says which, and a monitor
// may do neither.
func TestKickSelectMethod(t *testing.T) {
	d := controltest.NewDaemon()
	for _, s := range []control.Session{
		{ID: "7", User: "alice", Remote: "192.0.2.1:1", State: "transaction"},
		{ID: "8", User: "bob", Remote: "192.0.2.2:1", State: "transaction"},
		{ID: "9", User: "bob", Remote: "198.51.100.1:1", State: "transaction"},
	} {
		d.AddSession(s)
	}
	path, _ := serve(t, d, "", nil)
	c := dial(t, path)
	ctx := t.Context()
	k, err := c.KickSelect(ctx, control.Selector{From: "192.0.2.0/24"}, true)
	if err != nil || !k.DryRun || !slices.Equal(k.IDs, []string{"7", "8"}) || len(d.Calls()) != 0 {
		t.Fatalf("dry run: %+v %v, calls %q", k, err, d.Calls())
	}
	k, err = c.KickSelect(ctx, control.Selector{User: "bob", From: "192.0.2.0/24"}, false)
	if err != nil || k.DryRun || k.Count != 1 || !slices.Equal(k.IDs, []string{"8"}) {
		t.Fatalf("kick: %+v %v", k, err)
	}
	if calls := d.Calls(); len(calls) != 1 || calls[0][:len("kick 8 by uid ")] != "kick 8 by uid " {
		t.Fatalf("calls %q", calls)
	}
	// Nothing matches: an empty list, not null, and no error.
	k, err = c.KickSelect(ctx, control.Selector{User: "carol"}, false)
	if err != nil || k.IDs == nil || len(k.IDs) != 0 {
		t.Fatalf("no match: %#v %v", k, err)
	}
	var ce *control.Error
	if _, err := c.KickSelect(ctx, control.Selector{}, false); !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
		t.Fatalf("empty selector: %v", err)
	}
	// Unknown fields are refused, as everywhere.
	if err := c.Call(ctx, "kick_select", map[string]any{"usr": "bob"}, nil); !errors.As(err, &ce) || ce.Code != control.CodeBadRequest {
		t.Fatalf("misspelt field: %v", err)
	}

	mpath, _ := serve(t, d, "", func(s *control.Server) {
		control.SetRoleFunc(s, func(uint32, uint32) (string, bool) { return control.RoleMonitor, true })
	})
	m := dial(t, mpath)
	if _, err := m.KickSelect(ctx, control.Selector{User: "bob"}, true); !errors.As(err, &ce) || ce.Code != control.CodeForbidden {
		t.Fatalf("monitor: %v", err)
	}
}
