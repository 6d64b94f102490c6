package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"popd/internal/control"
)

func manySessions(n int) []control.Session {
	states := []string{"authorization", "transaction", "transaction", "update"}
	out := make([]control.Session, n)
	for i := range out {
		out[i] = control.Session{
			ID: fmt.Sprint(i + 1), User: fmt.Sprintf("user%05d", (i*7919)%n), Remote: fmt.Sprintf("192.0.%d.%d:%d", i/250%256, i%250, 1024+i),
			Local: "203.0.113.1:995", TLS: i%3 != 0, State: states[i%4], LastCommand: "RETR", Retrieved: i % 50,
			Octets: int64(i) * 1000, Since: t0.Add(-time.Duration(i) * time.Second), Idle: time.Duration(i%600) * time.Second,
		}
	}
	return out
}

func benchModel(b *testing.B) Model {
	b.Setenv("XDG_CONFIG_HOME", b.TempDir())
	m := testModel(Options{Theme: "dark"}, renderer(termenv.TrueColor))
	nm, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m = nm.(Model)
	m.links[0].connected, m.links[0].stale = true, false
	p := pageOf[*sessionsPage](m)
	p.setSessions(nodeSessions("", false, manySessions(10_000)))
	for i := range samples {
		s := sampleStats()
		s.BytesSent += int64(i * 1000)
		m.links[0].hist.add(s, t0.Add(time.Duration(i)*time.Second), nil)
	}
	m.tell(eventsMsg{evs: sampleEvents()})
	p.t.moveTo(5000)
	m.syncStale()
	m.relayout()
	return m
}

// BenchmarkViewSessions10k draws the Sessions view with 10,000 sessions at
// 160×48 in true colour, the detail pane beside the table.
func BenchmarkViewSessions10k(b *testing.B) {
	m := benchModel(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkRefreshSessions10k is one poll's worth of work: 10,000 fresh
// sessions filtered, sorted by idle time, the selection found again.
func BenchmarkRefreshSessions10k(b *testing.B) {
	p := pageOf[*sessionsPage](benchModel(b))
	p.SortBy("idle", true)
	list := nodeSessions("", false, manySessions(10_000))
	b.ReportAllocs()
	for b.Loop() {
		p.setSessions(list)
	}
}
