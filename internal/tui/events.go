package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/human"
)

const (
	maxEvents = 5000 // kept in memory
	maxBatch  = 500  // events coalesced into one message
)

// evRow is an event formatted once, when it arrives.
type evRow struct {
	e     control.Event
	node  string // of a fleet, whose event it is
	clock string // 15:04:05
	mark  string // "!" failed login or penalty, "*" an admin action or loss, " "
	k     kind
	rest  string
	lower string // the whole line in lower case, for the filter
}

// classify says how an event stands out: colour and a marker that still
// shows without colour.
func classify(t event.Kind) (string, kind) {
	switch t {
	case event.LoginFailed, event.Penalty:
		return "!", kErr
	case event.Kicked, event.Unlocked, event.Dropped:
		return "*", kWarn
	case event.Login:
		return " ", kOK
	}
	return " ", kText
}

func newEvRow(e control.Event, loc *time.Location, node string) evRow {
	mark, k := classify(e.Type)
	var parts []string
	if e.Session != "" {
		parts = append(parts, "#"+e.Session)
	}
	if e.User != "" {
		parts = append(parts, e.User)
	}
	if e.Remote != "" {
		parts = append(parts, e.Remote)
	}
	switch e.Type {
	case event.SessionClosed:
		parts = append(parts, fmt.Sprintf("retrieved %d, deleted %d, sent %s", e.Retrieved, e.Deleted, human.Bytes(e.Octets)))
	case event.Dropped:
		parts = append(parts, fmt.Sprintf("lost %d events (the console was too slow)", e.Count))
	case event.UsersReloaded:
		parts = append(parts, strconv.Itoa(e.Count)+" users")
	default:
		if e.Count != 0 {
			parts = append(parts, "count "+strconv.Itoa(e.Count))
		}
	}
	if e.Reason != "" {
		parts = append(parts, "("+e.Reason+")")
	}
	if e.By != "" {
		parts = append(parts, "by "+e.By)
	}
	r := evRow{e: e, node: node, mark: mark, k: k, rest: strings.Join(parts, " ")}
	if !e.Time.IsZero() {
		r.clock = e.Time.In(loc).Format("15:04:05")
	} else {
		r.clock = "--:--:--"
	}
	r.lower = strings.ToLower(r.clock + " " + string(e.Type) + " " + r.rest)
	if node != "" {
		r.lower += " " + strings.ToLower(node)
	}
	return r
}

// eventLog is the live event stream: newest last, at most maxEvents.
type eventLog struct {
	rows    []evRow
	pending []evRow // arrived while paused
	missed  int     // pending events dropped while paused, over maxEvents
	paused  bool
	follow  bool
	filter  string
	shown   []int // with a filter: indices of the rows that match
	off     int   // first line in view when not following
	height  int
}

func (l *eventLog) add(evs []control.Event, loc *time.Location, node string) {
	rows := make([]evRow, len(evs))
	for i, e := range evs {
		rows[i] = newEvRow(e, loc, node)
	}
	if l.paused {
		l.pending = append(l.pending, rows...)
		if n := len(l.pending) - maxEvents; n > 0 {
			l.pending = l.pending[n:]
			l.missed += n
		}
		return
	}
	l.append(rows)
}

func (l *eventLog) append(rows []evRow) {
	before := l.count()
	had := len(l.rows)
	l.rows = append(l.rows, rows...)
	byTime := func(a, b evRow) int { return a.e.Time.Compare(b.e.Time) }
	if len(rows) > 0 && rows[0].node != "" && !slices.IsSortedFunc(l.rows[max(had-1, 0):], byTime) {
		// A fleet's streams merged: in the order the nodes' clocks say,
		// not the order they came in (each node's backlog comes at once).
		slices.SortStableFunc(l.rows, byTime)
	}
	if n := len(l.rows) - maxEvents; n > 0 {
		l.rows = l.rows[n:]
	}
	l.refilter()
	if !l.follow {
		// Keep the same lines in view as older ones fall off the top.
		l.off -= before + l.countNew(rows) - l.count()
		l.clamp()
	}
}

// countNew is how many of rows the filter shows.
func (l *eventLog) countNew(rows []evRow) int {
	if l.filter == "" {
		return len(rows)
	}
	n := 0
	q := strings.ToLower(l.filter)
	for i := range rows {
		if strings.Contains(rows[i].lower, q) {
			n++
		}
	}
	return n
}

func (l *eventLog) setPaused(p bool) {
	l.paused = p
	if !p {
		rows := l.pending
		l.pending, l.missed = nil, 0
		l.append(rows)
	}
}

func (l *eventLog) setFilter(q string) {
	l.filter = q
	l.refilter()
	l.clamp()
}

func (l *eventLog) refilter() {
	if l.filter == "" {
		l.shown = nil
		return
	}
	q := strings.ToLower(l.filter)
	l.shown = l.shown[:0:0]
	for i := range l.rows {
		if strings.Contains(l.rows[i].lower, q) {
			l.shown = append(l.shown, i)
		}
	}
}

// count is the number of lines the filter lets through.
func (l *eventLog) count() int {
	if l.filter == "" {
		return len(l.rows)
	}
	return len(l.shown)
}

func (l *eventLog) at(i int) *evRow {
	if l.filter != "" {
		i = l.shown[i]
	}
	return &l.rows[i]
}

// top is the first line in view.
func (l *eventLog) top() int {
	if l.follow {
		return max(0, l.count()-l.height)
	}
	return l.off
}

func (l *eventLog) clamp() {
	l.off = min(l.off, l.count()-l.height)
	l.off = max(l.off, 0)
}

// scroll moves the view; scrolling stops following.
func (l *eventLog) scroll(delta int) {
	l.off = l.top() + delta
	l.follow = false
	l.clamp()
}

func (l *eventLog) setHeight(h int) {
	l.height = max(h, 1)
	l.clamp()
}

// eventsPage is the live event stream: paused, followed or scrolled, and
// filtered.
type eventsPage struct {
	eventLog
	s                   *shared
	pauseKey, followKey key.Binding
	refused             string // popd refused the stream: why
	w, h                int
}

func newEventsPage(s *shared) page {
	return &eventsPage{
		eventLog:  eventLog{follow: true},
		s:         s,
		pauseKey:  key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause")),
		followKey: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
	}
}

func (p *eventsPage) Name() string       { return "Events" }
func (p *eventsPage) Badge() string      { return "" }
func (p *eventsPage) Filter() string     { return p.filter }
func (p *eventsPage) SetFilter(q string) { p.setFilter(q) }

func (p *eventsPage) Status() []string {
	parts := []string{count(p.count(), len(p.rows), "event")}
	switch {
	case p.paused:
		parts = append(parts, "paused")
	case p.follow:
		parts = append(parts, "following")
	default:
		parts = append(parts, "scrolled")
	}
	if p.refused != "" {
		parts = append(parts, "no live events")
	}
	return parts
}

// keys are pause and follow, their help saying what they would do now.
func (p *eventsPage) keys() []key.Binding {
	pause, follow := p.pauseKey, p.followKey
	if p.paused {
		pause.SetHelp("space", "resume")
	}
	if p.follow {
		follow.SetHelp("f", "stop following")
	}
	return []key.Binding{pause, follow}
}

func (p *eventsPage) ShortHelp() []key.Binding {
	return p.s.short(p.filter != "", append(p.keys(), p.s.keys.Filter)...)
}

func (p *eventsPage) FullHelp() [][]key.Binding {
	return p.s.full(p.keys(), p.s.keys.Filter, p.s.keys.Back)
}

// SetSize: the paused banner takes a line.
func (p *eventsPage) SetSize(w, h int) {
	p.w, p.h = w, h
	if p.paused {
		h--
	}
	p.setHeight(h)
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
			p.scroll(-3)
		case tea.MouseButtonWheelDown:
			p.scroll(3)
		}
	case tea.KeyMsg:
		p.key(msg)
	}
	return nil
}

func (p *eventsPage) key(msg tea.KeyMsg) {
	if mv, ok := p.s.keys.nav(msg, p.height); ok {
		switch {
		case mv.top:
			p.follow, p.off = false, 0
		case mv.bottom:
			p.follow = true
		default:
			p.scroll(mv.delta)
		}
		return
	}
	switch {
	case key.Matches(msg, p.pauseKey):
		p.setPaused(!p.paused)
		p.SetSize(p.w, p.h)
	case key.Matches(msg, p.followKey):
		if p.follow {
			p.off = p.top()
		}
		p.follow = !p.follow
	}
}

// eventLine draws one event w cells wide, with its node in nodeW cells
// (0: none). compact leaves out the session (the session detail pane is
// about one session already).
func eventLine(st *styles, r *evRow, w, nodeW int, compact bool) string {
	typ := fit(string(r.e.Type), 14, false)
	rest := r.rest
	if compact {
		rest = strings.TrimPrefix(rest, "#"+r.e.Session)
		rest = strings.TrimPrefix(rest, " ")
	}
	node := ""
	if nodeW > 0 && w-nodeW-1 >= 26 {
		node = st.fg[kAccent].s(fit(r.node, nodeW, false)) + " "
		w -= nodeW + 1
	}
	if w < 26 {
		return st.fg[r.k].s(fit(r.clock+" "+r.mark+" "+string(r.e.Type), w, false))
	}
	return st.fg[kMuted].s(r.clock+" ") + node + st.bold[r.k].s(r.mark+" "+typ) + " " + st.fg[kText].s(fit(rest, w-26, false))
}

func (p *eventsPage) View() string {
	st := &p.s.st
	w, h := p.w, p.h
	lines := make([]string, 0, h)
	if p.paused {
		n := len(p.pending) + p.missed
		msg := "‖ PAUSED — " + human.Count(n, "new event") + " · space resumes"
		lines = append(lines, st.bold[kWarn].s(fit(msg, w, false)))
	}
	if p.count() == 0 {
		msg := "  waiting for events…"
		if p.filter != "" {
			msg = "  no events match the filter"
		}
		lines = append(lines, st.fg[kMuted].s(fit(msg, w, false)))
	}
	for i := p.top(); i < p.count() && len(lines) < h; i++ {
		lines = append(lines, "  "+eventLine(st, p.at(i), w-2, p.s.nodeW, false))
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}
