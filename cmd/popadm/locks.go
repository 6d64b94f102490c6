package main

import (
	"fmt"
	"strconv"
)

const (
	locksUsage  = "popadm locks [--json]"
	unlockUsage = "popadm unlock NAME"
)

// locks lists the held maildrop locks.
func locks(e *env, args []string) error {
	fs := e.flags("locks")
	asJSON := fs.Bool("json", false, "")
	if _, err := parse(fs, args, locksUsage, 0, 0); err != nil {
		return err
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ls, err := c.Locks(e.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(ls)
	}
	if len(ls) == 0 {
		fmt.Fprintln(e.stdout, "no locks")
		return nil
	}
	t := e.table("USER", "SESSION", "OWNER", "HOST", "PID", "AGE", "REFRESHED", "STALE")
	for _, l := range ls {
		t.row(l.User, dash(l.Session), dash(l.Owner), dash(l.Host), strconv.Itoa(l.PID), since(l.Since),
			since(l.Refreshed)+" ago", yesNo(l.Stale))
	}
	return t.flush()
}

// unlock breaks the lock on a user's maildrop.
func unlock(e *env, args []string) error {
	fs := e.flags("unlock")
	pos, err := parse(fs, args, unlockUsage, 1, 1)
	if err != nil {
		return err
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Unlock(e.ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "unlocked the maildrop of %s\n", clean(pos[0]))
	return nil
}
