package tui

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"popd/internal/control"
	"popd/themes"
)

type view int

const (
	viewSessions view = iota
	viewUsers
	viewLocks
	viewEvents
	nViews
)

var viewNames = [nViews]string{"Sessions", "Users", "Locks", "Events"}

type mode int

const (
	modeNormal  mode = iota
	modeFilter       // typing a filter
	modeCommand      // typing a : command
)

// The smallest terminal the dashboard draws on.
const (
	minWidth  = 60
	minHeight = 15
	wideWidth = 140 // from here the session detail pane is beside the table
	paneWidth = 46
)

type flash struct {
	text  string
	k     kind
	until time.Time
}

type uiTickMsg struct{}

type themeMsg struct {
	theme themes.Theme
	err   error
}

// Model is the dashboard, a tea.Model.
type Model struct {
	opt     Options
	ctx     context.Context
	refresh time.Duration

	// Seams for tests: the clock, the time zone of event times, timers and
	// the event reader.
	now  func() time.Time
	loc  *time.Location
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	wait func(context.Context, <-chan control.Event, int) tea.Cmd

	re         *lipgloss.Renderer
	st         styles
	themeNames []string
	keys       keyMap
	help       help.Model

	w, h     int
	view     view
	mode     mode
	input    textinput.Model // the filter or the command line
	showHelp bool
	detail   bool // the session detail pane is toggled from its default
	dlg      *confirm
	form     *userForm
	flash    flash

	// The connection.
	backend       Backend
	gen           int
	connected     bool
	everConnected bool
	dialing       bool
	role          string
	readOnly      bool
	attempt       int
	retryAt       time.Time
	lastErr       error
	lastRefusal   string
	connCtx       context.Context
	cancel        context.CancelFunc
	polling       bool
	pollQueued    bool
	pollSeq       int
	evCh          <-chan control.Event
	evErr         string

	// The data.
	stale   bool
	updated time.Time
	loaded  [nViews]bool
	// locksFresh: the last poll listed the locks (only done while they
	// are on screen).
	locksFresh bool
	hist       history
	sessions   table[sessRow]
	users      table[control.User]
	locks      table[control.Lock]
	closing    map[string]bool
	ev         eventLog
}

func newModel(opt Options, re *lipgloss.Renderer) Model {
	m := Model{
		opt:      opt,
		ctx:      context.Background(),
		refresh:  opt.Refresh,
		now:      time.Now,
		loc:      time.Local,
		tick:     tea.Tick,
		wait:     waitEvents,
		re:       re,
		keys:     newKeyMap(),
		help:     help.New(),
		sessions: newSessionTable(),
		users:    newUserTable(),
		locks:    newLockTable(),
		closing:  map[string]bool{},
		ev:       eventLog{follow: true},
		stale:    true,
		dialing:  true,
		readOnly: opt.ReadOnly,
	}
	if m.refresh <= 0 {
		m.refresh = time.Second
	}
	m.keys.setReadOnly(m.readOnly)
	name := opt.Theme
	if name == "" {
		name = os.Getenv("POPADM_THEME")
	}
	if name == "" {
		name = themes.Default
	}
	th, err := themes.Load(name)
	if err != nil {
		m.setFlash(err.Error(), kErr)
		if th, err = themes.Load(themes.Default); err != nil {
			th = themes.Theme{Name: themes.Default}
		}
	}
	m.themeNames, _ = themes.List()
	m.input = textinput.New()
	m.input.Cursor.SetMode(cursor.CursorStatic)
	m.setTheme(th)
	return m
}

func (m *Model) setTheme(th themes.Theme) {
	m.st = newStyles(m.re, th, noColor())
	m.st.help(&m.help)
	m.st.input(&m.input)
	if m.form != nil {
		for i := range m.form.inputs {
			m.st.input(&m.form.inputs[i])
		}
	}
}

func (m *Model) setFlash(text string, k kind) {
	m.flash = flash{text: text, k: k, until: m.now().Add(6 * time.Second)}
}

// shutdown releases the connection when the program ends.
func (m Model) shutdown() {
	if m.cancel != nil {
		m.cancel()
	}
	if m.backend != nil {
		m.backend.Close()
	}
}

// Init dials popd and starts the clock.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.dialCmd(), m.uiTick())
}

func (m Model) uiTick() tea.Cmd {
	return m.tick(time.Second, func(time.Time) tea.Msg { return uiTickMsg{} })
}

// Update handles a message, then fits the views to the screen.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.relayout()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		m.mouse(msg)
	case uiTickMsg:
		if !m.flash.until.IsZero() && m.now().After(m.flash.until) {
			m.flash = flash{}
		}
		return m.uiTick()

	case dialMsg:
		if msg.gen != m.gen || m.connected {
			return closeCmd(msg.b)
		}
		m.dialing = false
		if msg.err != nil {
			m.lastErr = msg.err
			return m.retryLater()
		}
		return m.connect(msg.b)
	case redialMsg:
		if msg.gen != m.gen || m.connected || m.dialing {
			return nil
		}
		m.dialing = true
		return m.dialCmd()
	case pollTickMsg:
		if msg.gen != m.gen || msg.seq != m.pollSeq {
			return nil
		}
		return m.poll()
	case pollMsg:
		if msg.gen != m.gen || !m.connected {
			return nil
		}
		sanitizePoll(&msg)
		return m.applyPoll(msg)
	case eventsSubMsg:
		if msg.gen != m.gen || !m.connected {
			return nil
		}
		if msg.err != nil {
			if refused(msg.err) {
				m.evErr = msg.err.Error()
				m.setFlash("no live events: "+m.evErr, kErr)
				return nil
			}
			return m.disconnect(msg.err)
		}
		m.evCh = msg.ch
		return m.wait(m.connCtx, m.evCh, m.gen)
	case eventsMsg:
		if msg.gen != m.gen || !m.connected {
			return nil
		}
		if len(msg.evs) > 0 {
			sanitizeEvents(msg.evs)
			m.ev.add(msg.evs, m.loc)
		}
		if msg.closed {
			return m.disconnect(errEventsEnded)
		}
		return m.wait(m.connCtx, m.evCh, m.gen)
	case actionMsg:
		return m.actionDone(msg)
	case formMsg:
		return m.formDone(msg)
	case themeMsg:
		if msg.theme.Name != "" {
			m.setTheme(msg.theme)
			m.setFlash("theme "+msg.theme.Name, kOK)
		}
		if msg.err != nil {
			m.setFlash(msg.err.Error(), kErr)
		}
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

const errEventsEnded = errString("popd closed the event stream")

// relayout tells each view how many rows it has.
func (m *Model) relayout() {
	m.help.Width = m.w
	m.input.Width = max(m.w-3, 1)
	_, tableH, _, _ := m.sizes()
	m.sessions.setHeight(tableH - 1)
	body := m.bodyHeight()
	m.users.setHeight(body - 1)
	m.locks.setHeight(body - 1)
	evH := body
	if m.ev.paused {
		evH--
	}
	m.ev.setHeight(evH)
}

func (m Model) tooSmall() bool { return m.w < minWidth || m.h < minHeight }

// bodyHeight is the lines between the tabs (and banner) and the footer.
func (m Model) bodyHeight() int {
	h := m.h - 5 - len(m.banner())
	return max(h, 1)
}

// sizes lays out the Sessions page: the table's size, and the detail
// pane's (0 when hidden).
func (m Model) sizes() (tableW, tableH, paneW, paneH int) {
	body := m.bodyHeight()
	wide := m.w >= wideWidth
	show := wide != m.detail
	switch {
	case !show:
		return m.w, body, 0, 0
	case wide:
		return m.w - paneWidth, body, paneWidth, body
	}
	paneH = min(7, body/2)
	return m.w, body - paneH, m.w, paneH
}

// filterText is the current view's filter.
func (m Model) filterText() string {
	switch m.view {
	case viewSessions:
		return m.sessions.filter
	case viewUsers:
		return m.users.filter
	case viewLocks:
		return m.locks.filter
	}
	return m.ev.filter
}

func (m *Model) setFilter(q string) {
	switch m.view {
	case viewSessions:
		m.sessions.setFilter(q)
	case viewUsers:
		m.users.setFilter(q)
	case viewLocks:
		m.locks.setFilter(q)
	case viewEvents:
		m.ev.setFilter(q)
	}
}

func (m *Model) setView(v view) tea.Cmd {
	if v == m.view {
		return nil
	}
	m.view = v
	if v == viewUsers || v == viewLocks {
		return m.refreshNow() // these are polled only while on screen
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := &m.keys
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	typing := m.form != nil || m.mode != modeNormal
	if msg.Paste && !typing {
		return nil // pasted text is never taken for commands
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed quickly (or sent by tmux) arrive as one message: each
		// is a key of its own.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		return tea.Batch(cmds...)
	}
	if m.tooSmall() {
		if key.Matches(msg, k.Quit) {
			return tea.Quit
		}
		return nil
	}
	switch {
	case m.form != nil:
		switch m.form.update(msg) {
		case formCancel:
			m.form = nil
		case formSubmit:
			return m.submitForm(m.form)
		}
		return nil
	case m.dlg != nil:
		d := m.dlg
		switch d.update(msg) {
		case dialogCancel:
			m.dlg = nil
		case dialogConfirm:
			m.dlg = nil
			return m.action(d.op, d.on)
		}
		return nil
	case m.mode == modeFilter:
		return m.filterKey(msg)
	case m.mode == modeCommand:
		return m.commandKey(msg)
	case m.showHelp:
		switch {
		case key.Matches(msg, k.Help), msg.String() == "esc":
			m.showHelp = false
		case key.Matches(msg, k.Quit):
			return tea.Quit
		}
		return nil
	}

	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.Views):
		return m.setView(view(msg.String()[0] - '1'))
	case key.Matches(msg, k.NextView):
		return m.setView((m.view + 1) % nViews)
	case key.Matches(msg, k.PrevView):
		return m.setView((m.view + nViews - 1) % nViews)
	case key.Matches(msg, k.Filter):
		m.openInput(modeFilter, m.filterText())
		return nil
	case key.Matches(msg, k.Command):
		m.openInput(modeCommand, "")
		return nil
	case key.Matches(msg, k.Back):
		m.setFilter("")
		return nil
	case key.Matches(msg, k.Theme):
		return m.themeCmd("")
	case key.Matches(msg, k.Refresh):
		return m.refreshNow()
	}

	switch m.view {
	case viewSessions:
		if navTable(&m.sessions, k, msg) {
			return nil
		}
		switch {
		case key.Matches(msg, k.Detail):
			m.detail = !m.detail
		case key.Matches(msg, k.Kill):
			m.askKill()
		}
	case viewUsers:
		if navTable(&m.users, k, msg) {
			return nil
		}
		u := m.users.selected()
		switch {
		case key.Matches(msg, k.Add):
			m.form = newUserForm(&m.st, true, "")
		case u == nil:
		case key.Matches(msg, k.Passwd):
			m.form = newUserForm(&m.st, false, u.Name)
		case key.Matches(msg, k.Delete):
			m.dlg = &confirm{
				title:  "Delete user " + u.Name + "?",
				body:   []string{"They can no longer log in; their mail (" + userSummary(u) + ") is kept unless you tick the box."},
				action: "Delete", op: op{"delete", u.Name},
				check: "also delete their mail",
			}
		case key.Matches(msg, k.Toggle):
			kind := "disable"
			if u.Disabled {
				kind = "enable"
			}
			return m.action(op{kind, u.Name}, false)
		}
	case viewLocks:
		if navTable(&m.locks, k, msg) {
			return nil
		}
		if l := m.locks.selected(); l != nil && key.Matches(msg, k.Break) {
			body := []string{"Held by " + holder(l) + " for " + dur(m.now().Sub(l.Since)) + "."}
			if !l.Stale {
				body = append(body, "It is not stale: its holder may still be working on the maildrop.")
			}
			m.dlg = &confirm{title: "Break the lock of " + l.User + "?", body: body, action: "Break", op: op{"unlock", l.User}}
		}
	case viewEvents:
		l := &m.ev
		half := max(l.height/2, 1)
		switch {
		case key.Matches(msg, k.Up):
			l.scroll(-1)
		case key.Matches(msg, k.Down):
			l.scroll(1)
		case key.Matches(msg, k.PageUp):
			l.scroll(-half)
		case key.Matches(msg, k.PageDown):
			l.scroll(half)
		case key.Matches(msg, k.Top):
			l.follow, l.off = false, 0
		case key.Matches(msg, k.Bottom):
			l.follow = true
		case key.Matches(msg, k.Pause):
			l.setPaused(!l.paused)
		case key.Matches(msg, k.Follow):
			if l.follow {
				l.off = l.top()
			}
			l.follow = !l.follow
		}
	}
	return nil
}

// askKill opens the kill confirmation for the selected session.
func (m *Model) askKill() {
	s := m.sessions.selected()
	if s == nil || s.closing {
		return
	}
	who := s.User
	if who == "" {
		who = "not logged in"
	}
	m.dlg = &confirm{
		title:  "Kill session " + s.ID + "?",
		body:   []string{who + " from " + s.Remote + ", connected " + dur(m.now().Sub(s.Since)) + ".", "The connection is closed without UPDATE: no mail is deleted."},
		action: "Kill", op: op{"kick", s.ID},
	}
}

// navTable moves a table's selection or changes its sort.
func navTable[T any](t *table[T], k *keyMap, msg tea.KeyMsg) bool {
	half := max(t.height/2, 1)
	switch {
	case key.Matches(msg, k.Up):
		t.move(-1)
	case key.Matches(msg, k.Down):
		t.move(1)
	case key.Matches(msg, k.PageUp):
		t.move(-half)
	case key.Matches(msg, k.PageDown):
		t.move(half)
	case key.Matches(msg, k.Top):
		t.moveTo(0)
	case key.Matches(msg, k.Bottom):
		t.moveTo(len(t.rows) - 1)
	case key.Matches(msg, k.Sort):
		t.setSort((t.sort+1)%len(t.cols), false)
	case key.Matches(msg, k.Reverse):
		t.setSort(t.sort, !t.desc)
	default:
		return false
	}
	return true
}

func (m *Model) openInput(md mode, value string) {
	m.mode = md
	m.input.Reset()
	m.input.Prompt = "/"
	m.input.Placeholder = "filter"
	m.input.ShowSuggestions = false
	if md == modeCommand {
		m.input.Prompt = ":"
		m.input.Placeholder = "sessions users locks events theme NAME sort COLUMN readonly quit"
		m.input.ShowSuggestions = true
		m.input.SetSuggestions(m.commandSuggestions())
	}
	m.input.SetValue(value)
	m.input.CursorEnd()
	m.input.Focus()
}

func (m *Model) closeInput() {
	m.mode = modeNormal
	m.input.Blur()
}

func (m *Model) filterKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.setFilter("")
		m.closeInput()
		return nil
	case "enter":
		m.closeInput()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	m.setFilter(m.input.Value())
	return cmd
}

func (m *Model) commandKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.closeInput()
		return nil
	case "enter":
		line := m.input.Value()
		m.closeInput()
		return m.command(line)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

func (m Model) commandSuggestions() []string {
	s := []string{"sessions", "users", "locks", "events", "help", "quit", "readonly", "refresh", "sort ", "theme "}
	for _, n := range m.themeNames {
		s = append(s, "theme "+n)
	}
	for _, c := range m.sessions.cols {
		s = append(s, "sort "+strings.ToLower(c.title))
	}
	return s
}

// command runs a : command line.
func (m *Model) command(line string) tea.Cmd {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	arg := strings.Join(f[1:], " ")
	switch strings.ToLower(f[0]) {
	case "sessions", "session", "s", "1":
		return m.setView(viewSessions)
	case "users", "user", "u", "2":
		return m.setView(viewUsers)
	case "locks", "lock", "l", "3":
		return m.setView(viewLocks)
	case "events", "event", "e", "ev", "4":
		return m.setView(viewEvents)
	case "q", "quit", "exit", "q!":
		return tea.Quit
	case "help", "h", "?":
		m.showHelp = true
	case "refresh", "r":
		return m.refreshNow()
	case "readonly", "ro", "read-only":
		m.opt.ReadOnly, m.readOnly = true, true // and after reconnecting
		m.keys.setReadOnly(true)
		m.dlg, m.form = nil, nil
		m.setFlash("read-only until popadm restarts", kWarn)
	case "theme", "themes":
		return m.themeCmd(arg)
	case "filter", "f":
		m.setFilter(arg)
	case "sort":
		if arg == "" {
			m.setFlash("sort what? e.g. :sort idle, :sort user desc", kErr)
			return nil
		}
		col, desc := arg, false
		if c, ok := strings.CutSuffix(arg, " desc"); ok {
			col, desc = c, true
		}
		var ok bool
		switch m.view {
		case viewSessions:
			ok = m.sessions.sortBy(col, desc)
		case viewUsers:
			ok = m.users.sortBy(col, desc)
		case viewLocks:
			ok = m.locks.sortBy(col, desc)
		}
		if !ok {
			m.setFlash("no column "+col+" here", kErr)
		}
	default:
		m.setFlash("unknown command :"+f[0]+" (try :sessions :users :locks :events :theme NAME :sort COLUMN :readonly :quit)", kErr)
	}
	return nil
}

// themeCmd loads the named theme, or the next one after the current.
func (m Model) themeCmd(name string) tea.Cmd {
	cur := m.st.theme.Name
	return func() tea.Msg {
		if name != "" {
			th, err := themes.Load(name)
			return themeMsg{theme: th, err: err}
		}
		names, err := themes.List()
		if len(names) == 0 {
			return themeMsg{err: err}
		}
		i := slices.Index(names, cur)
		var firstErr error
		for range names {
			i = (i + 1) % len(names)
			th, err := themes.Load(names[i])
			if err == nil {
				return themeMsg{theme: th, err: firstErr}
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return themeMsg{err: firstErr}
	}
}

// mouse: the wheel scrolls, a click selects a row.
func (m *Model) mouse(msg tea.MouseMsg) {
	if m.form != nil || m.dlg != nil || m.showHelp || m.tooSmall() {
		return
	}
	delta := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		delta = -3
	case tea.MouseButtonWheelDown:
		delta = 3
	}
	if delta != 0 && msg.Action == tea.MouseActionPress {
		switch m.view {
		case viewSessions:
			m.sessions.move(delta)
		case viewUsers:
			m.users.move(delta)
		case viewLocks:
			m.locks.move(delta)
		case viewEvents:
			m.ev.scroll(delta)
		}
		return
	}
	if msg.Button != tea.MouseButtonLeft || msg.Action != tea.MouseActionPress {
		return
	}
	// The first row is below the header, tabs, banner and column titles.
	top := 4 + len(m.banner())
	row := msg.Y - top
	if row < 0 {
		return
	}
	switch m.view {
	case viewSessions:
		tw, th, _, _ := m.sizes()
		if msg.X < tw && row < th-1 && m.sessions.off+row < len(m.sessions.rows) {
			m.sessions.moveTo(m.sessions.off + row)
		}
	case viewUsers:
		if m.users.off+row < len(m.users.rows) {
			m.users.moveTo(m.users.off + row)
		}
	case viewLocks:
		if m.locks.off+row < len(m.locks.rows) {
			m.locks.moveTo(m.locks.off + row)
		}
	}
}
