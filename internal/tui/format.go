package tui

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"

	"popd/internal/human"
)

// width is the number of terminal cells s takes.
func width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] == 0x1b {
			return lipgloss.Width(s)
		}
	}
	return len(s)
}

// truncate cuts s, which has no escapes, to at most w cells, ending with
// "…" when it cut.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	if w == 1 {
		return "…"
	}
	n := 0
	for i, r := range s {
		rw := 1
		if r >= utf8.RuneSelf {
			rw = lipgloss.Width(string(r))
		}
		if n+rw > w-1 {
			return s[:i] + "…"
		}
		n += rw
	}
	return s
}

// fit truncates or pads s to exactly w cells.
func fit(s string, w int, right bool) string {
	s = truncate(s, w)
	pad := w - width(s)
	if pad <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", pad) + s
	}
	return s + strings.Repeat(" ", pad)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sparkline draws the last w values, scaled to their maximum.
func sparkline(vals []float64, w int) string {
	if w <= 0 {
		return ""
	}
	if len(vals) > w {
		vals = vals[len(vals)-w:]
	}
	const bars = "▁▂▃▄▅▆▇█"
	max := 0.0
	for _, v := range vals {
		if v > max {
			max = v
		}
	}
	var b strings.Builder
	b.Grow(w * 3)
	for range w - len(vals) {
		b.WriteByte(' ')
	}
	for _, v := range vals {
		i := 0
		if max > 0 && v > 0 {
			i = int(v/max*7 + 0.5)
			if i == 0 {
				i = 1 // something, however little, shows above nothing
			}
		}
		b.WriteString(bars[i*3 : i*3+3])
	}
	return b.String()
}

// wrap breaks text into lines of at most w cells, at spaces.
func wrap(s string, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= w:
			line += " " + word
		default:
			out = append(out, truncate(line, w))
			line = word
		}
	}
	if line != "" {
		out = append(out, truncate(line, w))
	}
	return out
}

// count says "3 of 42 sessions" or "42 sessions".
func count(shown, all int, noun string) string {
	if shown != all {
		return strconv.Itoa(shown) + " of " + human.Count(all, noun)
	}
	return human.Count(all, noun)
}

// plural is the plural of noun, as human.Count makes it: "sessions".
func plural(noun string) string {
	_, many, _ := strings.Cut(human.Count(0, noun), " ")
	return many
}
