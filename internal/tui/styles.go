package tui

import (
	"os"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"popd/themes"
)

// paint is a style reduced to the escapes around its text, worked out once
// per theme: painting a cell is then two string concatenations, not a
// lipgloss render.
type paint struct{ pre, post string }

func newPaint(st lipgloss.Style) paint {
	out := st.Render("X")
	i := strings.IndexByte(out, 'X')
	if i < 0 {
		return paint{}
	}
	return paint{out[:i], out[i+1:]}
}

func (p paint) s(text string) string {
	if p.pre == "" && p.post == "" {
		return text
	}
	return p.pre + text + p.post
}

// kind is the semantic colour of a piece of text.
type kind uint8

const (
	kText kind = iota
	kMuted
	kAccent
	kOK
	kWarn
	kErr
	nKinds
)

// styles are everything the views draw with, built from a theme once.
type styles struct {
	theme themes.Theme
	mono  bool // no colours: the selection shows as a "> " marker
	dim   bool // popd is unreachable: the rows are drawn muted (stale.go)

	fg        [nKinds]paint // foreground colours on the terminal background
	bold      [nKinds]paint
	selected  paint // the selected row
	logo      paint // the "popd" chip
	tabActive paint
	colHead   paint // table column titles
	border    paint
	banner    paint // the disconnected banner
	box       lipgloss.Style
	re        *lipgloss.Renderer
}

// colour turns a theme colour into a lipgloss one; "" is the terminal's.
func colour(c string) lipgloss.TerminalColor {
	if c == "" {
		return lipgloss.NoColor{}
	}
	return lipgloss.Color(c)
}

// noColor says whether the NO_COLOR convention asks for monochrome.
func noColor() bool { return os.Getenv("NO_COLOR") != "" }

func newStyles(re *lipgloss.Renderer, th themes.Theme, mono bool) styles {
	if re.ColorProfile() == termenv.Ascii {
		mono = true
	}
	st := styles{theme: th, mono: mono, re: re}
	c := func(s string) lipgloss.TerminalColor {
		if mono {
			return lipgloss.NoColor{}
		}
		return colour(s)
	}
	fgs := [nKinds]string{th.Text, th.Muted, th.Accent, th.OK, th.Warn, th.Error}
	for k, f := range fgs {
		st.fg[k] = newPaint(re.NewStyle().Foreground(c(f)))
		st.bold[k] = newPaint(re.NewStyle().Foreground(c(f)).Bold(true))
	}
	st.selected = newPaint(re.NewStyle().Foreground(c(th.SelectedText)).Background(c(th.Selected)).Reverse(mono))
	st.logo = newPaint(re.NewStyle().Foreground(c(th.HeaderText)).Background(c(th.Header)).Bold(true))
	st.tabActive = newPaint(re.NewStyle().Foreground(c(th.HeaderText)).Background(c(th.Header)).Bold(true))
	st.colHead = newPaint(re.NewStyle().Foreground(c(th.Accent)).Bold(true))
	st.border = newPaint(re.NewStyle().Foreground(c(th.Border)))
	st.banner = newPaint(re.NewStyle().Foreground(c(th.Error)).Bold(true).Reverse(true))
	st.box = re.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(c(th.Border)).Padding(0, 1)
	return st
}

// helpStyles colours the help bar.
func (st styles) help(h *help.Model) {
	c := func(s string) lipgloss.TerminalColor {
		if st.mono {
			return lipgloss.NoColor{}
		}
		return colour(s)
	}
	key := st.re.NewStyle().Foreground(c(st.theme.Accent))
	desc := st.re.NewStyle().Foreground(c(st.theme.Muted))
	sep := st.re.NewStyle().Foreground(c(st.theme.Border))
	h.Styles = help.Styles{
		Ellipsis: sep, ShortKey: key, ShortDesc: desc, ShortSeparator: sep,
		FullKey: key, FullDesc: desc, FullSeparator: sep,
	}
}

// input styles a text input.
func (st styles) input(ti *textinput.Model) {
	c := func(s string) lipgloss.TerminalColor {
		if st.mono {
			return lipgloss.NoColor{}
		}
		return colour(s)
	}
	ti.PromptStyle = st.re.NewStyle().Foreground(c(st.theme.Accent))
	ti.TextStyle = st.re.NewStyle().Foreground(c(st.theme.Text))
	ti.PlaceholderStyle = st.re.NewStyle().Foreground(c(st.theme.Muted))
	ti.Cursor.Style = st.re.NewStyle().Reverse(true)
	ti.Cursor.TextStyle = st.re.NewStyle().Foreground(c(st.theme.Text))
}

// marker is what the gutter shows left of a row.
func (st styles) marker(selected bool) string {
	if selected && st.mono {
		return "> "
	}
	return "  "
}
