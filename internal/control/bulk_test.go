package control_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"popd/internal/control"
	"popd/internal/control/controltest"
)

// users_set_disabled and locks_unlock over the socket, on a Daemon that
// does them one by one (controltest's): a result per name in the order
// given, repeats once, a failure alone; a monitor may do neither; bad
// params are refused.
func TestManyMethods(t *testing.T) {
	d := controltest.NewDaemon()
	for _, n := range []string{"alice", "bob", "carol"} {
		d.PutUser(control.User{Name: n}, "pw")
	}
	d.AddLock(control.Lock{User: "alice", Owner: "popd"})
	d.AddLock(control.Lock{User: "carol", Owner: "popd"})
	path, _ := serve(t, d, "", nil)
	c := dial(t, path)
	ctx := t.Context()

	rs, err := c.SetDisabledMany(ctx, []string{"bob", "nobody", "alice", "bob"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[0].Name != "bob" || rs[0].Err() != nil || rs[1].Name != "nobody" ||
		rs[1].Error == nil || rs[1].Error.Code != control.CodeNotFound || rs[2].Name != "alice" || rs[2].Err() != nil {
		t.Fatalf("results %+v", rs)
	}
	if got := control.ManyError(rs); got != `nobody: no user "nobody"` {
		t.Errorf("ManyError: %q", got)
	}
	by := " by " + me(t)
	want := []string{"user_disable bob true" + by, "user_disable alice true" + by}
	if got := d.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}

	rs, err = c.UnlockMany(ctx, []string{"carol", "bob", "alice"})
	if err != nil || len(rs) != 3 || rs[0].Err() != nil || rs[1].Error == nil || rs[2].Err() != nil {
		t.Fatalf("unlock: %+v %v", rs, err)
	}
	if f := control.Failed(rs); len(f) != 1 || f[0].Name != "bob" || f[0].Error.Code != control.CodeNotFound {
		t.Fatalf("failed %+v", f)
	}
	if ls, _ := c.Locks(ctx); len(ls) != 0 {
		t.Fatalf("locks left %+v", ls)
	}

	var ce *control.Error
	for _, bad := range []struct {
		method string
		params any
	}{
		{"users_set_disabled", map[string]any{"names": []string{"bob"}}}, // disabled is required
		{"users_set_disabled", map[string]any{"names": []string{}, "disabled": true}},
		{"users_set_disabled", map[string]any{"names": []string{"bob", ""}, "disabled": true}},
		{"locks_unlock", map[string]any{"users": []string{}}},
		{"locks_unlock", map[string]any{"user": "bob"}},
	} {
		if err := c.Call(ctx, bad.method, bad.params, nil); !errors.As(err, &ce) || ce.Code != control.CodeBadRequest {
			t.Errorf("%s %v: %v", bad.method, bad.params, err)
		}
	}

	mpath, _ := serve(t, d, "", func(s *control.Server) {
		control.SetRoleFunc(s, func(uint32, uint32) (string, bool) { return control.RoleMonitor, true })
	})
	m := dial(t, mpath)
	if _, err := m.SetDisabledMany(ctx, []string{"bob"}, false); !errors.As(err, &ce) || ce.Code != control.CodeForbidden {
		t.Fatalf("monitor: %v", err)
	}
	if _, err := m.UnlockMany(ctx, []string{"bob"}); !errors.As(err, &ce) || ce.Code != control.CodeForbidden {
		t.Fatalf("monitor: %v", err)
	}
}

// Many names go in several calls, each under the request size limit, the
// results together in order.
func TestManyBatches(t *testing.T) {
	d := controltest.NewDaemon()
	var names []string
	for i := range 3000 {
		n := fmt.Sprintf("user%04d-%s", i, strings.Repeat("x", 20))
		names = append(names, n)
		d.PutUser(control.User{Name: n}, "pw")
	}
	path, _ := serve(t, d, "", nil)
	rs, err := dial(t, path).SetDisabledMany(t.Context(), names, true)
	if err != nil || len(rs) != len(names) || rs[len(rs)-1].Name != names[len(names)-1] || len(control.Failed(rs)) != 0 {
		t.Fatalf("%d results, %v", len(rs), err)
	}
}

// A selector's users: the sessions of any of them.
func TestSelectorUsers(t *testing.T) {
	sel := control.Selector{Users: []string{"alice", "carol"}}
	match, err := sel.Matcher()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range []control.Session{{ID: "1", User: "alice"}, {ID: "2", User: "bob"}, {ID: "3"}, {ID: "4", User: "carol"}} {
		if match(s) {
			got = append(got, s.ID)
		}
	}
	if !slices.Equal(got, []string{"1", "4"}) || sel.String() != "users alice, carol" {
		t.Fatalf("matched %q; %q", got, sel.String())
	}
	var ce *control.Error
	if _, err := (control.Selector{Users: []string{""}}).Matcher(); !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
		t.Fatalf("an empty name: %v", err)
	}
}
