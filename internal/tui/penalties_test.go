package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
)

// The fake's penalties: listed, and cleared as popd clears them (a source
// without one is skipped).

func (f *fakeBackend) Penalties(context.Context) ([]control.Penalty, error) {
	err := f.call("Penalties")
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.penalty), err
}

func (f *fakeBackend) ClearPenalties(_ context.Context, sources []string) (int, error) {
	if err := f.call("ClearPenalties", strings.Join(sources, ",")); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.penalty)
	f.penalty = slices.DeleteFunc(f.penalty, func(p control.Penalty) bool { return slices.Contains(sources, p.Source) })
	return n - len(f.penalty), nil
}

func samplePenalties() []control.Penalty {
	p := func(src string, n int, last, delay time.Duration, users ...string) control.Penalty {
		return control.Penalty{Source: src, Failures: n, Last: t0.Add(-last), Delay: delay, Users: users}
	}
	return []control.Penalty{
		p("198.51.100.23/32", 2, 40*time.Second, 2*time.Second, "admin", "erin"),
		p("203.0.113.66/32", 5, 11*time.Second, 16*time.Second, "root", "admin", "test"),
		p("2001:db8:42::/48", 12, 3*time.Second, 30*time.Second,
			"info", "sales", "postmaster", "webmaster", "support", "office", "contact", "mail"),
		p("192.0.2.99/32", 3, 5*time.Minute, 4*time.Second),
	}
}

func (d *driver) penalties() *penaltiesPage { return pageOf[*penaltiesPage](d.m) }

// shownSources are the Penalties page's rows, in order.
func (d *driver) shownSources() []string {
	var out []string
	for _, r := range d.penalties().t.rows {
		out = append(out, ref(r.node, r.Source))
	}
	return out
}

// Page 5 lists the penalties, worst first; c asks (Cancel first) and
// clears the selected source on popd.
func TestPenaltiesClear(t *testing.T) {
	d := newDriver(t, 120, 30).start()
	d.keys("5")
	if got := d.m.pageName(); got != "Penalties" {
		t.Fatalf("5 went to %s", got)
	}
	want := []string{"2001:db8:42::/48", "203.0.113.66/32", "192.0.2.99/32", "198.51.100.23/32"}
	if got := d.shownSources(); !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	d.mustContain("5 Penalties 4", "SOURCE", "FAILURES", "LAST", "DELAY", "USERS", "root,admin,test",
		"4 sources · sort failures ▼", "c clear", "C clear all shown")

	d.keys("j", "c")
	d.mustContain("Clear the penalty of 203.0.113.66/32?", "5 failed logins in a row, the last 11s ago",
		"Names tried: root, admin, test.")
	d.keys("enter") // Cancel has the focus
	wantActions(t, d.fake)
	d.keys("c", "tab", "enter")
	wantActions(t, d.fake, "ClearPenalties 203.0.113.66/32")
	d.mustContain("penalty of 203.0.113.66/32 cleared")
	if got := d.shownSources(); slices.Contains(got, "203.0.113.66/32") {
		t.Fatalf("the cleared source is still listed: %q", got)
	}

	// :penalties goes there too.
	d.keys("1", ":")
	d.typeText("penalties")
	d.keys("enter")
	if got := d.m.pageName(); got != "Penalties" {
		t.Fatalf(":penalties went to %s", got)
	}
}

// A source that has no penalty any more (cleared elsewhere, forgotten) is
// said, not reported cleared.
func TestPenaltiesClearGone(t *testing.T) {
	d := newDriver(t, 120, 30).start()
	d.keys("5", "c")
	d.fake.mu.Lock()
	d.fake.penalty = d.fake.penalty[:0]
	d.fake.mu.Unlock()
	d.keys("tab", "enter")
	d.mustContain("could not clear the penalty of 2001:db8:42::/48: it has none any more")
}

// C clears every source the filter shows, in one dialog that counts them,
// and leaves the others.
func TestPenaltiesClearAllFiltered(t *testing.T) {
	d := newDriver(t, 120, 30).start()
	d.keys("5", "/")
	d.typeText("admin")
	d.keys("enter")
	if got := d.shownSources(); !slices.Equal(got, []string{"203.0.113.66/32", "198.51.100.23/32"}) {
		t.Fatalf("filtered rows %q", got)
	}
	d.keys("C")
	d.mustContain("Clear the penalties of 2 sources?", `Every source the filter "admin" shows: 203.0.113.66/32,`,
		"198.51.100.23/32.", "Clear 2")
	d.keys("enter") // Cancel
	wantActions(t, d.fake)
	d.keys("C", "tab", "enter")
	wantActions(t, d.fake, "ClearPenalties 203.0.113.66/32,198.51.100.23/32")
	d.mustContain("penalties of 2 sources cleared")
	d.keys("esc") // the filter
	if got := d.shownSources(); !slices.Equal(got, []string{"2001:db8:42::/48", "192.0.2.99/32"}) {
		t.Fatalf("left %q", got)
	}

	// Nothing shown, nothing to clear: said, no dialog.
	d.keys("/")
	d.typeText("nobody")
	d.keys("enter", "C")
	if d.m.dialog() != nil {
		t.Fatal("C opened a dialog with no rows")
	}
	d.mustContain("no penalty to clear here")
}

// Read-only: c and C do nothing and are gone from the help.
func TestPenaltiesReadOnly(t *testing.T) {
	d := newDriver(t, 120, 30, readOnly).start()
	d.keys("5", "c")
	if d.m.dialog() != nil {
		t.Fatal("c opened a dialog in read-only mode")
	}
	d.keys("C")
	if d.m.dialog() != nil {
		t.Fatal("C opened a dialog in read-only mode")
	}
	d.mustNotContain("c clear", "C clear all")
	d.m.s.flash = flash{} // what the keys said
	d.keys("?")
	d.mustContain("KEYS — PENALTIES")
	d.mustNotContain("clear all shown")
	wantActions(t, d.fake)
}

// Many names are cut to fit, with "…"; a source that tried none shows "-".
func TestPenaltiesUsersCut(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys("5")
	v := d.view()
	line := ""
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, "2001:db8:42::/48") {
			line = l
		}
	}
	if !strings.Contains(line, "info,sales,") || !strings.HasSuffix(strings.TrimRight(line, " "), "…") {
		t.Fatalf("the names are not cut with …: %q", line)
	}
	d.mustContain("192.0.2.99/32", "5m00s ago")
}

// On a fleet: a NODE column, each node's own penalties, and c and C go to
// the node that holds the row.
func TestFleetPenalties(t *testing.T) {
	f := newFleetDriver(t, 120, 30)
	f.nodes[0].penalty = samplePenalties()[:2]
	f.nodes[1].penalty = samplePenalties()[1:3]
	f.start()
	f.keys("5")
	// Ties (203.0.113.66 on both) in the table's order, reversed with the sort.
	want := []string{"pop2/2001:db8:42::/48", "pop2/203.0.113.66/32", "pop1/203.0.113.66/32", "pop1/198.51.100.23/32"}
	if got := f.shownSources(); !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	f.mustContain("NODE", "6 Nodes")

	f.keys("g", "j", "c")
	f.mustContain("Clear the penalty of 203.0.113.66/32?", "Node pop2 clears it.")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[0])
	wantActions(t, f.nodes[1], "ClearPenalties 203.0.113.66/32")
	f.mustContain("penalty of 203.0.113.66/32 on pop2 cleared")

	f.keys("C")
	f.mustContain("Clear the penalties of 3 sources?", "Each node clears its own.")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[0], "ClearPenalties 203.0.113.66/32,198.51.100.23/32")
	wantActions(t, f.nodes[1], "ClearPenalties 203.0.113.66/32", "ClearPenalties 2001:db8:42::/48")
	if got := f.shownSources(); len(got) != 0 {
		t.Fatalf("left %q", got)
	}
}

func TestGoldenPenalties(t *testing.T) {
	for _, tc := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"clear_confirm", 80, 24, []string{"5", "c"}},
		{"clear_confirm", 160, 48, []string{"5", "c"}},
		{"clear_all_confirm", 80, 24, []string{"5", "/", "a", "d", "m", "i", "n", "enter", "C"}},
		{"clear_all_confirm", 160, 48, []string{"5", "/", "a", "d", "m", "i", "n", "enter", "C"}},
		{"readonly", 80, 24, []string{"5"}},
	} {
		t.Run(fmt.Sprintf("%s_%dx%d", tc.name, tc.w, tc.h), func(t *testing.T) {
			var opts []driverOpt
			if tc.name == "readonly" {
				opts = append(opts, readOnly)
			}
			d := sample(t, tc.w, tc.h, opts...)
			d.keys(tc.keys...)
			golden(t, d.view())
		})
	}
	t.Run("fleet_80x24", func(t *testing.T) {
		f := fleetSample(t, 80, 24)
		f.nodes[1].penalty = samplePenalties()[1:3]
		f.m.s.flash = flash{}
		f.keys("5")
		golden(t, f.view())
	})
}
