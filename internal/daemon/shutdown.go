package daemon

import (
	"context"

	"popd/internal/event"
)

// usersFileEdit is the By of a users.reloaded that the file's watcher saw:
// someone with the right to write it changed the file.
const usersFileEdit = "an edit of the users file"

// stopped ends a run once its sessions have: the consoles are told
// popd.stopped, the last event of the run, and then the control socket
// closes (stopControl), its event streams sending everything queued
// first. A console that saw popd.stopped knows it missed nothing of this
// run; one that did not says so after a restart.
func (d *daemon) stopped(err error, stopControl context.CancelFunc) {
	reason := "shutting down"
	if err != nil {
		reason = err.Error()
	}
	d.publish(event.Event{Type: event.Stopped, Reason: reason})
	stopControl()
}
