package controltest

import (
	"slices"

	"popd/internal/control"
	"popd/internal/event"
)

var _ control.SessionKicker = (*Daemon)(nil)

// KickSelected implements control.SessionKicker as popd does: each
// session sel picks is kicked (a "kick ID by ..." call and its event), or
// with dryRun only listed.
func (d *Daemon) KickSelected(sel control.Selector, dryRun bool, by string) ([]string, error) {
	match, err := sel.Matcher()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	d.sessions = slices.DeleteFunc(d.sessions, func(s control.Session) bool {
		if !match(s) {
			return false
		}
		ids = append(ids, s.ID)
		if !dryRun {
			d.record("kick "+s.ID+" by "+by, control.Event{Type: event.Kicked, Session: s.ID, User: s.User, By: by})
		}
		return !dryRun
	})
	return ids, nil
}
