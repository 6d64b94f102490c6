package tui

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/human"
)

// registry is every page of the dashboard, in tab order.
//
// To add a view, write one file with a type that satisfies page (and
// filterer, sorter or poller when it filters, sorts or needs the poll) and
// a constructor taking the shared context, then add the constructor here.
// Nothing else changes: the tabs, the number keys, the : commands, the
// help and the status line all come from the pages.
var registry = []func(*shared) page{
	newSessionsPage,
	newUsersPage,
	newLocksPage,
	newEventsPage,
	newPenaltiesPage,
}

// component is a part of the screen with its own state, keys and help
// (soft-serve's pkg/ui/common.Component). Its methods have pointer
// receivers: it changes in place, and the frame holds it by pointer.
type component interface {
	help.KeyMap                 // the keys it offers now: the help bar and ?
	Update(msg tea.Msg) tea.Cmd // a key, a mouse event in its own coordinates, data
	View() string               // exactly as wide and as high as SetSize said
	SetSize(w, h int)
}

// page is a component on a tab (soft-serve's TabComponent).
type page interface {
	component
	Name() string     // the tab's title, "Sessions"; : takes any beginning of it
	Badge() string    // shown beside the title, a count; "" for none
	Status() []string // the status line: "3 of 8 sessions", "sort id ▲"
}

// A page's add-ons, found by type assertion.
type (
	// filterer filters its rows: / and :filter, esc clears.
	filterer interface {
		Filter() string
		SetFilter(q string)
	}
	// sorter sorts by a column: :sort NAME [desc].
	sorter interface {
		SortBy(col string, desc bool) bool
		Columns() []string // lower-case titles, for completion
	}
	// poller needs data from the poll.
	poller interface {
		// Polls is what the next poll fetches for it; shown says whether it
		// is on screen. A page that wants more when shown is polled at once
		// when it comes on screen.
		Polls(shown bool) fetch
	}
)

// modal is a component over the page (a confirmation, a form): it takes
// every key until it is done.
type modal interface {
	component
	Done() bool
}

// shared is what the frame and its components hold in common (soft-serve's
// common.Common): the look, the clock, the keys, whether changes are
// allowed; and what a component may ask of the frame: a modal over the
// page, a message in the status line.
type shared struct {
	st       styles
	keys     keyMap
	now      func() time.Time
	loc      *time.Location // of the clock times shown
	readOnly bool
	stuck    stuckRule // what makes a session stuck (stuck.go)
	offline  bool      // no popd answers: the action keys are off (stale.go)
	frozen   time.Time // while offline, the clocks of the data on screen stand here
	nodes    []string  // the fleet's, in order; nil for one popd
	nodeW    int       // the widest node name

	modal modal // open over the page
	flash flash
}

type flash struct {
	text  string
	k     kind
	until time.Time
}

// fleet says whether the dashboard watches a fleet: the tables then have
// a NODE column, and events their node.
func (s *shared) fleet() bool { return len(s.nodes) > 0 }

// open puts a modal over the page.
func (s *shared) open(m modal) { s.modal = m }

// say shows text in the status line for a few seconds. It often quotes
// popd (an error's message), so it is made terminal-safe.
func (s *shared) say(text string, k kind) {
	s.flash = flash{text: human.Clean(text), k: k, until: s.now().Add(6 * time.Second)}
}

// act is an action key as things stand: off, so neither matching nor
// shown, while read-only or while popd is unreachable.
func (s *shared) act(b key.Binding) key.Binding {
	b.SetEnabled(!s.readOnly && !s.offline)
	return b
}

// short is a page's help bar: its own keys, then the frame's.
func (s *shared) short(filtered bool, own ...key.Binding) []key.Binding {
	k := &s.keys
	if filtered {
		own = append(own, k.Back)
	}
	return append(own, k.Views, k.Help, k.Quit)
}

// full is a page's full help: its actions, moving, the views, then its
// general keys and the frame's.
func (s *shared) full(actions []key.Binding, general ...key.Binding) [][]key.Binding {
	k := &s.keys
	nav := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
	views := []key.Binding{k.Views, k.NextView, k.PrevView, k.Command, k.Theme}
	general = append(general, k.Refresh, k.Help, k.Quit)
	full := [][]key.Binding{nav, views, general}
	if len(actions) > 0 {
		full = append([][]key.Binding{actions}, full...)
	}
	return full
}
