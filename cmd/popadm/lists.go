package main

import (
	"fmt"
	"strconv"
	"time"

	"popd/internal/control"
	"popd/internal/human"
)

// The read-only commands, other than "user list" and "events".

// who lists the live sessions.
func who(e *env, args []string) error {
	return query(e, "who", whoUsage, args, (*control.Client).Sessions, func(ss []control.Session) error {
		now := time.Now()
		return show(e, ss, "no sessions",
			[]string{"ID", "USER", "REMOTE", "STATE", "TLS", "AGE", "IDLE", "RETR", "SENT", "LAST"},
			func(s control.Session) []string {
				return []string{s.ID, dash(s.User), s.Remote, s.State, human.YesNo(s.TLS), human.Duration(now.Sub(s.Since)),
					human.Duration(s.Idle), strconv.Itoa(s.Retrieved), human.Bytes(s.Octets), dash(s.LastCommand)}
			})
	})
}

// locks lists the held maildrop locks.
func locks(e *env, args []string) error {
	return query(e, "locks", locksUsage, args, (*control.Client).Locks, func(ls []control.Lock) error {
		now := time.Now()
		return show(e, ls, "no locks",
			[]string{"USER", "SESSION", "OWNER", "HOST", "PID", "AGE", "REFRESHED", "STALE"},
			func(l control.Lock) []string {
				age := "-" // a lock file that does not say when it was taken
				if !l.Since.IsZero() {
					age = human.Duration(now.Sub(l.Since))
				}
				return []string{l.User, dash(l.Session), dash(l.Owner), dash(l.Host), strconv.Itoa(l.PID), age,
					human.Ago(now, l.Refreshed), human.YesNo(l.Stale)}
			})
	})
}

// penalties lists the sources slowed down by failed logins.
func penalties(e *env, args []string) error {
	return query(e, "penalties", penaltiesUsage, args, (*control.Client).Penalties, func(ps []control.Penalty) error {
		now := time.Now()
		return show(e, ps, "no penalties",
			[]string{"SOURCE", "FAILURES", "LAST", "DELAY"},
			func(p control.Penalty) []string {
				return []string{p.Source, strconv.Itoa(p.Failures), human.Ago(now, p.Last), human.Duration(p.Delay)}
			})
	})
}

// stats shows popd's counters.
func stats(e *env, args []string) error {
	return query(e, "stats", statsUsage, args, (*control.Client).Stats, func(st control.Stats) error {
		perMin := func(n int64, rate float64) string {
			return fmt.Sprintf("%d (%s/min)", n, human.Rate(rate))
		}
		t := e.table()
		t.row("version", st.Version)
		t.row("uptime", human.Duration(st.Uptime))
		t.row("sessions", strconv.Itoa(st.Sessions))
		t.row("logins", perMin(st.Logins, st.LoginsPerMin))
		t.row("failed logins", perMin(st.Failures, st.FailuresPerMin))
		t.row("sent", human.Bytes(st.BytesSent))
		return t.flush()
	})
}
