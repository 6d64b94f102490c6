package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// eventsPage is the live event stream (eventLog): paused, followed or
// scrolled; filtered by text and by severity; bursts of one kind and user
// on one line; the selected line drawn whole.
type eventsPage struct {
	eventLog
	s                          *shared
	pauseKey, followKey        key.Binding
	failKey, adminKey, flatKey key.Binding
	refused                    string // popd refused the stream: why
	w, h                       int
}

func newEventsPage(s *shared) page {
	return &eventsPage{
		eventLog:  eventLog{follow: true},
		s:         s,
		pauseKey:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		followKey: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
		failKey:   key.NewBinding(key.WithKeys("!"), key.WithHelp("!", "failures only")),
		adminKey:  key.NewBinding(key.WithKeys("*"), key.WithHelp("*", "admin actions only")),
		flatKey:   key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "expand bursts")),
	}
}

func (p *eventsPage) Name() string       { return "Events" }
func (p *eventsPage) Badge() string      { return "" }
func (p *eventsPage) Filter() string     { return p.filter }
func (p *eventsPage) SetFilter(q string) { p.setFilter(q) }

// Selected is the selected event (a burst's newest), or nil.
func (p *eventsPage) Selected() *evRow { return p.selected() }

func (p *eventsPage) Status() []string {
	parts := []string{count(p.count(), p.total(), "event")}
	switch {
	case p.paused:
		parts = append(parts, "paused")
	case p.follow:
		parts = append(parts, "following")
	default:
		parts = append(parts, "scrolled")
	}
	switch p.sev {
	case showFailures:
		parts = append(parts, "! failures only")
	case showAdmin:
		parts = append(parts, "* admin actions only")
	}
	if p.flat {
		parts = append(parts, "bursts expanded")
	}
	if p.refused != "" {
		parts = append(parts, "no live events")
	}
	return parts
}

// keys are the page's own, their help saying what they would do now.
func (p *eventsPage) keys() []key.Binding {
	pause, follow, fail, admin, flat := p.pauseKey, p.followKey, p.failKey, p.adminKey, p.flatKey
	if p.paused {
		pause.SetHelp("p", "resume")
	}
	if p.follow {
		follow.SetHelp("f", "unfollow")
	}
	if p.sev == showFailures {
		fail.SetHelp("!", "all events")
	}
	if p.sev == showAdmin {
		admin.SetHelp("*", "all events")
	}
	if p.flat {
		flat.SetHelp("x", "collapse bursts")
	}
	return []key.Binding{pause, follow, fail, admin, flat}
}

// ShortHelp names ! and * together: the help bar fits in 80 columns.
func (p *eventsPage) ShortHelp() []key.Binding {
	k := p.keys()
	return p.s.short(p.filter != "", k[0], k[1], hint("!/*", "severity"), p.s.keys.Filter)
}

func (p *eventsPage) FullHelp() [][]key.Binding {
	return p.s.full(p.keys(), sessionKey, p.s.keys.Filter, p.s.keys.Back)
}

// SetSize: the paused banner takes a line; the gutter two columns.
func (p *eventsPage) SetSize(w, h int) {
	p.w, p.h = w, h
	if p.paused {
		h--
	}
	p.nodeW = p.s.nodeW
	p.setSize(w-2, h)
}

func (p *eventsPage) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eventsMsg:
		p.add(msg.evs, p.s.loc, msg.name)
	case streamMsg:
		p.refused = msg.refused
	case tea.MouseMsg:
		if msg.Action != tea.MouseActionPress {
			break
		}
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			p.move(-3)
		case tea.MouseButtonWheelDown:
			p.move(3)
		}
	case tea.KeyMsg:
		if key.Matches(msg, sessionKey) {
			return p.openSession() // eventdrill.go
		}
		p.key(msg)
	}
	return nil
}

func (p *eventsPage) key(msg tea.KeyMsg) {
	if mv, ok := p.s.keys.nav(msg, p.height); ok {
		switch {
		case mv.top:
			p.follow, p.sel, p.off = false, 0, 0
			p.settle()
		case mv.bottom:
			p.follow = true
			p.settle()
		default:
			p.move(mv.delta)
		}
		return
	}
	switch {
	case key.Matches(msg, p.pauseKey):
		p.setPaused(!p.paused)
		p.SetSize(p.w, p.h)
	case key.Matches(msg, p.followKey):
		p.follow = !p.follow
		p.settle()
	case key.Matches(msg, p.failKey):
		p.setSeverity(showFailures)
	case key.Matches(msg, p.adminKey):
		p.setSeverity(showAdmin)
	case key.Matches(msg, p.flatKey):
		p.setFlat(!p.flat)
	}
}

func (p *eventsPage) View() string {
	st := &p.s.st
	w, h := p.w, p.h
	lines := make([]string, 0, h)
	if p.paused {
		n := len(p.pending) + p.missed
		msg := "‖ PAUSED — " + human.Count(n, "new event") + " · p resumes"
		lines = append(lines, st.bold[kWarn].s(fit(msg, w, false)))
	}
	if len(p.lines) == 0 {
		msg := "  waiting for events…"
		if p.filter != "" || p.sev != showAll {
			msg = "  no events match the filter"
		}
		lines = append(lines, st.fg[kMuted].s(fit(msg, w, false)))
	}
	for i := p.off; i < len(p.lines) && len(lines) < h; i++ {
		r := p.lineRow(i)
		if i != p.sel {
			lines = append(lines, "  "+eventLine(st, &r, w-2, p.nodeW, false))
			continue
		}
		first, more := wrapEvent(&r, w-2, p.nodeW)
		lines = append(lines, st.selected.s(st.marker(true)+first))
		if p.lines[i].burst() {
			more = p.expansion(i)
			for _, m := range more {
				lines = append(lines, st.fg[kMuted].s("  "+m))
			}
			continue
		}
		for _, m := range more {
			lines = append(lines, st.selected.s("  "+m))
		}
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}
