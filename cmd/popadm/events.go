package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"popd/internal/control"
	"popd/internal/human"
)

// events follows popd's events, like tail -f, until interrupted (exit 0)
// or popd goes away (exit 1). --backlog N starts with up to N past events
// (popd keeps the last 256). On a fleet, the events of every node, merged
// (fleetEvents).
func events(e *env, args []string) error {
	fs := e.flags("events")
	asJSON := fs.Bool("json", false, "")
	backlog := fs.Int("backlog", 0, "")
	if _, err := parse(fs, args, eventsUsage, 0, 0); err != nil {
		return err
	}
	if *backlog < 0 {
		return &usageError{msg: "--backlog must be 0 or more", usage: eventsUsage}
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return fleetEvents(e, f, *asJSON, *backlog)
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	c.SetEventBacklog(*backlog)
	ch, err := c.Events(e.ctx)
	c.Close() // the events have a connection of their own
	if err != nil {
		return err
	}
	for ev := range ch {
		if *asJSON {
			if err := e.writeJSON(ev, ""); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintln(e.stdout, eventLine(ev)); err != nil {
			return err
		}
	}
	if e.ctx.Err() != nil {
		return nil // interrupted
	}
	return errors.New("popd closed the connection")
}

// eventLine is one event for people:
// "15:04:05  login            user=alice session=7 remote=192.0.2.1:50123".
func eventLine(ev control.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-16s", ev.Time.Local().Format("15:04:05"), human.Clean(string(ev.Type)))
	str := func(k, v string) {
		if v == "" {
			return
		}
		v = human.Clean(v)
		if strings.ContainsAny(v, " \"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(" " + k + "=" + v)
	}
	num := func(k string, n int64) {
		if n != 0 {
			b.WriteString(" " + k + "=" + strconv.FormatInt(n, 10))
		}
	}
	str("user", ev.User)
	str("session", ev.Session)
	str("remote", ev.Remote)
	num("retrieved", int64(ev.Retrieved))
	num("deleted", int64(ev.Deleted))
	if ev.Octets != 0 {
		str("sent", human.Bytes(ev.Octets))
	}
	num("count", int64(ev.Count))
	str("reason", ev.Reason)
	str("by", ev.By)
	return strings.TrimRight(b.String(), " ")
}
