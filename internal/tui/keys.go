package tui

import (
	"strconv"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keyMap is the keys every page shares: the frame's, moving, sorting and
// filtering. A page's own keys are in its file. A disabled binding neither
// matches nor shows in help.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	NextView, PrevView, Views               key.Binding
	Filter, Command, Sort, Reverse          key.Binding
	Help, Quit, Theme, Refresh, Back        key.Binding
}

// newKeyMap makes the keys for a dashboard of n pages (at most 9 have a
// number key).
func newKeyMap(n int) keyMap {
	n = min(n, 9)
	var nums []string
	for i := range n {
		nums = append(nums, strconv.Itoa(i+1))
	}
	views := "1"
	if n > 1 {
		views += "-" + strconv.Itoa(n)
	}
	return keyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("ctrl+u", "half page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("ctrl+d", "half page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),

		NextView: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous view")),
		Views:    key.NewBinding(key.WithKeys(nums...), key.WithHelp(views, "views")),

		Filter:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Command: key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "command")),
		Sort:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Reverse: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),

		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Theme:   key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "next theme")),
		Refresh: key.NewBinding(key.WithKeys("r", "ctrl+r"), key.WithHelp("r", "refresh now")),
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	}
}

// hint is a binding shown in the help and matched by hand: key is the key
// as the help shows it.
func hint(k, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(k), key.WithHelp(k, desc))
}

// move is where a moving key goes: by delta lines, or to one end.
type move struct {
	delta       int
	top, bottom bool
}

// nav says where msg moves in a list of which height lines show; ok is
// false for a key that does not move.
func (k *keyMap) nav(msg tea.KeyMsg, height int) (mv move, ok bool) {
	half := max(height/2, 1)
	switch {
	case key.Matches(msg, k.Up):
		return move{delta: -1}, true
	case key.Matches(msg, k.Down):
		return move{delta: 1}, true
	case key.Matches(msg, k.PageUp):
		return move{delta: -half}, true
	case key.Matches(msg, k.PageDown):
		return move{delta: half}, true
	case key.Matches(msg, k.Top):
		return move{top: true}, true
	case key.Matches(msg, k.Bottom):
		return move{bottom: true}, true
	}
	return move{}, false
}
