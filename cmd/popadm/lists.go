package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"popd/internal/control"
	"popd/internal/human"
)

// The read-only commands, other than "user list" and "events".

// listing is a read-only command that lists things: its rows for people,
// or the JSON of the list (--json). On a fleet (fleet.go) each row starts
// with the node's name.
type listing[T any] struct {
	name, usage string
	fetch       func(*control.Client, context.Context) ([]T, error)
	empty       string // printed for no rows
	header      []string
	row         func(now time.Time, v T) []string
}

func (l listing[T]) run(e *env, args []string) error {
	fs := e.flags(l.name)
	asJSON := fs.Bool("json", false, "")
	if _, err := parse(fs, args, l.usage, 0, 0); err != nil {
		return err
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return l.runFleet(e, f, *asJSON)
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	vs, err := l.fetch(c, e.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(vs)
	}
	now := time.Now()
	return show(e, vs, l.empty, l.header, func(v T) []string { return l.row(now, v) })
}

// who lists the live sessions, oldest first (sessionsByAge); on a fleet,
// node by node in the fleet file's order, each node's oldest first.
func who(e *env, args []string) error { return whoListing.run(e, args) }

// The listings' columns are the console's, in its order, with its names
// and formats (vocab_test.go checks them): AGE is how long a session has
// been connected or a lock held, CLIENT the address a session comes from,
// sizes human.Bytes, durations human.Duration. --json keeps the fields
// the control API names.
var whoListing = listing[control.Session]{
	name: "who", usage: whoUsage, fetch: sessionsByAge, empty: "no sessions",
	header: []string{"ID", "USER", "CLIENT", "TLS", "STATE", "LAST", "RETR", "SENT", "AGE", "IDLE"},
	row: func(now time.Time, s control.Session) []string {
		return []string{s.ID, dash(s.User), s.Remote, human.YesNo(s.TLS), s.State, dash(s.LastCommand),
			strconv.Itoa(s.Retrieved), human.Bytes(s.Octets), human.Duration(now.Sub(s.Since)), human.Duration(s.Idle)}
	},
}

// locks lists the held maildrop locks.
func locks(e *env, args []string) error { return locksListing.run(e, args) }

var locksListing = listing[control.Lock]{
	name: "locks", usage: locksUsage, fetch: (*control.Client).Locks, empty: "no locks",
	header: []string{"USER", "HOLDER", "AGE", "REFRESHED", "STALE"},
	row: func(now time.Time, l control.Lock) []string {
		// AGE: "-" for a lock file that does not say when it was taken.
		return []string{l.User, dash(l.Holder()), human.Since(now, l.Since), human.Ago(now, l.Refreshed), human.YesNo(l.Stale)}
	},
}

// penalties lists the sources slowed down by failed logins.
func penalties(e *env, args []string) error { return penaltiesListing.run(e, args) }

var penaltiesListing = listing[control.Penalty]{
	name: "penalties", usage: penaltiesUsage, fetch: (*control.Client).Penalties, empty: "no penalties",
	header: []string{"SOURCE", "FAILURES", "LAST", "DELAY", "USERS"},
	row: func(now time.Time, p control.Penalty) []string {
		return []string{p.Source, strconv.Itoa(p.Failures), human.Ago(now, p.Last), human.Duration(p.Delay),
			dash(strings.Join(p.Users, ","))}
	},
}

// stats shows popd's counters; on a fleet, a row for each node
// (fleetStats).
func stats(e *env, args []string) error {
	fs := e.flags("stats")
	asJSON := fs.Bool("json", false, "")
	if _, err := parse(fs, args, statsUsage, 0, 0); err != nil {
		return err
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return fleetStats(e, f, *asJSON)
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Stats(e.ctx)
	switch {
	case err != nil:
		return err
	case *asJSON:
		return e.printJSON(st)
	}
	t := e.table()
	t.row("version", st.Version)
	t.row("uptime", human.Duration(st.Uptime))
	t.row("sessions", strconv.Itoa(st.Sessions))
	t.row("logins", perMinute(st.Logins, st.LoginsPerMin))
	t.row("failed logins", perMinute(st.Failures, st.FailuresPerMin))
	t.row("sent", human.Bytes(st.BytesSent))
	return t.flush()
}

// perMinute is a count and its rate: "120 (1.5/min)".
func perMinute(n int64, rate float64) string {
	return fmt.Sprintf("%d (%s/min)", n, human.Rate(rate))
}
