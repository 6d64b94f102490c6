package main

import (
	"context"

	"popd/internal/control"
	"popd/internal/human"
)

// The commands that change something in popd, other than the user
// commands. On a fleet, kick and unlock go to the node that holds the
// session or the lock; kick --user, penalty clear and reload go to every
// node.

// kick ends a session, or every session of a user, without UPDATE.
func kick(e *env, args []string) error {
	fs := e.flags("kick")
	user := fs.String("user", "", "")
	pos, err := parse(fs, args, kickUsage, 0, 1)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == (*user != "") {
		return &usageError{msg: "give a session ID or --user NAME", usage: kickUsage}
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		id := ""
		if len(pos) == 1 {
			id = pos[0]
		}
		return fleetKick(e, f, id, *user)
	}
	return change(e, e.dial, func(c *control.Client) (string, error) {
		if *user != "" {
			n, err := c.KickUser(e.ctx, *user)
			return "kicked " + human.Count(n, "session") + " of " + *user, err
		}
		return "kicked session " + pos[0], c.Kick(e.ctx, pos[0])
	})
}

// unlock unlocks a user's maildrop: popd kicks its own session holding
// the lock, if any, and removes the lock.
func unlock(e *env, args []string) error {
	pos, err := parse(e.flags("unlock"), args, unlockUsage, 1, 1)
	if err != nil {
		return err
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return fleetUnlock(e, f, pos[0])
	}
	return change(e, e.dial, func(c *control.Client) (string, error) {
		return "unlocked the maildrop of " + pos[0], c.Unlock(e.ctx, pos[0])
	})
}

// penaltyCmd is "penalty clear SOURCE": forget a source's failed logins.
func penaltyCmd(e *env, args []string) error {
	if len(args) == 0 || args[0] != "clear" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return &usageError{usage: penaltyUsage, help: true}
		}
		return &usageError{msg: "want: penalty clear SOURCE", usage: penaltyUsage}
	}
	pos, err := parse(e.flags("penalty clear"), args[1:], penaltyUsage, 1, 1)
	if err != nil {
		return err
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return e.onAll(f, func(ctx context.Context, c *control.Client) (string, error) {
			return "cleared the penalty of " + pos[0], c.ClearPenalty(ctx, pos[0])
		})
	}
	return change(e, e.dial, func(c *control.Client) (string, error) {
		return "cleared the penalty of " + pos[0], c.ClearPenalty(e.ctx, pos[0])
	})
}

// reload makes popd reread its configuration, users file and certificate.
func reload(e *env, args []string) error {
	if _, err := parse(e.flags("reload"), args, reloadUsage, 0, 0); err != nil {
		return err
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return e.onAll(f, func(ctx context.Context, c *control.Client) (string, error) {
			return "reloaded", c.Reload(ctx)
		})
	}
	return change(e, e.dial, func(c *control.Client) (string, error) {
		return "reloaded", c.Reload(e.ctx)
	})
}
