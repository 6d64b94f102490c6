package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the dashboard knows, with the help it shows. A
// disabled binding neither matches nor shows in help: read-only mode
// disables the destructive ones.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	NextView, PrevView, Views               key.Binding
	Filter, Command, Sort, Reverse          key.Binding
	Help, Quit, Theme, Refresh, Back        key.Binding

	Detail key.Binding // sessions
	Kill   key.Binding

	Add, Passwd, Delete, Toggle key.Binding // users

	Break key.Binding // locks

	Pause, Follow key.Binding // events
}

func newKeyMap() keyMap {
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),

		NextView: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		Views:    key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "views")),

		Filter:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Command: key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Sort:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Reverse: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),

		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Theme:   key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "next theme")),
		Refresh: key.NewBinding(key.WithKeys("r", "ctrl+r"), key.WithHelp("r", "refresh now")),
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),

		Detail: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Kill:   key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kill")),

		Add:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add")),
		Passwd: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "password")),
		Delete: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "delete")),
		Toggle: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "enable/disable")),

		Break: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "break lock")),

		Pause:  key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "pause")),
		Follow: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "follow")),
	}
}

// setReadOnly disables (and so hides) the keys that change anything.
func (k *keyMap) setReadOnly(ro bool) {
	for _, b := range []*key.Binding{&k.Kill, &k.Add, &k.Passwd, &k.Delete, &k.Toggle, &k.Break} {
		b.SetEnabled(!ro)
	}
}

// helpKeys is the help.KeyMap for one view in one state.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

// helpFor says which keys the current view offers, most useful first.
func (m Model) helpFor() helpKeys {
	k := m.keys
	var short, actions []key.Binding
	switch m.view {
	case viewSessions:
		actions = []key.Binding{k.Kill, k.Detail}
		short = []key.Binding{k.Kill, k.Detail, k.Filter, k.Sort}
	case viewUsers:
		actions = []key.Binding{k.Add, k.Passwd, k.Delete, k.Toggle}
		short = []key.Binding{k.Add, k.Passwd, k.Delete, k.Toggle, k.Filter, k.Sort}
	case viewLocks:
		actions = []key.Binding{k.Break}
		short = []key.Binding{k.Break, k.Filter, k.Sort}
	case viewEvents:
		pause := k.Pause
		if m.ev.paused {
			pause.SetHelp("space", "resume")
		}
		follow := k.Follow
		if m.ev.follow {
			follow.SetHelp("f", "stop following")
		}
		actions = []key.Binding{pause, follow}
		short = []key.Binding{pause, follow, k.Filter}
	}
	if m.filterText() != "" {
		short = append(short, k.Back)
	}
	short = append(short, k.Views, k.Help, k.Quit)
	nav := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
	views := []key.Binding{k.Views, k.NextView, k.PrevView, k.Command, k.Theme}
	general := []key.Binding{k.Filter, k.Back, k.Refresh, k.Help, k.Quit}
	if m.view != viewEvents {
		general = append([]key.Binding{k.Sort, k.Reverse}, general...)
	}
	full := [][]key.Binding{nav, views, general}
	if len(actions) > 0 {
		full = append([][]key.Binding{actions}, full...)
	}
	return helpKeys{short: short, full: full}
}
