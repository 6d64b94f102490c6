package tui

import (
	"fmt"
	"strings"
	"time"

	"popd/internal/control"
)

// holder says who holds a lock: a session of this popd, or a process.
func holder(l *control.Lock) string {
	if l.Session != "" {
		return "session " + l.Session
	}
	if l.Host == "" && l.PID == 0 {
		return l.Owner
	}
	return fmt.Sprintf("%s@%s pid %d", l.Owner, l.Host, l.PID)
}

func newLockTable() table[control.Lock] {
	return table[control.Lock]{
		key: func(l *control.Lock) string { return l.User },
		match: func(l *control.Lock, q string) bool {
			return contains(l.User, q) || contains(holder(l), q) || l.Stale && strings.Contains("stale", q)
		},
		cols: []column[control.Lock]{
			{title: "USER", width: 12, max: 32, prio: 10,
				cell: func(l *control.Lock, _ time.Time) string { return l.User },
				cmp:  func(a, b *control.Lock) int { return strings.Compare(a.User, b.User) }},
			{title: "HOLDER", width: 14, max: 48, prio: 9,
				cell: func(l *control.Lock, _ time.Time) string { return holder(l) },
				cmp:  func(a, b *control.Lock) int { return strings.Compare(holder(a), holder(b)) }},
			{title: "AGE", width: 6, right: true, prio: 8,
				cell: func(l *control.Lock, now time.Time) string { return dur(now.Sub(l.Since)) },
				cmp:  func(a, b *control.Lock) int { return b.Since.Compare(a.Since) }},
			{title: "REFRESHED", width: 10, right: true, prio: 6,
				cell: func(l *control.Lock, now time.Time) string {
					if l.Refreshed.IsZero() {
						return "-"
					}
					return dur(now.Sub(l.Refreshed)) + " ago"
				},
				cmp: func(a, b *control.Lock) int { return b.Refreshed.Compare(a.Refreshed) }},
			{title: "STALE", width: 7, prio: 9,
				cell: func(l *control.Lock, _ time.Time) string {
					if l.Stale {
						return "! stale"
					}
					return "no"
				},
				cmp: func(a, b *control.Lock) int { return cmpBool(a.Stale, b.Stale) },
				kind: func(l *control.Lock) kind {
					if l.Stale {
						return kWarn
					}
					return kMuted
				}},
		},
	}
}
