package tui

import (
	"context"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"popd/internal/control"
	"popd/internal/human"
	"popd/themes"
)

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
)

type uiTickMsg struct{}

type themeMsg struct {
	theme themes.Theme
	err   error
}

// Model is the dashboard, a tea.Model: a frame (header, tabs, status line,
// help bar, filter and command line) around the pages of registry (and
// fleetPages on a fleet), over a link to popd or one to each node of a
// fleet. Keys go to the open modal, else the frame, else the page on
// screen; data and the outcome of actions go to every page.
type Model struct {
	opt     Options
	ctx     context.Context
	refresh time.Duration

	// Seams for tests: timers and the event reader. The clock and the time
	// zone are in s.
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	wait func(ctx context.Context, ch <-chan control.Event, node, gen int) tea.Cmd

	s          *shared
	re         *lipgloss.Renderer
	themeNames []string
	help       help.Model
	pages      []page
	cur        int // the page on screen

	w, h     int
	mode     mode
	input    textinput.Model // the filter or the command line, new each time it opens
	cmds     cmdHistory      // the : lines run, for ↑ and ↓
	showHelp bool
	span     time.Duration // of the header's graphs (:span)
	back     *back         // where esc goes after a jump (eventdrill.go)

	// The connections: one to the one popd, or one to each node of a
	// fleet (Options.Nodes), in the fleet file's order.
	links     []*link
	role      string    // the connections' role; "mixed" when the nodes differ
	syncFlush syncFlush // when the pages last heard of the sessions kept by events (sessync.go)
}

func newModel(opt Options, re *lipgloss.Renderer) Model {
	s := &shared{now: time.Now, loc: time.Local, readOnly: opt.ReadOnly, stuck: stuckRuleOf(opt)}
	m := Model{
		opt:     opt,
		ctx:     context.Background(),
		refresh: opt.Refresh,
		tick:    tea.Tick,
		wait:    waitEvents,
		s:       s,
		re:      re,
		help:    help.New(),
		span:    defaultSpan,
	}
	if len(opt.Nodes) > 0 {
		for i, n := range opt.Nodes {
			name := human.Clean(n.Name) // the fleet file's, shown as it is
			m.links = append(m.links, newLink(i, name, n.Dial, n.Timeout))
			s.nodes = append(s.nodes, name)
			s.nodeW = max(s.nodeW, width(name))
		}
	} else {
		m.links = []*link{newLink(0, "", opt.Dial, 0)}
	}
	pages := registry
	if m.fleet() {
		pages = append(slices.Clip(pages), fleetPages...)
	}
	for _, newPage := range pages {
		m.pages = append(m.pages, newPage(s))
	}
	s.keys = newKeyMap(len(m.pages))
	if m.refresh <= 0 {
		m.refresh = time.Second
	}
	name := opt.Theme
	if name == "" {
		name = themes.Default
	}
	th, err := themes.Load(name)
	if err != nil {
		s.say(err.Error(), kErr)
		if th, err = themes.Load(themes.Default); err != nil {
			th = themes.Theme{Name: themes.Default}
		}
	}
	m.themeNames, _ = themes.List()
	m.input = newInput()
	m.setTheme(th)
	m.syncStale()
	return m
}

func (m *Model) setTheme(th themes.Theme) {
	dim := m.s.st.dim
	m.s.st = newStyles(m.re, th, noColor())
	m.s.st.dim = dim
	m.s.st.help(&m.help)
	m.s.st.input(&m.input)
}

// shutdown releases the connections when the program ends.
func (m Model) shutdown() {
	for _, l := range m.links {
		if l.cancel != nil {
			l.cancel()
		}
		if l.backend != nil {
			l.backend.Close()
		}
	}
}

// Init dials popd, or every node of the fleet, and starts the clock.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.uiTick()}
	for _, l := range m.links {
		cmds = append(cmds, m.dialCmd(l))
	}
	return tea.Batch(cmds...)
}

func (m Model) uiTick() tea.Cmd {
	return m.tick(time.Second, func(time.Time) tea.Msg { return uiTickMsg{} })
}

// Update handles a message, then fits the pages to the screen.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.syncStale()
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
		return m.mouse(msg)
	case uiTickMsg:
		if f := &m.s.flash; !f.until.IsZero() && m.s.now().After(f.until) {
			*f = flash{}
		}
		return m.uiTick()
	case themeMsg:
		if msg.theme.Name != "" {
			m.setTheme(msg.theme)
			m.s.say("theme "+msg.theme.Name, kOK)
		}
		if msg.err != nil {
			m.s.say(msg.err.Error(), kErr)
		}
	case request:
		return m.send(msg)
	case doneMsg:
		return m.done(msg)
	case killReq: // kill.go
		return m.sendKill(msg)
	case killDoneMsg:
		return m.killDone(msg)
	case frameOp: // drill.go: a page's jump, a question to every node
		return msg.apply(m)
	case dialMsg, redialMsg, pollTickMsg, pollMsg, eventsSubMsg, eventsMsg, closedMsg:
		return m.connUpdate(msg)
	case snapshotMsg, syncFlushMsg: // sessync.go
		return m.syncUpdate(msg)
	default:
		return m.tell(msg)
	}
	return nil
}

// tell gives a message to every page and to the modal: that is how data,
// and the outcome of actions, reach them.
func (m *Model) tell(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.pages)+1)
	for _, p := range m.pages {
		cmds = append(cmds, p.Update(msg))
	}
	if m.s.modal != nil {
		cmds = append(cmds, m.toModal(msg))
	}
	return tea.Batch(cmds...)
}

// toModal gives the open modal a message, and closes it when it is done.
func (m *Model) toModal(msg tea.Msg) tea.Cmd {
	md := m.s.modal
	cmd := md.Update(msg)
	if md.Done() && m.s.modal == md {
		m.s.modal = nil
	}
	return cmd
}

// page is the page on screen.
func (m *Model) page() page { return m.pages[m.cur] }

// relayout tells each component its size.
func (m *Model) relayout() {
	m.help.Width = m.w
	m.input.Width = max(m.w-3, 1)
	body := m.bodyHeight()
	for _, p := range m.pages {
		p.SetSize(m.w, body)
	}
	if m.s.modal != nil {
		m.s.modal.SetSize(m.w, body)
	}
}

func (m Model) tooSmall() bool { return m.w < minWidth || m.h < minHeight }

// bodyHeight is the lines between the tabs (and banner) and the footer.
func (m Model) bodyHeight() int {
	h := m.h - 5 - len(m.banner())
	return max(h, 1)
}

// setPage puts page i on screen; a page that wants more of the poll on
// screen than off is polled at once.
func (m *Model) setPage(i int) tea.Cmd {
	m.back = nil
	if i == m.cur || i < 0 || i >= len(m.pages) {
		return nil
	}
	m.cur = i
	if p, ok := m.page().(poller); ok && p.Polls(true) != p.Polls(false) {
		return m.refreshNow()
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := &m.s.keys
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	typing := m.s.modal != nil || m.mode != modeNormal
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
	switch {
	case m.tooSmall():
		if key.Matches(msg, k.Quit) {
			return tea.Quit
		}
		return nil
	case m.s.modal != nil:
		return m.toModal(msg)
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

	f, filters := m.page().(filterer)
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Views):
		return m.setPage(int(msg.String()[0] - '1'))
	case key.Matches(msg, k.NextView):
		return m.setPage((m.cur + 1) % len(m.pages))
	case key.Matches(msg, k.PrevView):
		return m.setPage((m.cur + len(m.pages) - 1) % len(m.pages))
	case key.Matches(msg, k.Filter) && filters:
		m.openInput(modeFilter, f.Filter())
	case key.Matches(msg, k.Command):
		m.openInput(modeCommand, "")
	case key.Matches(msg, k.Back):
		if cmd, ok := m.goBack(); ok { // after a jump (eventdrill.go)
			return cmd
		}
		if !m.pageBack() { // a page's pane closes first (pagehooks.go)
			m.setFilter("")
		}
	case key.Matches(msg, k.Theme):
		return m.themeCmd("")
	case key.Matches(msg, k.Refresh):
		return tea.Batch(m.refreshNow(), m.resyncAll())
	case m.offKey(msg):
	case m.refuseReadOnly(msg): // pagehooks.go
	default:
		return m.page().Update(msg)
	}
	return nil
}

// mouse goes to the page on screen, with y counted from its first line.
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if m.s.modal != nil || m.showHelp || m.tooSmall() {
		return nil
	}
	msg.Y -= 3 + len(m.banner()) // the header, the tabs, the banner
	return m.page().Update(msg)
}
