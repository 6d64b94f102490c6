package tui

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"popd/internal/control"
)

func newUserTable() table[control.User] {
	return table[control.User]{
		key:   func(u *control.User) string { return u.Name },
		match: func(u *control.User, q string) bool { return contains(u.Name, q) || contains(u.Scheme, q) },
		row: func(u *control.User) kind {
			if u.Disabled {
				return kMuted
			}
			return kText
		},
		cols: []column[control.User]{
			{title: "NAME", width: 12, max: 32, prio: 10,
				cell: func(u *control.User, _ time.Time) string { return u.Name },
				cmp:  func(a, b *control.User) int { return strings.Compare(a.Name, b.Name) }},
			{title: "SCHEME", width: 12, prio: 4,
				cell: func(u *control.User, _ time.Time) string { return u.Scheme },
				cmp:  func(a, b *control.User) int { return strings.Compare(a.Scheme, b.Scheme) }},
			{title: "MSGS", width: 6, right: true, prio: 8,
				cell: func(u *control.User, _ time.Time) string { return strconv.Itoa(u.Messages) },
				cmp:  func(a, b *control.User) int { return cmp.Compare(a.Messages, b.Messages) }},
			{title: "SIZE", width: 6, right: true, prio: 8,
				cell: func(u *control.User, _ time.Time) string { return humanBytes(u.Octets) },
				cmp:  func(a, b *control.User) int { return cmp.Compare(a.Octets, b.Octets) }},
			{title: "LOCKED", width: 6, prio: 7,
				cell: func(u *control.User, _ time.Time) string {
					if u.Locked {
						return "locked"
					}
					return "-"
				},
				cmp: func(a, b *control.User) int { return cmpBool(a.Locked, b.Locked) },
				kind: func(u *control.User) kind {
					if u.Locked {
						return kAccent
					}
					return kMuted
				}},
			{title: "LAST LOGIN", width: 10, prio: 6,
				cell: func(u *control.User, now time.Time) string { return ago(now, u.LastLogin) },
				// Most recent first when ascending would surprise; oldest first is
				// what "sort by last login" finds stale accounts with.
				cmp: func(a, b *control.User) int { return a.LastLogin.Compare(b.LastLogin) }},
			{title: "ENABLED", width: 7, prio: 9,
				cell: func(u *control.User, _ time.Time) string {
					if u.Disabled {
						return "! no"
					}
					return "yes"
				},
				cmp: func(a, b *control.User) int { return cmpBool(!a.Disabled, !b.Disabled) },
				kind: func(u *control.User) kind {
					if u.Disabled {
						return kWarn
					}
					return kOK
				}},
		},
	}
}

// userSummary describes a user for a dialog.
func userSummary(u *control.User) string {
	s := fmt.Sprintf("%d messages, %s", u.Messages, humanBytes(u.Octets))
	if u.Locked {
		s += ", maildrop locked"
	}
	return s
}
