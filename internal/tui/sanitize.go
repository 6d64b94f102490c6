package tui

import (
	"strings"
	"unicode"

	"popd/internal/control"
	"popd/internal/event"
)

// sanitize replaces control characters (C0, DEL, C1 — escape sequences
// among them) with "?". Text from the daemon carries what POP3 clients
// typed (a user name after USER, a SASL identity), and none of it may drive
// the administrator's terminal.
func sanitize(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// sanitizePoll cleans every string of a poll's data in place.
func sanitizePoll(r *pollMsg) {
	for i := range r.sessions {
		s := &r.sessions[i]
		s.ID, s.User, s.Remote, s.Local = sanitize(s.ID), sanitize(s.User), sanitize(s.Remote), sanitize(s.Local)
		s.State, s.LastCommand = sanitize(s.State), sanitize(s.LastCommand)
	}
	for i := range r.users {
		u := &r.users[i]
		u.Name, u.Scheme = sanitize(u.Name), sanitize(u.Scheme)
	}
	for i := range r.locks {
		l := &r.locks[i]
		l.User, l.Session, l.Owner, l.Host = sanitize(l.User), sanitize(l.Session), sanitize(l.Owner), sanitize(l.Host)
	}
	r.stats.Version = sanitize(r.stats.Version)
}

// sanitizeEvents cleans every string of the events in place.
func sanitizeEvents(evs []control.Event) {
	for i := range evs {
		e := &evs[i]
		e.Type, e.Session, e.User = event.Kind(sanitize(string(e.Type))), sanitize(e.Session), sanitize(e.User)
		e.Remote, e.Reason, e.By = sanitize(e.Remote), sanitize(e.Reason), sanitize(e.By)
	}
}
