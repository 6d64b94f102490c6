package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// op is an action on the daemon, carried out when confirmed.
type op struct {
	kind   string // "kick", "delete", "unlock", "enable", "disable"
	target string // session id or user name
}

// Focus positions in a confirm dialog.
const (
	focusCancel = iota
	focusAction
	focusCheck
)

// confirm asks before a destructive action. The focus starts on Cancel, so
// an absent-minded enter does nothing.
type confirm struct {
	title  string
	body   []string
	action string // the button: "Kill", "Delete", "Break"
	op     op
	check  string // a checkbox's label; "" for none
	on     bool   // the checkbox
	focus  int
}

func (c *confirm) controls() int {
	if c.check != "" {
		return 3
	}
	return 2
}

// dialogResult is what a key did to a dialog.
type dialogResult int

const (
	dialogOpen dialogResult = iota
	dialogCancel
	dialogConfirm
)

func (c *confirm) update(msg tea.KeyMsg) dialogResult {
	switch msg.String() {
	case "esc", "q", "n":
		return dialogCancel
	case "tab", "down", "j":
		c.focus = (c.focus + 1) % c.controls()
	case "shift+tab", "up", "k":
		c.focus = (c.focus + c.controls() - 1) % c.controls()
	case "left", "h":
		c.focus = focusCancel
	case "right", "l":
		c.focus = focusAction
	case " ":
		if c.focus == focusCheck {
			c.on = !c.on
		}
	case "enter":
		switch c.focus {
		case focusCancel:
			return dialogCancel
		case focusAction:
			return dialogConfirm
		case focusCheck:
			c.on = !c.on
		}
	}
	return dialogOpen
}

// button draws a button; the focused one is bracketed (and coloured), so
// the focus shows without colour too.
func button(st *styles, label string, focused, danger bool) string {
	if focused {
		p := st.selected
		if danger && !st.mono {
			p = st.banner
		}
		return p.s("[ " + label + " ]")
	}
	return st.fg[kMuted].s("  " + label + "  ")
}

func (c *confirm) view(st *styles, w int) string {
	inner := min(w-8, 60)
	var lines []string
	lines = append(lines, st.bold[kWarn].s(truncate(c.title, inner)), "")
	for _, para := range c.body {
		for _, l := range wrap(para, inner) {
			lines = append(lines, st.fg[kText].s(l))
		}
	}
	if c.check != "" {
		box := "[ ] "
		if c.on {
			box = "[x] "
		}
		mark := "  "
		if c.focus == focusCheck {
			mark = "> "
		}
		lines = append(lines, "", st.fg[kText].s(truncate(mark+box+c.check, inner)))
	}
	lines = append(lines, "",
		button(st, "Cancel", c.focus == focusCancel, false)+"  "+button(st, c.action, c.focus == focusAction, true))
	lines = append(lines, st.fg[kMuted].s(truncate("tab/←/→ move · enter choose · esc cancel", inner)))
	return st.box.Width(inner + 2).Render(strings.Join(lines, "\n"))
}

// overlay centres a box in a w×h area.
func overlay(st *styles, box string, w, h int) []string {
	placed := st.re.Place(w, h, lipgloss.Center, lipgloss.Center, box)
	return strings.Split(placed, "\n")
}
