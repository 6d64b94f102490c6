package tui

import (
	"fmt"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
)

// Golden snapshots of the Events view's states: a burst collapsed, the
// severity filters, a restart with what was not seen, a long line
// selected and drawn whole.
func TestGoldenEvents(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s-120) * time.Second) }
	samples := sampleEvents()
	withBurst := append([]control.Event{}, samples[:5]...)
	for i := range 40 { // 200 ms apart
		withBurst = append(withBurst, control.Event{Type: event.Delivered, Time: at(21).Add(time.Duration(i) * 200 * time.Millisecond),
			User: "carol@example.org", Reason: fmt.Sprintf("1741953%03d.M%dP811.mx1", i, i)})
	}
	withBurst = append(withBurst, samples[5:]...)
	long := control.Event{Type: event.LoginFailed, Time: at(90), Session: "q3k9-1042",
		User: "someone.with.a.very.long.name@subdomain.example.org", Remote: "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
		Method: "AUTH SCRAM-SHA-256",
		Reason: "bad password: the client's proof did not verify (SCRAM-SHA-256, iteration count 4096, salt from the users file); " +
			"the source has failed 12 times in the last hour and waits 8s before its next try"}
	restart := []control.Event{
		{Type: event.Login, Time: at(85), Session: "q3k9-8", User: "carol@example.org", Remote: "[2001:db8::42]:60111", Reason: "USER"},
		{Type: event.Stopped, Time: at(86), Reason: "shutting down", Seq: 90},
		{Type: event.Restarted, Time: at(101), Boot: "q3kanewrunxx", Duration: 15 * time.Second},
		{Type: event.Dropped, Time: at(101), Count: 40, Reason: control.ReasonBacklog},
		{Type: event.SessionOpened, Time: at(110), Session: "q3ka-41", Remote: "192.0.2.10:51300"},
		{Type: event.Login, Time: at(111), Session: "q3ka-41", User: "alice", Remote: "192.0.2.10:51300", Reason: "USER"},
	}
	for _, tc := range []struct {
		name string
		evs  []control.Event
		keys []string
	}{
		{"burst", withBurst, nil},
		{"burst_selected", withBurst, []string{"k", "k", "k", "k", "k", "k", "k"}},
		{"failures", samples, []string{"!"}},
		{"admin", append(samples, control.Event{Type: event.UsersReloaded, Time: at(100), Count: 5, By: "SIGHUP"}), []string{"*"}},
		{"restart", append(samples[:10], restart...), nil},
		{"expanded", append(samples, long), nil},
	} {
		for _, sz := range [][2]int{{80, 24}, {160, 48}} {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1]), func(t *testing.T) {
				d := newDriver(t, sz[0], sz[1]).start()
				feedHistory(d)
				d.send(eventsMsg{gen: d.ln().gen, evs: tc.evs})
				d.keys("4")
				d.keys(tc.keys...)
				golden(t, d.view())
			})
		}
	}
}
