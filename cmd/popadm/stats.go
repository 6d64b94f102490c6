package main

import (
	"fmt"
	"strconv"
)

const (
	statsUsage  = "popadm stats [--json]"
	reloadUsage = "popadm reload"
)

// stats shows popd's counters.
func stats(e *env, args []string) error {
	fs := e.flags("stats")
	asJSON := fs.Bool("json", false, "")
	if _, err := parse(fs, args, statsUsage, 0, 0); err != nil {
		return err
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := c.Stats(e.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(st)
	}
	perMin := func(n int64, rate float64) string {
		return fmt.Sprintf("%d (%s/min)", n, strconv.FormatFloat(rate, 'f', -1, 64))
	}
	t := e.table()
	t.row("version", st.Version)
	t.row("uptime", duration(st.Uptime))
	t.row("sessions", strconv.Itoa(st.Sessions))
	t.row("logins", perMin(st.Logins, st.LoginsPerMin))
	t.row("failed logins", perMin(st.Failures, st.FailuresPerMin))
	t.row("sent", size(st.BytesSent))
	return t.flush()
}

// reload makes popd reread its users file and certificate.
func reload(e *env, args []string) error {
	fs := e.flags("reload")
	if _, err := parse(fs, args, reloadUsage, 0, 0); err != nil {
		return err
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Reload(e.ctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "reloaded")
	return nil
}
