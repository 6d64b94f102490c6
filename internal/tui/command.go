package tui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"popd/themes"
)

// The frame's input line: the filter (/) and the : commands.

// newInput is an empty input line. Each opening of the filter or the
// command line starts from a new one: nothing typed, completed or
// suggested in one is left over in the other.
func newInput() textinput.Model {
	in := textinput.New()
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}

func (m *Model) openInput(md mode, value string) {
	m.mode = md
	m.input = newInput()
	m.s.st.input(&m.input)
	m.input.Width = max(m.w-3, 1)
	m.input.Prompt = "/"
	m.input.Placeholder = "filter"
	m.input.ShowSuggestions = false
	if md == modeCommand {
		m.input.Prompt = ":"
		m.input.Placeholder = strings.Join(m.commandWords(), " ")
		m.input.ShowSuggestions = true
		m.input.SetSuggestions(m.commandSuggestions())
		m.cmds.rewind()
	}
	m.input.SetValue(value)
	m.input.CursorEnd()
	m.input.Focus()
}

func (m *Model) closeInput() {
	m.mode = modeNormal
	m.input.Blur()
}

// setFilter filters the page on screen, if it filters.
func (m *Model) setFilter(q string) {
	if f, ok := m.page().(filterer); ok {
		f.SetFilter(q)
	}
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
		m.cmds.add(line)
		return m.command(line)
	case "up", "down":
		// The lines run before; ctrl+p and ctrl+n go through the
		// completions.
		walk := m.cmds.prev
		if msg.String() == "down" {
			walk = m.cmds.next
		}
		if line, ok := walk(m.input.Value()); ok {
			m.input.SetValue(line)
			m.input.CursorEnd()
		}
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// commandWords are the commands as the empty line and an unknown command
// list them: the pages, then the frame's.
func (m *Model) commandWords() []string {
	var words []string
	for _, p := range m.pages {
		words = append(words, strings.ToLower(p.Name()))
	}
	return append(words, "theme NAME", "sort COLUMN", "span 30m", "readonly", "quit")
}

func (m *Model) commandSuggestions() []string {
	var s []string
	for _, p := range m.pages {
		s = append(s, strings.ToLower(p.Name()))
	}
	s = append(s, "help", "quit", "readonly", "refresh", "sort ", "span 10m", "span 30m", "span 60m", "theme ")
	for _, n := range m.themeNames {
		s = append(s, "theme "+n)
	}
	if so, ok := m.page().(sorter); ok {
		for _, c := range so.Columns() {
			s = append(s, "sort "+c)
		}
	}
	return append(s, m.pageCommandWords()...)
}

// pageNamed is the page a command names: by its number, or by any
// beginning of its name (s, sess, sessions).
func (m *Model) pageNamed(word string) (int, bool) {
	for i, p := range m.pages {
		if word == strconv.Itoa(i+1) || strings.HasPrefix(strings.ToLower(p.Name()), word) {
			return i, true
		}
	}
	return 0, false
}

// command runs a : command line. Whatever the status line said before
// goes: a command that fails says why, one that works leaves no old
// error behind.
func (m *Model) command(line string) tea.Cmd {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	m.s.flash = flash{}
	arg := strings.Join(f[1:], " ")
	switch word := strings.ToLower(f[0]); word {
	case "q", "quit", "exit", "q!":
		return tea.Quit
	case "help", "h", "?":
		m.showHelp = true
	case "refresh", "r":
		return m.refreshNow()
	case "readonly", "ro", "read-only":
		m.opt.ReadOnly, m.s.readOnly = true, true // and after reconnecting
		m.s.modal = nil
		m.s.say("read-only until popadm restarts", kWarn)
	case "theme", "themes":
		return m.themeCmd(arg)
	case "filter", "f":
		m.setFilter(arg)
	case "sort":
		m.sortBy(arg)
	case "span":
		m.setSpan(arg)
	default:
		if i, ok := m.pageNamed(word); ok {
			return m.setPage(i)
		}
		if cmd, ok := m.pageCommand(word, f[1:]); ok { // pagehooks.go
			return cmd
		}
		m.s.say("unknown command :"+f[0]+" (try :"+strings.Join(m.commandWords(), " :")+")", kErr)
	}
	return nil
}

// sortBy runs :sort COLUMN [desc].
func (m *Model) sortBy(arg string) {
	if arg == "" {
		m.s.say("sort what? e.g. :sort idle, :sort user desc", kErr)
		return
	}
	col, desc := arg, false
	if c, ok := strings.CutSuffix(arg, " desc"); ok {
		col, desc = c, true
	}
	if s, ok := m.page().(sorter); !ok || !s.SortBy(col, desc) {
		m.s.say("no column "+col+" here", kErr)
	}
}

// themeCmd loads the named theme, or the next one after the current.
func (m Model) themeCmd(name string) tea.Cmd {
	cur := m.s.st.theme.Name
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
