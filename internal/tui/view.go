package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
)

// View draws the whole screen, exactly m.w×m.h.
func (m Model) View() string {
	if m.w <= 0 || m.h <= 0 {
		return ""
	}
	if m.tooSmall() {
		msg := fmt.Sprintf("terminal too small (need %d×%d)\nthis one is %d×%d · q quits", minWidth, minHeight, m.w, m.h)
		return m.re.Place(m.w, m.h, lipgloss.Center, lipgloss.Center,
			m.st.fg[kWarn].s(strings.Split(msg, "\n")[0])+"\n"+m.st.fg[kMuted].s(strings.Split(msg, "\n")[1]))
	}
	lines := make([]string, 0, m.h)
	lines = append(lines, m.header(m.w)...)
	lines = append(lines, m.tabs(m.w))
	for i, b := range m.banner() {
		if i == 0 {
			lines = append(lines, m.st.banner.s(fit(" ! "+b, m.w, false)))
		} else {
			lines = append(lines, m.st.bold[kErr].s(fit("   "+b, m.w, false)))
		}
	}
	lines = append(lines, m.body(m.w, m.bodyHeight())...)
	lines = append(lines, m.statusLine(m.w), m.helpLine(m.w))
	return strings.Join(lines, "\n")
}

// banner is the connection trouble, if any: what is happening, then why.
func (m Model) banner() []string {
	if m.connected || !m.everConnected && m.attempt == 0 {
		return nil
	}
	s := "disconnected from popd"
	if !m.everConnected {
		s = "cannot connect to popd"
	}
	if m.dialing {
		s += " — reconnecting…"
	} else {
		secs := int(math.Ceil(m.retryAt.Sub(m.now()).Seconds()))
		s += fmt.Sprintf(" — reconnecting in %ds…", max(secs, 0))
	}
	if m.lastErr == nil {
		return []string{s}
	}
	return []string{s, m.lastErr.Error()}
}

// body is the page under the tabs, w×h.
func (m Model) body(w, h int) []string {
	st := &m.st
	switch {
	case m.showHelp:
		return m.fullHelp(w, h)
	case m.form != nil:
		return overlay(st, m.form.view(st, w), w, h)
	case m.dlg != nil:
		return overlay(st, m.dlg.view(st, w), w, h)
	}
	now := m.now()
	switch m.view {
	case viewSessions:
		empty := "no sessions"
		switch {
		case !m.loaded[viewSessions]:
			empty = "waiting for popd…"
		case m.sessions.filter != "":
			empty = "no sessions match the filter"
		}
		tw, th, pw, ph := m.sizes()
		table := m.sessions.view(st, tw, th, now, empty)
		if pw == 0 {
			return table
		}
		if tw < w { // beside
			pane := m.detailPane(pw, ph, true)
			for i := range table {
				table[i] += pane[i]
			}
			return table
		}
		return append(table, m.detailPane(pw, ph, false)...)
	case viewUsers:
		return m.users.view(st, w, h, now, m.emptyText(viewUsers, m.users.filter, "no users", "users"))
	case viewLocks:
		return m.locks.view(st, w, h, now, m.emptyText(viewLocks, m.locks.filter, "no maildrop is locked", "locks"))
	}
	return m.eventsView(w, h)
}

// statusLine is the flash message or what the view shows, or the input
// being typed.
func (m Model) statusLine(w int) string {
	st := &m.st
	if m.mode != modeNormal {
		return padTo(m.input.View(), w)
	}
	if m.flash.text != "" {
		mark := ""
		switch m.flash.k {
		case kErr:
			mark = "! "
		case kWarn:
			mark = "* "
		}
		return st.bold[m.flash.k].s(fit(" "+mark+m.flash.text, w, false))
	}
	var parts []string
	filter := m.filterText()
	switch m.view {
	case viewSessions:
		parts = append(parts, count(len(m.sessions.rows), len(m.sessions.all), "session"), "sort "+m.sessions.sortName())
	case viewUsers:
		parts = append(parts, count(len(m.users.rows), len(m.users.all), "user"), "sort "+m.users.sortName())
	case viewLocks:
		parts = append(parts, count(len(m.locks.rows), len(m.locks.all), "lock"), "sort "+m.locks.sortName())
	case viewEvents:
		l := &m.ev
		parts = append(parts, count(l.count(), len(l.rows), "event"))
		switch {
		case l.paused:
			parts = append(parts, "paused")
		case l.follow:
			parts = append(parts, "following")
		default:
			parts = append(parts, "scrolled")
		}
		if m.evErr != "" {
			parts = append(parts, "no live events")
		}
	}
	if filter != "" {
		parts = append(parts, "filter \""+filter+"\"")
	}
	left := " " + strings.Join(parts, " · ")
	right := "theme " + st.theme.Name + " "
	if m.connected && !m.stale {
		right = "every " + m.refresh.String() + " · " + right
	}
	gap := w - width(left) - width(right)
	if gap < 1 {
		return st.fg[kMuted].s(fit(left, w, false))
	}
	return st.fg[kMuted].s(left + strings.Repeat(" ", gap) + right)
}

// count says "3 of 42 sessions" or "42 sessions".
func count(shown, all int, noun string) string {
	if shown != all {
		return fmt.Sprintf("%d of %d %s%s", shown, all, noun, plural(all))
	}
	return fmt.Sprintf("%d %s%s", all, noun, plural(all))
}

// helpLine is the one-line help, true to the view and the mode.
func (m Model) helpLine(w int) string {
	var bs []key.Binding
	b := func(k, desc string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(k, desc)) }
	switch {
	case m.form != nil:
		bs = []key.Binding{b("enter", "next/save"), b("tab", "next field"), b("esc", "cancel")}
	case m.dlg != nil:
		bs = []key.Binding{b("tab", "move"), b("enter", "choose"), b("esc", "cancel")}
		if m.dlg.check != "" {
			bs = append(bs, b("space", "tick"))
		}
	case m.mode == modeFilter:
		bs = []key.Binding{b("enter", "keep filter"), b("esc", "clear filter")}
	case m.mode == modeCommand:
		bs = []key.Binding{b("enter", "run"), b("tab", "complete"), b("esc", "cancel")}
	case m.showHelp:
		bs = []key.Binding{b("?", "close help"), b("q", "quit")}
	default:
		bs = m.helpFor().short
	}
	return m.shortHelp(bs, w)
}

// shortHelp draws key bindings on one line of w cells, as many as fit, then
// "…". (bubbles/help overflows when even the "…" does not fit.)
func (m Model) shortHelp(bs []key.Binding, w int) string {
	st := &m.st
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
	st := &m.st
	hm := m.help
	hm.Width = w - 2
	var lines []string
	lines = append(lines, st.colHead.s(fit("  KEYS — "+strings.ToUpper(viewNames[m.view]), w, false)))
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
	for _, g := range m.helpFor().full {
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
		"! a failed login or a penalty    * an administrator's action, or lost events",
		"> the selected row (when the terminal shows no colours)",
		"STALE: popd is unreachable; what you see is the last data it sent.",
		"themes: T cycles, :theme NAME picks; your own go in ~/.config/popadm/themes",
	}
	for _, l := range legend {
		lines = append(lines, st.fg[kMuted].s(truncate("  "+l, w)))
	}
	if m.readOnly {
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

// emptyText is what an empty table of view v says: still loading, nothing
// matching the filter, or none at all.
func (m *Model) emptyText(v view, filter, none, what string) string {
	switch {
	case !m.loaded[v]:
		return "waiting for popd…"
	case filter != "":
		return "no " + what + " match the filter"
	}
	return none
}
