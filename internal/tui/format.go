package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
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

// dur formats a duration compactly, at most 6 cells: 42s 3m07s 2h05m 3d04h.
func dur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}

// ago formats the time since t: "never", "42s ago".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return dur(now.Sub(t)) + " ago"
}

// humanBytes formats a byte count in at most 6 cells: 512B 1.2K 34.5M 1.2G.
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	f := float64(n)
	for _, unit := range []string{"K", "M", "G", "T", "P"} {
		f /= 1024
		if f < 999.95 || unit == "P" {
			if f < 9.995 {
				return fmt.Sprintf("%.2f%s", f, unit)
			}
			return fmt.Sprintf("%.1f%s", f, unit)
		}
	}
	return ""
}

// rate formats a per-minute rate.
func rate(f float64) string {
	switch {
	case f == 0:
		return "0"
	case f < 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	default:
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
}

// natural compares session ids numerically when they are numbers.
func natural(a, b string) int {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
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
