package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"popd/internal/human"
)

// View draws the whole screen, exactly m.w×m.h.
func (m Model) View() string {
	if m.w <= 0 || m.h <= 0 {
		return ""
	}
	st := &m.s.st
	if m.tooSmall() {
		msg := fmt.Sprintf("terminal too small (need %d×%d)\nthis one is %d×%d · q quits", minWidth, minHeight, m.w, m.h)
		return m.re.Place(m.w, m.h, lipgloss.Center, lipgloss.Center,
			st.fg[kWarn].s(strings.Split(msg, "\n")[0])+"\n"+st.fg[kMuted].s(strings.Split(msg, "\n")[1]))
	}
	lines := make([]string, 0, m.h)
	lines = append(lines, m.header(m.w)...)
	lines = append(lines, m.tabs(m.w))
	for i, b := range m.banner() {
		if i == 0 {
			lines = append(lines, st.banner.s(fit(" ! "+b, m.w, false)))
		} else {
			lines = append(lines, st.bold[kErr].s(fit("   "+b, m.w, false)))
		}
	}
	lines = append(lines, m.body(m.w, m.bodyHeight())...)
	lines = append(lines, m.statusLine(m.w), m.helpLine(m.w))
	return strings.Join(lines, "\n")
}

// banner is the connection trouble, if any: what is happening, then why.
// On a fleet it is there only when no node is connected: the header counts
// the nodes up, and the Nodes page says what is wrong with each.
func (m Model) banner() []string {
	l := m.links[0]
	if m.fleet() {
		if m.anyUp() != nil {
			return nil
		}
		// The node that will be tried first.
		for _, o := range m.links[1:] {
			switch {
			case l.dialing:
			case o.dialing, o.retryAt.Before(l.retryAt):
				l = o
			}
		}
	}
	ever := false
	for _, o := range m.links {
		ever = ever || o.everConnected
	}
	if l.connected || !ever && l.attempt == 0 {
		return nil
	}
	s := "disconnected from popd"
	switch {
	case m.fleet() && ever:
		s = "disconnected from every node"
	case m.fleet():
		s = "cannot connect to any node"
	case !ever:
		s = "cannot connect to popd"
	}
	if l.dialing {
		s += " — reconnecting…"
	} else {
		secs := int(math.Ceil(l.retryAt.Sub(m.s.now()).Seconds()))
		s += fmt.Sprintf(" — reconnecting in %ds…", max(secs, 0))
	}
	if l.lastErr == nil {
		return []string{s}
	}
	why := l.lastErr.Error()
	if m.fleet() {
		why = l.name + ": " + why
	}
	return []string{s, human.Clean(why)}
}

// body is the page under the tabs, w×h: the page, the modal over it, or
// the full help.
func (m Model) body(w, h int) []string {
	st := &m.s.st
	switch {
	case m.showHelp:
		return m.fullHelp(w, h)
	case m.s.modal != nil:
		return overlay(st, m.s.modal.View(), w, h)
	}
	return fill(strings.Split(m.page().View(), "\n"), w, h)
}

// fill makes a page's lines h, and pads the lines that are certainly
// short: a page draws w cells a line, and measuring every painted line
// again would cost as much as drawing it.
func fill(lines []string, w, h int) []string {
	lines = lines[:min(len(lines), h)]
	for i, l := range lines {
		if len(l) < w { // fewer bytes than cells
			lines[i] = padTo(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return lines
}

// statusLine is the flash message or what the view shows, or the input
// being typed.
func (m Model) statusLine(w int) string {
	st := &m.s.st
	if m.mode != modeNormal {
		return padTo(m.input.View(), w)
	}
	if fl := m.s.flash; fl.text != "" {
		mark := ""
		switch fl.k {
		case kErr:
			mark = "! "
		case kWarn:
			mark = "* "
		}
		return st.bold[fl.k].s(fit(" "+mark+fl.text, w, false))
	}
	parts := m.page().Status()
	if f, ok := m.page().(filterer); ok && f.Filter() != "" {
		parts = append(parts, "filter \""+f.Filter()+"\"")
	}
	left := " " + strings.Join(parts, " · ")
	right := "theme " + st.theme.Name + " "
	if m.fresh() {
		right = "every " + m.refresh.String() + " · " + right
	}
	gap := w - width(left) - width(right)
	if gap < 1 {
		return st.fg[kMuted].s(fit(left, w, false))
	}
	return st.fg[kMuted].s(left + strings.Repeat(" ", gap) + right)
}

// helpLine is the one-line help, true to the view and the mode.
func (m Model) helpLine(w int) string {
	var bs []key.Binding
	switch {
	case m.s.modal != nil:
		bs = m.s.modal.ShortHelp()
	case m.mode == modeFilter:
		bs = []key.Binding{hint("enter", "keep filter"), hint("esc", "clear filter")}
	case m.mode == modeCommand:
		bs = []key.Binding{hint("enter", "run"), hint("tab", "complete"), hint("esc", "cancel")}
	case m.showHelp:
		bs = []key.Binding{hint("?", "close help"), hint("q", "quit")}
	default:
		bs = m.page().ShortHelp()
	}
	return m.shortHelp(bs, w)
}

// shortHelp draws key bindings on one line of w cells, as many as fit, then
// "…". (bubbles/help overflows when even the "…" does not fit.)
func (m Model) shortHelp(bs []key.Binding, w int) string {
	st := &m.s.st
	var b strings.Builder
	b.WriteByte(' ')
	used := 1
	const sep = " • "
	first := true
	for _, k := range bs {
		if !k.Enabled() {
			continue
		}
		h := k.Help()
		n := width(h.Key) + 1 + width(h.Desc)
		if !first {
			n += len(" • ") - 2 // "•" is one cell
		}
		if used+n > w-2 { // room for " …"
			if used+2 <= w {
				b.WriteString(st.border.s(" …"))
				used += 2
			}
			break
		}
		if !first {
			b.WriteString(st.border.s(sep))
		}
		first = false
		b.WriteString(st.fg[kAccent].s(h.Key) + " " + st.fg[kMuted].s(h.Desc))
		used += n
	}
	if used < w {
		b.WriteString(strings.Repeat(" ", w-used))
	}
	return b.String()
}

// fullHelp is the page of every key, with the legend.
func (m Model) fullHelp(w, h int) []string {
	st := &m.s.st
	hm := m.help
	hm.Width = w - 2
	var lines []string
	lines = append(lines, st.colHead.s(fit("  KEYS — "+strings.ToUpper(m.page().Name()), w, false)))
	// The columns of keys, wrapped onto more rows when they do not fit.
	var row []string
	roww := 0
	flush := func() {
		if len(row) == 0 {
			return
		}
		for _, l := range strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, row...), "\n") {
			lines = append(lines, "  "+l)
		}
		row, roww = nil, 0
	}
	for _, g := range m.page().FullHelp() {
		block := hm.FullHelpView([][]key.Binding{g})
		if block == "" {
			continue
		}
		bw := lipgloss.Width(block) + 4
		if roww > 0 && roww+bw > w-2 {
			flush()
		}
		row = append(row, lipgloss.NewStyle().PaddingRight(4).Render(block))
		roww += bw
	}
	flush()
	legend := []string{
		"",
		"! failed login or penalty  * an admin's action  ── events not seen or restart",
		"> the selected row (when the terminal shows no colours)",
		"STALE: popd is unreachable: its last data, dimmed, clocks stopped; changes are off.",
		"graphs: the last " + spanText(m.span) + " (:span 30m), a bar a minute or more; max (↑) is their top.",
		"themes: T cycles, :theme NAME picks; your own go in ~/.config/popadm/themes",
	}
	if m.fleet() {
		legend = append(legend,
			"NODE: the node a row is on; K, b and c go to it, user changes to any node that is up.",
			"A node that is down: its rows are dimmed (\"node down\"); the Nodes view says why.")
	}
	for _, l := range legend {
		lines = append(lines, st.fg[kMuted].s(truncate("  "+l, w)))
	}
	if m.s.readOnly {
		lines = append(lines, st.fg[kWarn].s(truncate("  read-only: the keys that change things are off", w)))
	}
	for i := range lines {
		lines[i] = padTo(lines[i], w)
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return lines[:h]
}

// padTo pads a painted line to w cells (lipgloss measures the escapes out).
func padTo(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
