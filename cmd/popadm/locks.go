package main

import (
	"fmt"
	"strconv"

	"popd/internal/control"
)

const (
	locksUsage  = "popadm locks [--json]"
	unlockUsage = "popadm unlock NAME"
)

// locks lists the held maildrop locks.
func locks(e *env, args []string) error {
	return list(e, "locks", locksUsage, args,
		func(c *control.Client) ([]control.Lock, error) { return c.Locks(e.ctx) },
		"no locks",
		[]string{"USER", "SESSION", "OWNER", "HOST", "PID", "AGE", "REFRESHED", "STALE"},
		func(l control.Lock) []string {
			return []string{l.User, dash(l.Session), dash(l.Owner), dash(l.Host), strconv.Itoa(l.PID), since(l.Since),
				since(l.Refreshed) + " ago", yesNo(l.Stale)}
		})
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
