package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"popd/internal/control"
	"popd/internal/control/controltest"
)

// The dashboard's Backend is the control client.
var _ Backend = (*control.Client)(nil)

// TestWithControlClient runs the dashboard on the real control client and
// server, over a Unix socket, with an in-memory daemon behind them.
func TestWithControlClient(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	d := controltest.NewDaemon()
	for _, s := range sampleSessions() {
		s.Since = time.Now().Add(-time.Minute)
		d.AddSession(s)
	}
	for _, u := range sampleUsers() {
		d.PutUser(u, "old")
	}
	srv := controltest.Start(t, d)

	m := NewModel(Options{
		Dial:    func(ctx context.Context) (Backend, error) { return control.Dial(ctx, srv.Path) },
		Refresh: 50 * time.Millisecond,
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
	wait := func(s ...string) { t.Helper(); waitScreen(t, tm, s...) }
	key := func(k tea.KeyType) { tm.Send(tea.KeyMsg{Type: k}) }
	wait("alice", "192.0.2.10:51234", "live", "admin")

	// Kick session 7: popd's side records it, the event comes back.
	tm.Type("jK")
	wait("Kick session 7?")
	key(tea.KeyTab)
	key(tea.KeyEnter)
	wait("session 7 kicked")
	tm.Type("4")
	wait("session.kicked")

	// Add a user through the form.
	tm.Type("2a")
	wait("Add a user")
	tm.Type("zoe")
	key(tea.KeyTab)
	tm.Type("pw1")
	key(tea.KeyTab)
	tm.Type("pw1")
	key(tea.KeyEnter)
	wait("user zoe added")
	if pw, ok := d.Password("zoe"); !ok || pw != "pw1" {
		t.Fatalf("zoe's password %q %v", pw, ok)
	}
	// popd's refusal shows in the form.
	tm.Type("a")
	tm.Type("zoe")
	key(tea.KeyTab)
	tm.Type("x")
	key(tea.KeyTab)
	tm.Type("x")
	key(tea.KeyEnter)
	wait("popd says:")
	key(tea.KeyEsc)

	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	tm.FinalModel(t).(Model).shutdown()

	calls := d.Calls()
	if !slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "kick 7") }) {
		t.Errorf("daemon calls %q: no kick of 7", calls)
	}
}
