package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
)

// A fleet of fake nodes, for Update and the golden files: pop1 has the
// first four sample sessions, pop2 the other four (with ids of its own, as
// each popd numbers its sessions: pop1 and pop2 both have a session 3 and
// a session 7), and pop3 is down. Every node sees the same locks (they are
// in the shared maildrops); each knows its own sessions' locks.
type fleetDriver struct {
	*driver
	nodes []*fakeBackend
	down  map[string]error // nodes that do not answer, and why
}

var fleetNames = []string{"pop1", "pop2", "pop3"}

func newFleetDriver(t *testing.T, w, h int, opts ...driverOpt) *fleetDriver {
	t.Helper()
	f := &fleetDriver{down: map[string]error{
		"pop3": errors.New("control: popd is not running? no control socket at /run/popd/pop3.sock"),
	}}
	all := sampleSessions()
	ids := []string{"2", "3", "5", "7"}
	for i := range fleetNames {
		b := newFake()
		b.sessions = nil
		if i < 2 {
			b.sessions = all[i*4 : i*4+4]
		}
		if i == 1 {
			b.sessions = slices.Clone(b.sessions)
			for j := range b.sessions {
				b.sessions[j].ID = ids[j]
			}
		}
		b.stats.Sessions = len(b.sessions)
		b.stats.Version = "0.1." + fmt.Sprint(min(i, 1))
		b.locks = []control.Lock{
			{User: "alice", Owner: "popd", Host: "mx1", PID: 811, Since: t0.Add(-3 * time.Minute), Refreshed: t0.Add(-10 * time.Second)},
			{User: "bob", Owner: "popd", Host: "mx2", PID: 812, Since: t0.Add(-45 * time.Second), Refreshed: t0.Add(-5 * time.Second)},
			sampleLocks()[1],
		}
		if i < 2 {
			b.locks[i].Session = b.sessions[i].ID // alice's on pop1 (3), bob's on pop2 (3)
		}
		f.nodes = append(f.nodes, b)
	}
	fleetOpt := func(d *driver, o *Options) {
		for i, name := range fleetNames {
			o.Nodes = append(o.Nodes, Node{Name: name, Dial: func(context.Context) (Backend, error) {
				if err := f.down[name]; err != nil {
					return nil, err
				}
				return f.nodes[i], nil
			}})
		}
	}
	f.driver = newDriver(t, w, h, append([]driverOpt{fleetOpt}, opts...)...)
	return f
}

// fleetSample is a fleet dashboard with 40 polls of history on each node
// that is up, and their events.
func fleetSample(t *testing.T, w, h int) *fleetDriver {
	t.Helper()
	f := newFleetDriver(t, w, h)
	f.start()
	logins, sent := make([]int64, 2), make([]int64, 2)
	for i := range 40 {
		for n, l := range f.m.links {
			if !l.connected {
				continue
			}
			// pop1 busier and busier; pop2 in waves.
			if n == 0 {
				logins[n] += int64(i / 8)
				sent[n] += int64(i * 30000)
			} else {
				logins[n] += int64(i % 5)
				sent[n] += int64((i % 10) * 90000)
			}
			s := f.nodes[n].stats
			s.Logins += logins[n]
			s.LoginsPerMin = float64((i*5+n)%11) / 2
			s.BytesSent += sent[n]
			f.send(pollMsg{node: n, gen: l.gen, seq: l.pollSeq, at: t0.Add(time.Duration(i-39) * time.Second),
				stats: s, gotStats: true, sessions: f.nodes[n].sessions, got: fetchSessions})
		}
	}
	evs := sampleEvents()
	for n := range 2 {
		var mine []control.Event
		for i := n; i < len(evs); i += 2 {
			mine = append(mine, evs[i])
		}
		f.send(eventsMsg{node: n, gen: f.m.links[n].gen, evs: mine})
	}
	return f
}

func (f *fleetDriver) refs() []string {
	var out []string
	for _, r := range f.sessions().t.rows {
		out = append(out, r.ref())
	}
	return out
}

func TestFleetMerges(t *testing.T) {
	f := fleetSample(t, 120, 30)
	if got, want := f.refs(), []string{"pop1/3", "pop1/7", "pop1/8", "pop1/12", "pop2/2", "pop2/3", "pop2/5", "pop2/7"}; !slices.Equal(got, want) {
		t.Fatalf("sessions %q, want %q", got, want)
	}
	f.mustContain("fleet of 3 nodes", "2/3 up", "NODE", "1 Sessions 8", "6 Nodes 2/3")
	f.mustNotContain("● live", "disconnected") // a node down is no banner

	// The locks are every node's, each once, on the node whose session
	// holds it.
	f.keys("3")
	var locks []string
	for _, l := range f.locks().t.rows {
		locks = append(locks, l.node+" "+l.User+" "+l.Session)
	}
	if want := []string{"pop1 alice 3", "pop1 dave ", "pop2 bob 3"}; !slices.Equal(locks, want) {
		t.Fatalf("locks %q, want %q", locks, want)
	}

	// The users are asked of one node.
	f.keys("2")
	for i, b := range f.nodes[:2] {
		if users := slices.Contains(b.calls, "Users"); users != (i == 0) {
			t.Errorf("%s listed users: %v", fleetNames[i], users)
		}
	}

	// The events are merged in time order, each with its node.
	f.keys("4")
	var evs []string
	for _, r := range f.events().rows {
		evs = append(evs, r.node+" "+r.clock)
	}
	if len(evs) != 12 || evs[0] != "pop1 11:58:01" || evs[1] != "pop2 11:58:02" || evs[11] != "pop2 11:59:20" {
		t.Fatalf("events %q", evs)
	}
	f.mustContain("11:58:02 pop2 ")
}

func TestFleetRoutesActions(t *testing.T) {
	f := fleetSample(t, 120, 30)
	// pop2's session 7, not pop1's.
	f.keys("G", "K")
	if c := f.m.dialog(); c == nil || c.req.node != "pop2" || c.req.target != "7" {
		t.Fatalf("kick dialog %+v", c)
	}
	f.mustContain("Kick session pop2/7?")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[0])
	wantActions(t, f.nodes[1], "Kick 7")
	f.mustContain("session pop2/7 kicked")

	// bob's lock to pop2, whose session holds it.
	f.keys("3", "G", "b")
	f.mustContain("Node pop2 unlocks it.")
	f.keys("tab", "enter")
	wantActions(t, f.nodes[1], "Kick 7", "Unlock bob")
	f.mustContain("maildrop of bob on pop2 unlocked")

	// A user's to the first node up (alice's session pop1/3 is open: asked).
	f.keys("2", "e", "tab", "enter")
	wantActions(t, f.nodes[0], "SetDisabled alice true")

	// A node that is down: its rows stay, marked, and what is for it is
	// refused; the user's go to another node.
	f.nodes[0].setErr("Sessions", errors.New("control: who: popd closed the connection"))
	fire[pollTickMsg](f.driver)
	f.mustContain("node pop1 is down: control: who: popd closed the connection")
	f.keys("1", "g")
	if r := f.sessions().t.selected(); r == nil || r.ref() != "pop1/3" || !r.down {
		t.Fatalf("pop1/3 after pop1 went down: %+v", r)
	}
	f.mustContain("node down", "1/3 up")
	f.keys("K", "tab", "enter")
	f.mustContain("could not kick session pop1/3: not connected to pop1")
	f.keys("2", "e")
	wantActions(t, f.nodes[0], "SetDisabled alice true")
	wantActions(t, f.nodes[1], "Kick 7", "Unlock bob", "SetDisabled alice true")

	// pop1 comes back: its rows are live again.
	f.nodes[0].setErr("Sessions", nil)
	for len(held[redialMsg](f.driver)) > 0 && !f.m.links[0].connected {
		fire[redialMsg](f.driver)
	}
	if r := f.sessions().t.all[0]; r.down {
		t.Fatalf("pop1's rows still down: %+v", r)
	}
}

func TestFleetAllDown(t *testing.T) {
	f := newFleetDriver(t, 80, 24)
	for _, n := range fleetNames {
		f.down[n] = errors.New("control: popd is not running? nothing answers on /run/popd/" + n + ".sock")
	}
	f.start()
	f.mustContain("cannot connect to any node — reconnecting in 1s…", "pop1: control: popd is not running?", "0/3 up", "no data")
	f.keys("6")
	f.mustContain("pop1 is down", "pop2 is down", "pop3 is down")
}

func TestFleetOneNode(t *testing.T) {
	// One popd is not a fleet: no NODE column, no Nodes page.
	d := newDriver(t, 80, 24).start()
	d.mustNotContain("NODE", "Nodes")
	if len(d.m.pages) != len(registry) {
		t.Fatalf("%d pages", len(d.m.pages))
	}
	// A fleet of one is.
	d = newDriver(t, 80, 24, func(d *driver, o *Options) {
		o.Nodes = []Node{{Name: "solo", Dial: func(context.Context) (Backend, error) { return d.fake, nil }}}
	}).start()
	d.mustContain("NODE", "solo", "6 Nodes 1/1", "● 1/1 up")
}

func TestGoldenFleet(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{"sessions", []string{"1"}},
		{"sessions_detail", []string{"1", "j", "enter"}},
		{"locks", []string{"3"}},
		{"events", []string{"4"}},
		{"nodes", []string{"6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fleetSample(t, 80, 24)
			f.m.s.flash = flash{}
			f.keys(tc.keys...)
			golden(t, f.view())
		})
	}
	t.Run("nodes_no_color", func(t *testing.T) {
		t.Setenv("NO_COLOR", "1")
		f := fleetSample(t, 80, 24)
		f.keys("6", "j")
		v := f.view()
		if !strings.Contains(v, "> pop2") {
			t.Fatalf("no > marker on the selected node:\n%s", v)
		}
		golden(t, v)
	})
}

func TestFleetRoles(t *testing.T) {
	// Monitors on every node: read-only.
	f := newFleetDriver(t, 120, 30)
	for _, b := range f.nodes {
		b.role = control.RoleMonitor
	}
	f.start()
	f.mustContain("read-only", "monitor")
	f.keys("K")
	if f.m.dialog() != nil {
		t.Fatal("K opened a dialog on a fleet of monitors")
	}

	// Mixed: the actions stay on; a node that refuses says so.
	f = newFleetDriver(t, 120, 30, readOnly)
	f.nodes[1].role = control.RoleMonitor
	f.start()
	f.mustContain("read-only", "mixed")
	f.keys("K")
	if f.m.dialog() != nil {
		t.Fatal("K opened a dialog with --readonly")
	}
	f = newFleetDriver(t, 120, 30)
	f.nodes[1].role = control.RoleMonitor
	f.start()
	f.mustContain("mixed")
	f.mustNotContain("read-only")
}
