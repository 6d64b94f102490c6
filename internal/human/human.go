// Package human formats values for people, the same way in popadm's
// command-line listings and in its dashboard: durations, ages, byte
// counts, rates, counts of things, settings' durations, the order of
// session ids, and text from the daemon made safe to print on a
// terminal. It imports nothing internal.
package human

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Duration formats d compactly, in at most 6 cells: 42s 3m07s 2h05m 3d04h.
// A negative duration is 0s.
func Duration(d time.Duration) string {
	s := int64(max(d, 0) / time.Second)
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

// Setting is d as people write it in a setting: "5m", "1h30m", "30s",
// not time.Duration's "5m0s".
func Setting(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Ago formats the time from t to now: "42s ago", or "never" for the zero
// time.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return Duration(now.Sub(t)) + " ago"
}

// Since formats the time from t to now as Duration does, or "-" for the
// zero time (not known): how long a lock has been held.
func Since(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return Duration(now.Sub(t))
}

// Bytes formats a byte count in at most 6 cells: 512B 1.20K 34.5M 1.2G.
func Bytes(n int64) string {
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

// Rate formats a rate: 0, 4.5, 12.
func Rate(f float64) string {
	switch {
	case f == 0:
		return "0"
	case f < 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	default:
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
}

// Count is n and the noun, in the plural unless n is 1: "1 session",
// "3 sessions". The plural adds "s"; nouns that differ pass both as
// "mailbox|mailboxes".
func Count(n int, noun string) string {
	one, many, ok := strings.Cut(noun, "|")
	if !ok {
		many = one + "s"
	}
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// YesNo is "yes" or "no".
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Clean replaces with "?" every rune that can make a terminal show
// something other than the text (Unsafe), and invalid UTF-8. Text from
// the daemon carries what POP3 clients typed (a user name after USER, a
// SASL identity), and none of it may drive the administrator's terminal
// or disguise itself: an escape sequence, a bidi override that shows
// "alice\u202Egpj.exe" as "aliceexe.jpg", a zero-width space that makes
// two names look alike. The CLI and the dashboard both print through it.
func Clean(s string) string {
	if strings.IndexFunc(s, bad) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if bad(r) {
			return '?'
		}
		return r
	}, s)
}

// Unsafe reports whether r acts on a terminal or on how the text around it
// is laid out, rather than showing as itself: a control character (C0,
// DEL, C1; escape sequences start with one), a format character (Unicode
// category Cf: the bidi embeddings, overrides, isolates and marks
// U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C; zero-width
// U+200B–U+200D, U+2060–U+2064, U+FEFF, U+180E; the soft hyphen; tags), or
// the line and paragraph separators U+2028 and U+2029.
func Unsafe(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// bad is Unsafe, or the rune of invalid UTF-8 (which strings.Map and
// range loops turn into U+FFFD).
func bad(r rune) bool { return Unsafe(r) || r == utf8.RuneError }

// Natural orders strings with the numbers that end them compared as
// numbers: session ids "k3f9-9" before "k3f9-10" (a run's tag, then its
// counter), "9" before "10". It returns -1, 0 or +1.
func Natural(a, b string) int {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	if c := cmp.Compare(len(na), len(nb)); c != 0 {
		return c // no leading zeros in ids: shorter is smaller
	}
	return strings.Compare(na, nb)
}

// splitNumber cuts the digits that end s off its beginning: "k3f9-12" is
// "k3f9-", "12".
func splitNumber(s string) (string, string) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[:i], s[i:]
}
