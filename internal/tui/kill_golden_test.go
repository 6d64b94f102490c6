package tui

import (
	"fmt"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"popd/internal/control"
	"popd/internal/event"
	"popd/themes"
)

// Golden snapshots of the Sessions page's tags, stuck sessions, the
// dialogs for many sessions and the details pane of a session that ended.
// Rewrite them with: go test ./internal/tui -run TestGoldenSessionsMany -update
func TestGoldenSessionsMany(t *testing.T) {
	stalled := func(ss []control.Session) {
		ss[7].Sending, ss[7].Stalled, ss[7].LastCommand = true, 45*time.Second, "RETR"
	}
	closed := func(d *driver) {
		d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{
			{Type: event.Kicked, Time: t0, Session: "7", User: "bob", Remote: "198.51.100.7:40022", By: "uid 0 (root)"},
			{Type: event.SessionClosed, Time: t0, Session: "7", User: "bob", Remote: "198.51.100.7:40022", Reason: "stopped"}}})
		d.poll(without(d.fake.sessions, "7"), t0)
	}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for _, tc := range []struct {
			name string
			data func([]control.Session)
			keys []string
			then func(d *driver)
		}{
			{name: "tagged", keys: []string{"space", "space", "j", "space"}},
			{name: "stuck", data: stalled, keys: []string{"G"}},
			{name: "kill_tagged", keys: []string{"space", "space", "j", "space", "K"}},
			{name: "kill_selector", then: func(d *driver) { d.command("kill from 192.0.2.0/24 state trans") }},
			{name: "closed_pane", keys: []string{"j"}, then: closed},
		} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1]), func(t *testing.T) {
				d := newDriver(t, sz[0], sz[1])
				if tc.data != nil {
					tc.data(d.fake.sessions)
				}
				d.start()
				feedHistory(d)
				d.send(eventsMsg{gen: d.ln().gen, evs: sampleEvents()})
				if tc.name == "closed_pane" && sz[0] < wideWidth {
					d.keys("enter") // wide terminals have it open
				}
				d.keys(tc.keys...)
				if tc.then != nil {
					tc.then(d)
				}
				golden(t, d.view())
			})
		}
	}
}

// The colours of tagged and stuck rows (accent, warning), in a theme's
// true colours.
func TestGoldenSessionsManyColours(t *testing.T) {
	d := sample(t, 80, 24)
	th, err := themes.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	d.m.re = renderer(termenv.TrueColor)
	d.m.setTheme(th)
	d.keys("space", "space")
	golden(t, escape(d.view()))
}
