package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
	"popd/internal/testutil"
)

// popdAt is a control server, standing for one run of popd, at path until
// stop (or the test's end).
type popdAt struct {
	*control.Server
	stop func()
}

func servePopd(t *testing.T, path string, boot event.Boot) *popdAt {
	t.Helper()
	cfg := control.ServerConfig{Path: path, Version: "test", Logger: testutil.Log(t), Boot: boot}
	ln, err := control.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := controltest.NewDaemon()
	srv := control.NewServer(cfg, d)
	d.SetPublisher(srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	p := &popdAt{Server: srv}
	stopped := false
	p.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(p.stop)
	return p
}

func socketPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "popd-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "control.sock")
}

// bootAt is a run of popd that started at t.
func bootAt(id string, t time.Time) event.Boot { return event.Boot{ID: id, Tag: id[:4], Started: t} }

// receive takes n events from link i's stream, as the event reader would,
// and gives them to the Model as one batch.
func (d *driver) receive(i, n int) []control.Event {
	d.t.Helper()
	l := d.m.links[i]
	var evs []control.Event
	timeout := time.After(10 * time.Second)
	for len(evs) < n {
		select {
		case e, ok := <-l.evCh:
			if !ok {
				d.t.Fatalf("stream ended after %d of %d events", len(evs), n)
			}
			evs = append(evs, e)
		case <-timeout:
			d.t.Fatalf("%d of %d events within 10s", len(evs), n)
		}
	}
	d.send(eventsMsg{node: i, gen: l.gen, evs: evs})
	return evs
}

// breakLink makes link i's connection fail, as a dropped socket does: its
// next poll fails, and the dashboard reconnects.
func (d *driver) breakLink(i int) {
	d.t.Helper()
	d.m.links[i].backend.Close()
	fire[pollTickMsg](d)
	if d.m.links[i].connected {
		d.t.Fatal("still connected")
	}
}

func deliveries(p *popdAt, users ...string) {
	for _, u := range users {
		p.Publish(control.Event{Type: event.Delivered, User: u, Reason: "to " + u})
	}
}

// consoleOnPopd serves a control socket with a popd of its own and starts
// a console (100×30) on it, until the test ends.
func consoleOnPopd(t *testing.T) (string, *popdAt, *driver) {
	t.Helper()
	path := socketPath(t)
	popd := servePopd(t, path, event.Boot{})
	d := newDriver(t, 100, 30)
	d.dial = func(int) (Backend, error) { return control.Dial(context.Background(), path) }
	d.start()
	t.Cleanup(d.m.shutdown)
	return path, popd, d
}

// The console's connection to the same popd drops; popd goes on; on the
// reconnect the console gets what it missed, nothing twice, no notice.
func TestResumeSamePopd(t *testing.T) {
	_, popd, d := consoleOnPopd(t)
	deliveries(popd, "u1", "u2", "u3")
	d.receive(0, 3)

	d.breakLink(0)
	deliveries(popd, "u4", "u5", "u6", "u7")
	fire[redialMsg](d)
	if !d.ln().connected {
		t.Fatal("not reconnected")
	}
	deliveries(popd, "u8")
	got := d.receive(0, 5)
	for _, e := range got {
		if e.Type != event.Delivered {
			t.Fatalf("resumed with %+v", e)
		}
	}
	d.keys("4", "x")
	var users []string
	for _, r := range d.events().rows {
		users = append(users, r.e.User)
	}
	if strings.Join(users, " ") != "u1 u2 u3 u4 u5 u6 u7 u8" {
		t.Fatalf("events %v", users)
	}
	d.mustContain("8 events")
	d.mustNotContain("not seen", "restarted")
}

// popd restarts under the console: the restart line with how long it was
// down, and "events not seen" when the old run did not say it stopped.
func TestResumeRestartedPopd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		clean bool // the old run said popd.stopped
	}{{"crash", false}, {"clean", true}} {
		t.Run(tc.name, func(t *testing.T) {
			path, old, d := consoleOnPopd(t)
			deliveries(old, "u1")
			n := 1
			if tc.clean {
				old.Publish(control.Event{Type: event.Stopped, Time: t0.Add(-5 * time.Second), Reason: "shutting down"})
				n++
			}
			d.receive(0, n)
			old.stop()
			d.breakLink(0) // the dashboard's clock says t0

			// The new run started 10 s after the old one stopped cleanly,
			// or 15 s after the console lost it.
			started := t0.Add(15 * time.Second)
			if tc.clean {
				started = t0.Add(10 * time.Second)
			}
			popd := servePopd(t, path, bootAt("q3k9newrunxx", started))
			deliveries(popd, "u2", "u3")
			fire[redialMsg](d)
			notices := 1 // popd.restarted
			if !tc.clean {
				notices++
			}
			d.receive(0, notices+2)
			d.keys("4", "x")
			d.mustContain("── popd restarted 12:00:1", "(down 15s) ──", "to u2", "to u3")
			if tc.clean {
				d.mustNotContain("not seen")
			} else {
				d.mustContain("── events not seen (popd stopped) ──")
			}
			if c := d.ln().cursor; c.Boot != "q3k9newrunxx" || c.Seq != 2 {
				t.Fatalf("cursor %+v", c)
			}
		})
	}
}

// On a fleet each node resumes on its own: pop2 restarted, pop1 did not.
func TestResumeFleet(t *testing.T) {
	paths := []string{socketPath(t), socketPath(t)}
	pop1 := servePopd(t, paths[0], event.Boot{})
	pop2 := servePopd(t, paths[1], event.Boot{})
	d := newDriver(t, 120, 30, func(d *driver, o *Options) {
		for i, name := range []string{"pop1", "pop2"} {
			o.Nodes = append(o.Nodes, Node{Name: name, Dial: func(ctx context.Context) (Backend, error) {
				return control.Dial(ctx, paths[i])
			}})
		}
	})
	d.start()
	defer d.m.shutdown()
	deliveries(pop1, "a1")
	deliveries(pop2, "b1")
	d.receive(0, 1)
	d.receive(1, 1)

	// Both connections drop; only pop2 restarts meanwhile.
	d.m.links[0].backend.Close()
	d.m.links[1].backend.Close()
	pop2.stop()
	fire[pollTickMsg](d)
	deliveries(pop1, "a2")
	pop2 = servePopd(t, paths[1], bootAt("q3k9pop2againx", t0.Add(3*time.Second)))
	deliveries(pop2, "b2")
	fire[redialMsg](d)
	d.receive(0, 1)
	d.receive(1, 3)
	d.keys("4", "x")
	d.mustContain("── pop2: events not seen (popd stopped) ──", "── pop2: popd restarted 12:00:03 (down 3s) ──", "to a2", "to b2")
	d.mustNotContain("pop1: popd restarted")
}

// A Backend that cannot resume: a reconnect says events may be missing.
func TestReconnectWithoutResume(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.fake.events <- control.Event{Type: event.Login, Time: t0, User: "alice"}
	d.pump()
	d.fake.setErr("Sessions", os.ErrClosed)
	fire[pollTickMsg](d)
	d.fake.setErr("Sessions", nil)
	fire[redialMsg](d)
	d.keys("4")
	d.mustContain("── events not seen (the connection to popd broke) ──")
}

// More events while away than popd keeps: those it still has come, after
// a line counting the others.
func TestResumeOverrunSaysNotSeen(t *testing.T) {
	_, popd, d := consoleOnPopd(t)
	deliveries(popd, "u0")
	d.receive(0, 1)
	d.breakLink(0)
	for i := range control.Backlog + 5 {
		popd.Publish(control.Event{Type: event.Login, User: fmt.Sprintf("u%d", i+1)})
	}
	fire[redialMsg](d)
	d.receive(0, 1+control.Backlog)
	d.keys("4")
	d.mustContain(fmt.Sprintf("u%d", control.Backlog+5))
	d.keys("g")
	d.mustContain("(to u0)", "── 5 events not seen (no longer in popd's backlog) ──", "login          u6 ")
	if n := d.events().total(); n != 1+control.Backlog {
		t.Fatalf("%d events", n)
	}
}
