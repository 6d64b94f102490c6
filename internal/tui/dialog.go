package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Focus positions in a confirm dialog: the buttons, then the boxes
// (focusCheck is the first).
const (
	focusCancel = iota
	focusAction
	focusCheck
)

// checkbox is a box of a confirm dialog, ticked with space or x; set puts
// it into the request when the action is chosen.
type checkbox struct {
	label string
	on    bool
	set   func(r *request, on bool)
}

// confirm asks before a destructive action. The focus starts on Cancel, so
// an absent-minded enter does nothing.
type confirm struct {
	s      *shared
	title  string
	body   []string // paragraphs
	button string   // "Kick", "Delete", "Unlock"
	req    request
	boxes  []checkbox
	focus  int
	w      int
	done   bool

	// also are sent with req: the same action on other nodes of a fleet.
	also []request
}

var _ modal = (*confirm)(nil)

// newConfirm asks whether to send req.
func newConfirm(s *shared, title, button string, req request, body ...string) *confirm {
	return &confirm{s: s, title: title, body: body, button: button, req: req}
}

func (c *confirm) controls() int { return focusCheck + len(c.boxes) }

// box is the focused checkbox, or nil.
func (c *confirm) box() *checkbox {
	if i := c.focus - focusCheck; i >= 0 && i < len(c.boxes) {
		return &c.boxes[i]
	}
	return nil
}

func (c *confirm) Done() bool       { return c.done }
func (c *confirm) SetSize(w, _ int) { c.w = w }

func (c *confirm) ShortHelp() []key.Binding {
	bs := []key.Binding{hint("tab", "move"), hint("enter", "choose"), hint("esc", "cancel")}
	if len(c.boxes) > 0 {
		bs = append(bs, hint("space", "tick"))
	}
	return bs
}

func (c *confirm) FullHelp() [][]key.Binding { return [][]key.Binding{c.ShortHelp()} }

func (c *confirm) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok || k.Paste {
		return nil
	}
	switch k.String() {
	case "esc", "q", "n":
		c.done = true
	case "tab", "down", "j":
		c.focus = (c.focus + 1) % c.controls()
	case "shift+tab", "up", "k":
		c.focus = (c.focus + c.controls() - 1) % c.controls()
	case "left", "h":
		c.focus = focusCancel
	case "right", "l":
		c.focus = focusAction
	case " ", "x":
		if b := c.box(); b != nil {
			b.on = !b.on
		}
	case "enter":
		switch c.focus {
		case focusCancel:
			c.done = true
		case focusAction:
			c.done = true
			r := c.req
			for _, b := range c.boxes {
				b.set(&r, b.on)
			}
			cmds := []tea.Cmd{r.cmd()}
			for _, o := range c.also {
				cmds = append(cmds, o.cmd())
			}
			return tea.Batch(cmds...)
		default:
			if b := c.box(); b != nil {
				b.on = !b.on
			}
		}
	}
	return nil
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

// View is the dialog's box; the frame centres it over the page.
func (c *confirm) View() string {
	st := &c.s.st
	inner := min(c.w-8, 60)
	var lines []string
	lines = append(lines, st.bold[kWarn].s(truncate(c.title, inner)), "")
	for _, para := range c.body {
		for _, l := range wrap(para, inner) {
			lines = append(lines, st.fg[kText].s(l))
		}
	}
	if len(c.boxes) > 0 {
		lines = append(lines, "")
	}
	for i, b := range c.boxes {
		box := "[ ] "
		if b.on {
			box = "[x] "
		}
		mark := "  "
		if c.focus == focusCheck+i {
			mark = "> "
		}
		lines = append(lines, st.fg[kText].s(truncate(mark+box+b.label, inner)))
	}
	lines = append(lines, "",
		button(st, "Cancel", c.focus == focusCancel, false)+"  "+button(st, c.button, c.focus == focusAction, true))
	lines = append(lines, st.fg[kMuted].s(truncate("tab/←/→ move · enter choose · esc cancel", inner)))
	return st.box.Width(inner + 2).Render(strings.Join(lines, "\n"))
}

// overlay centres a box in a w×h area.
func overlay(st *styles, box string, w, h int) []string {
	placed := st.re.Place(w, h, lipgloss.Center, lipgloss.Center, box)
	return strings.Split(placed, "\n")
}
