package main

import (
	"fmt"
	"strconv"
)

const (
	penaltiesUsage = "popadm penalties [--json]"
	penaltyUsage   = "popadm penalty clear SOURCE"
)

// penalties lists the sources slowed down by failed logins.
func penalties(e *env, args []string) error {
	fs := e.flags("penalties")
	asJSON := fs.Bool("json", false, "")
	if _, err := parse(fs, args, penaltiesUsage, 0, 0); err != nil {
		return err
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ps, err := c.Penalties(e.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(e.stdout, "no penalties")
		return nil
	}
	t := e.table("SOURCE", "FAILURES", "LAST", "DELAY")
	for _, p := range ps {
		t.row(p.Source, strconv.Itoa(p.Failures), since(p.Last)+" ago", duration(p.Delay))
	}
	return t.flush()
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
