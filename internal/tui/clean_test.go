package tui

import (
	"strings"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
)

// TestHostileTextCannotDriveTheTerminal: a POP3 client chooses the user
// name in a failed login and in a session row; escape sequences in it must
// reach the screen as plain "?" characters.
func TestHostileTextCannotDriveTheTerminal(t *testing.T) {
	hostile := "evil\x1b]0;pwned\x07\x1b[2J\u009b31m"
	d := sample(t, 120, 30)
	d.send(eventsMsg{gen: d.ln().gen, evs: []control.Event{{Type: event.LoginFailed, User: hostile, Reason: "AUTH"}}})
	sessions := sampleSessions()
	sessions[0].User = hostile
	sessions[0].LastCommand = "\x1b[H"
	d.poll(sessions, t0.Add(time.Second))
	for _, view := range []string{"1", "4"} {
		d.keys(view)
		v := d.view()
		if strings.ContainsAny(v, "\x07\u009b") || strings.Contains(v, "\x1b]") || strings.Contains(v, "\x1b[2J") || strings.Contains(v, "\x1b[H") {
			t.Fatalf("view %s passes control sequences through:\n%q", view, v)
		}
		if !strings.Contains(v, "evil?]0;pwned") {
			t.Fatalf("view %s lost the sanitised name:\n%s", view, v)
		}
	}
}
