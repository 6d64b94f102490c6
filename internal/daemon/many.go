package daemon

import (
	"sync"

	"popd/internal/accounts"
	"popd/internal/control"
	"popd/internal/event"
)

// Many users or maildrops at once, for the console's tags: the
// "users_set_disabled" and "locks_unlock" methods.

var (
	_ control.ManyDisabler = (*daemon)(nil)
	_ control.ManyUnlocker = (*daemon)(nil)
)

// SetDisabledMany implements control.ManyDisabler: one write of the users
// file for them all, one reload, then a user.changed event for each user
// done, naming who did it — as SetDisabled does for one.
func (d *daemon) SetDisabledMany(names []string, disabled bool, by string) []error {
	errs, err := d.users.SetDisabledMany(names, disabled)
	if err != nil {
		// Nothing was written: the same failure for each.
		for i := range errs {
			errs[i] = accounts.ControlError(err)
		}
		return errs
	}
	what := "enabled"
	if disabled {
		what = "disabled"
	}
	if err := d.users.Reload(); err != nil {
		d.log.Error("reloading users after an edit", "err", err)
	}
	d.srv.UsersChanged()
	for i, n := range names {
		if errs[i] != nil {
			errs[i] = accounts.ControlError(errs[i])
			continue
		}
		d.log.Info("user changed", "user", n, "change", what, "by", by)
		d.publish(event.Event{Type: event.UserChanged, User: n, Reason: what, By: by})
	}
	return errs
}

// unlockers bounds the maildrops unlocked at once: each may wait for the
// session that holds it to let go.
const unlockers = 8

// UnlockMany implements control.ManyUnlocker: each maildrop as Unlock
// does it (its holder ended, an event naming who), several at once, so
// that the waits for the holders to let go overlap.
func (d *daemon) UnlockMany(users []string, by string) []error {
	errs := make([]error, len(users))
	sem := make(chan struct{}, unlockers)
	var wg sync.WaitGroup
	for i, u := range users {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = d.Unlock(u, by)
		})
	}
	wg.Wait()
	return errs
}
