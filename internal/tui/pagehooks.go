package tui

import (
	"slices"

	tea "github.com/charmbracelet/bubbletea"
)

// More of a page's add-ons (see component.go), found by type assertion,
// and what the frame does with them.
type (
	// commander takes : commands of its own (":kill user bob", ":stuck").
	// The page on screen is asked first, then the others; a page not on
	// screen that takes one comes on screen.
	commander interface {
		Command(word string, args []string) (cmd tea.Cmd, ok bool)
		Commands() []string // for the command line's completion
	}
	// backer closes what it has open (a pane) on esc, and says whether it
	// did; when it did not, esc clears the filter.
	backer interface{ Back() bool }
)

// pageCommand runs a page's : command.
func (m *Model) pageCommand(word string, args []string) (tea.Cmd, bool) {
	order := []int{m.cur}
	for i := range m.pages {
		if i != m.cur {
			order = append(order, i)
		}
	}
	for _, i := range order {
		c, ok := m.pages[i].(commander)
		if !ok {
			continue
		}
		if cmd, ok := c.Command(word, args); ok {
			return tea.Batch(m.setPage(i), cmd), true
		}
	}
	return nil, false
}

// pageCommandWords are the pages' : commands, for completion.
func (m *Model) pageCommandWords() []string {
	var out []string
	for _, p := range m.pages {
		if c, ok := p.(commander); ok {
			out = append(out, c.Commands()...)
		}
	}
	return out
}

// pageBack gives esc to the page on screen; false when it had nothing
// open.
func (m *Model) pageBack() bool {
	b, ok := m.page().(backer)
	return ok && b.Back()
}

// refuseReadOnly says, in read-only mode, why an action key of the page
// on screen does nothing ("read-only: K is off"), and reports whether msg
// was one. The action keys are those the page's help has switched off
// (shared.act) and no key that is on takes.
func (m *Model) refuseReadOnly(msg tea.KeyMsg) bool {
	if !m.s.readOnly {
		return false
	}
	k := msg.String()
	off := ""
	for _, g := range m.page().FullHelp() {
		for _, b := range g {
			if !slices.Contains(b.Keys(), k) {
				continue
			}
			if b.Enabled() {
				return false
			}
			if off == "" {
				off = b.Help().Key
			}
		}
	}
	if off == "" {
		return false
	}
	m.s.say(readOnlyOff(off), kWarn)
	return true
}

// readOnlyOff is what read-only mode says of an action: "read-only: K is
// off".
func readOnlyOff(what string) string { return "read-only: " + what + " is off" }
