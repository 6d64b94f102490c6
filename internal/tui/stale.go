package tui

import (
	"slices"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Stale mode: while no popd answers (the one popd, or no node of a
// fleet), what is on screen is the last data popd gave, and it looks it.
// The header says STALE and for how long; the rows are dimmed; the
// clocks of the data (how long a session has been connected, how old a
// lock is) stand at the moment of that data, as popd's own idle times and
// uptime do; and the keys that change things are off, and say so when
// pressed. When popd answers again everything goes on.

// clock is the time the data on screen is shown at: now, or while popd
// is unreachable the moment of its last data.
func (s *shared) clock() time.Time {
	if s.offline && !s.frozen.IsZero() {
		return s.frozen
	}
	return s.now()
}

// syncStale works out, after every message, whether popd is unreachable.
func (m *Model) syncStale() {
	off := m.anyUp() == nil
	m.s.offline, m.s.frozen = off, time.Time{}
	if off {
		m.s.frozen = m.updated()
	}
	m.s.st.dim = off && !m.s.frozen.IsZero()
}

// offKey: while popd is unreachable, a key of the page's that changes
// things says that it is off, and why, instead of doing nothing. Those
// keys are the ones the page's help has switched off (shared.act) and no
// key that is on takes; read-only mode says its own (refuseReadOnly).
func (m *Model) offKey(msg tea.KeyMsg) bool {
	if !m.s.offline || m.s.readOnly {
		return false
	}
	k, off := msg.String(), ""
	for _, g := range m.page().FullHelp() {
		for _, b := range g {
			switch {
			case !slices.Contains(b.Keys(), k):
			case b.Enabled():
				return false
			case off == "":
				off = b.Help().Key
			}
		}
	}
	switch {
	case off == "":
		return false
	case m.fleet():
		m.s.say("no node answers: "+off+" is off until one is back", kWarn)
	default:
		m.s.say("popd unreachable: "+off+" is off until it is back", kWarn)
	}
	return true
}
