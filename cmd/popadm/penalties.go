package main

import (
	"fmt"
	"strconv"

	"popd/internal/control"
)

const (
	penaltiesUsage = "popadm penalties [--json]"
	penaltyUsage   = "popadm penalty clear SOURCE"
)

// penalties lists the sources slowed down by failed logins.
func penalties(e *env, args []string) error {
	return list(e, "penalties", penaltiesUsage, args,
		func(c *control.Client) ([]control.Penalty, error) { return c.Penalties(e.ctx) },
		"no penalties",
		[]string{"SOURCE", "FAILURES", "LAST", "DELAY"},
		func(p control.Penalty) []string {
			return []string{p.Source, strconv.Itoa(p.Failures), since(p.Last) + " ago", duration(p.Delay)}
		})
}

// penaltyCmd is "penalty clear SOURCE".
func penaltyCmd(e *env, args []string) error {
	if len(args) == 0 || args[0] != "clear" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return &usageError{usage: penaltyUsage, help: true}
		}
		return &usageError{msg: "want: penalty clear SOURCE", usage: penaltyUsage}
	}
	fs := e.flags("penalty clear")
	pos, err := parse(fs, args[1:], penaltyUsage, 1, 1)
	if err != nil {
		return err
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.ClearPenalty(e.ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "cleared the penalty of %s\n", clean(pos[0]))
	return nil
}
