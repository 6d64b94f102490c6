package daemon

import (
	"time"

	"popd/internal/control"
	"popd/internal/pop3"
)

// Sessions picked by what they are (control.Selector), for the
// "kick_select" method: the set is decided here, as the request arrives.

var _ control.SessionKicker = (*daemon)(nil)

// sessionOf is a session as the control API shows it, at now. A session
// writing a response is idle since its bytes last moved, not since the
// command: a long RETR that goes on is not idle, one whose client stopped
// reading is (and Stalled says for how long).
func sessionOf(in pop3.Info, now time.Time) control.Session {
	s := control.Session{
		ID: in.ID, User: in.User, Remote: in.RemoteAddr, Local: in.LocalAddr, TLS: in.TLS,
		State: in.State.String(), LastCommand: in.LastCommand, Retrieved: in.Retrieved,
		Octets: in.Octets, Since: in.Since, Idle: now.Sub(in.LastActive),
		Locked: holdsLock(in),
	}
	if in.Sending {
		s.Sending, s.Stalled = true, max(now.Sub(in.LastSent), 0)
		s.Idle = min(s.Idle, s.Stalled)
	}
	return s
}

// KickSelected implements control.SessionKicker: each session sel picks
// is kicked as Kick does (told -ERR [SYS/TEMP], closed without UPDATE, a
// session.kicked event with by), or with dryRun only listed.
func (d *daemon) KickSelected(sel control.Selector, dryRun bool, by string) ([]string, error) {
	match, err := sel.Matcher()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range d.Sessions() {
		if !match(s) {
			continue
		}
		// A session that ended meanwhile is not counted.
		if dryRun || d.Kick(s.ID, by) == nil {
			ids = append(ids, s.ID)
		}
	}
	if !dryRun {
		d.log.Info("sessions kicked by selector", "selector", sel.String(), "kicked", len(ids), "by", by)
	}
	return ids, nil
}
