package main

import (
	"context"

	"popd/internal/control"
)

// The commands that change something in popd, other than the user
// commands. On a fleet, kick and unlock go to the node that holds the
// session or the lock; kick by selector (--user …), penalty clear and
// reload go to every node.

// kick ends a session, or every session a selector picks (--user, --from,
// --state, --idle-over: kickselect.go), without UPDATE.
func kick(e *env, args []string) error {
	fs := e.flags("kick")
	selector, dryRun := selectorFlags(fs)
	pos, err := parse(fs, args, kickUsage, 0, 1)
	if err != nil {
		return err
	}
	sel, err := selector()
	if err != nil {
		return err
	}
	switch {
	case (len(pos) == 1) == !sel.Empty():
		return &usageError{msg: "give a session ID, or any of --user, --from, --state, --idle-over", usage: kickUsage}
	case len(pos) == 0:
		return kickSelected(e, sel, *dryRun)
	case *dryRun:
		return &usageError{msg: "--dry-run goes with --user, --from, --state or --idle-over", usage: kickUsage}
	}
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return fleetKick(e, f, pos[0])
	}
	return change(e, e.dial, func(c *control.Client) (string, error) {
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
// A source without a penalty is an error (exit 1, as pkill's when nothing
// matched); on a fleet, one that no node has (fleetClearPenalty).
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
		return fleetClearPenalty(e, f, pos[0])
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
