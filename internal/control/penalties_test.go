package control_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
)

// penalty_clear on a source without a penalty is "not-found", not a
// success (issue 14, bug 8); penalties_clear clears many in one call,
// skipping those without one, each with its event naming who.
func TestClearPenalties(t *testing.T) {
	d := controltest.NewDaemon()
	for _, s := range []string{"192.0.2.1/32", "192.0.2.2/32", "2001:db8:1::/48"} {
		d.AddPenalty(control.Penalty{Source: s, Failures: 3, Users: []string{"root"}})
	}
	path, srv := serve(t, d, "", nil)
	d.SetPublisher(srv)
	c := dial(t, path)
	ctx := t.Context()
	events, err := dial(t, path).Events(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var ce *control.Error
	if err := c.ClearPenalty(ctx, "198.51.100.1/32"); !errors.As(err, &ce) || ce.Code != control.CodeNotFound || ce.Message != "no penalty for 198.51.100.1/32" {
		t.Fatalf("clearing a source without a penalty: %v", err)
	}
	n, err := c.ClearPenalties(ctx, []string{"192.0.2.1/32", "198.51.100.1/32", "2001:db8:1::/48"})
	if err != nil || n != 2 {
		t.Fatalf("ClearPenalties: %d, %v; want 2", n, err)
	}
	by := " by " + me(t)
	want := "penalty_clear 192.0.2.1/32" + by + "\npenalty_clear 2001:db8:1::/48" + by
	if got := strings.Join(d.Calls(), "\n"); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
	for _, src := range []string{"192.0.2.1/32", "2001:db8:1::/48"} {
		if e := <-events; e.Type != event.PenaltyCleared || e.Remote != src || e.Count != 3 || e.By != me(t) {
			t.Errorf("event %+v, want penalty.cleared of %s by %s", e, src, me(t))
		}
	}
	if ps, _ := c.Penalties(ctx); len(ps) != 1 || ps[0].Source != "192.0.2.2/32" {
		t.Errorf("left: %+v", ps)
	}

	// No sources is no call; an empty one is a bad request.
	if n, err := c.ClearPenalties(ctx, nil); n != 0 || err != nil {
		t.Errorf("ClearPenalties(nil): %d, %v", n, err)
	}
	if _, err := c.ClearPenalties(ctx, []string{""}); !errors.As(err, &ce) || ce.Code != control.CodeBadRequest {
		t.Errorf(`ClearPenalties(""): %v`, err)
	}

	// Many sources go in several calls, each under the frame limit.
	var many []string
	for i := range 5000 {
		src := fmt.Sprintf("10.%d.%d.%d/32", i>>16, (i>>8)&255, i&255)
		d.AddPenalty(control.Penalty{Source: src})
		many = append(many, src)
	}
	if n, err := c.ClearPenalties(ctx, many); err != nil || n != 5000 {
		t.Errorf("5,000 sources: %d, %v", n, err)
	}
}

func TestClearPenaltiesForbiddenToMonitors(t *testing.T) {
	d := controltest.NewDaemon()
	d.AddPenalty(control.Penalty{Source: "192.0.2.1/32"})
	path, _ := serve(t, d, "", func(s *control.Server) {
		control.SetRoleFunc(s, func(uint32, uint32) (string, bool) { return control.RoleMonitor, true })
	})
	var ce *control.Error
	if _, err := dial(t, path).ClearPenalties(t.Context(), []string{"192.0.2.1/32"}); !errors.As(err, &ce) || ce.Code != control.CodeForbidden {
		t.Fatalf("as monitor: %v", err)
	}
	if calls := d.Calls(); len(calls) != 0 {
		t.Errorf("a monitor cleared: %q", calls)
	}
}
