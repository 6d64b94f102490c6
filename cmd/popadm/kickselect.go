package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/human"
)

// kick by selector: --user, --from, --state, --idle-over, ANDed; popd
// picks the sessions as the request arrives (control.Selector). As with
// pkill, nothing matching is said and is exit status 1.

// selectorFlags adds the selector's flags to fs; sel reads them once
// parsed.
func selectorFlags(fs *flag.FlagSet) (sel func() (control.Selector, error), dryRun *bool) {
	var s control.Selector
	fs.StringVar(&s.User, "user", "", "")
	fs.StringVar(&s.From, "from", "", "")
	state := fs.String("state", "", "")
	fs.DurationVar(&s.IdleOver, "idle-over", 0, "")
	dryRun = fs.Bool("dry-run", false, "")
	return func() (control.Selector, error) {
		if *state != "" {
			st, ok := control.StateNamed(*state)
			if !ok {
				return s, &usageError{msg: fmt.Sprintf("no state %q (states: %s)", *state, strings.Join(control.SessionStates, ", ")), usage: kickUsage}
			}
			s.State = st
		}
		if s.From != "" {
			if _, err := control.ParseFrom(s.From); err != nil {
				return s, &usageError{msg: message(err), usage: kickUsage}
			}
		}
		if s.IdleOver < 0 {
			return s, &usageError{msg: "--idle-over is negative", usage: kickUsage}
		}
		return s, nil
	}, dryRun
}

// kickSelected kicks what sel picks on popd, or on every node of a fleet.
func kickSelected(e *env, sel control.Selector, dryRun bool) error {
	f, err := e.theFleet()
	if err != nil {
		return err
	}
	if f != nil {
		return fleetKickSelected(e, f, sel, dryRun)
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ids, err := kickSelect(e.ctx, c, sel, dryRun)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return noMatch(sel)
	}
	fmt.Fprintln(e.stdout, human.Clean(kickedLine(sel, ids, dryRun)))
	return nil
}

// fleetKickSelected sends sel to every node at once (each decides which
// of its sessions match), says what each did, and adds them up.
func fleetKickSelected(e *env, f *fleet.Fleet, sel control.Selector, dryRun bool) error {
	as, err := answered(e, onEach(e, f, func(ctx context.Context, c *control.Client) ([]string, error) {
		return kickSelect(ctx, c, sel, dryRun)
	}))
	if err != nil {
		return err
	}
	n := 0
	for _, a := range as {
		n += len(a.v)
		fmt.Fprintln(e.stdout, human.Clean(a.node.Name+": "+kickedLine(sel, a.v, dryRun)))
	}
	if n == 0 {
		return noMatch(sel)
	}
	return nil
}

// kickSelect asks c; a popd from before kick_select is asked kick_user for
// a selector that is only a user (a fleet being upgraded).
func kickSelect(ctx context.Context, c *control.Client, sel control.Selector, dryRun bool) ([]string, error) {
	k, err := c.KickSelect(ctx, sel, dryRun)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Code == control.CodeBadRequest && !dryRun &&
		onlyUser(sel) {
		n, err := c.KickUser(ctx, sel.User)
		return make([]string, n), err // ids unknown
	}
	return k.IDs, err
}

// kickedLine says what was done: "kicked 2 sessions of bob", "kicked 1
// session (from 192.0.2.0/24, idle over 10m0s)"; a dry run lists the ids.
func kickedLine(sel control.Selector, ids []string, dryRun bool) string {
	verb := "kicked "
	if dryRun {
		verb = "would kick "
	}
	s := verb + human.Count(len(ids), "session")
	if onlyUser(sel) {
		s += " of " + sel.User
	} else {
		s += " (" + sel.String() + ")"
	}
	if dryRun && len(ids) > 0 {
		s += ": " + strings.Join(ids, " ")
	}
	return s
}

// noMatch is the error when no session matched: exit status 1, as pkill.
func noMatch(sel control.Selector) error {
	if onlyUser(sel) {
		return fmt.Errorf("no session of %s", sel.User)
	}
	return fmt.Errorf("no session matches %s", sel.String())
}

// onlyUser says whether sel is a user's sessions and nothing more.
func onlyUser(sel control.Selector) bool {
	return sel.User != "" && len(sel.IDs) == 0 && sel.From == "" && sel.State == "" && sel.IdleOver == 0
}
