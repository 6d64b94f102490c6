package tui

import (
	"context"
	"slices"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestProgram runs the dashboard as a real bubbletea program: real timers,
// the event reader, keys typed at it.
func TestProgram(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	fake := newFake()
	m := NewModel(Options{
		Dial:    func(context.Context) (Backend, error) { return fake, nil },
		Refresh: 50 * time.Millisecond,
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	wait := func(s ...string) { t.Helper(); waitScreen(t, tm, s...) }
	wait("alice", "192.0.2.10:51234", "live")

	fake.events <- sampleEvents()[2]
	tm.Type("4")
	wait("login.failed", "root")

	tm.Type("2")
	wait("SHA512-CRYPT", "mallory")

	tm.Type("1")
	tm.Type("j")
	tm.Type("K")
	wait("Kick session 7?")
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	wait("session 7 kicked")
	if got := fake.actions(); !slices.Equal(got, []string{"Kick 7"}) {
		t.Fatalf("actions %q", got)
	}

	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final, ok := tm.FinalModel(t).(Model)
	if !ok {
		t.Fatalf("final model is %T", tm.FinalModel(t))
	}
	final.shutdown()
	if !fake.closed {
		t.Fatal("shutdown did not close the connection")
	}
}
