package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
)

const (
	dialTimeout   = 10 * time.Second
	pollTimeout   = 15 * time.Second
	actionTimeout = 15 * time.Second
	maxBackoff    = 30 * time.Second
)

// Messages from the Cmds that do I/O. gen is the connection generation they
// belong to: a message from before a reconnect is dropped.
type (
	dialMsg struct {
		gen int
		b   Backend
		err error
	}
	redialMsg   struct{ gen int }
	pollTickMsg struct{ gen, seq int }
	pollMsg     struct {
		gen, seq              int
		at                    time.Time
		sessions              []control.Session
		stats                 control.Stats
		users                 []control.User
		locks                 []control.Lock
		gotSessions, gotStats bool
		gotUsers, gotLocks    bool
		err                   error // the connection failed
		refused               error // popd answered a call with an error
	}
	eventsSubMsg struct {
		gen int
		ch  <-chan control.Event
		err error
	}
	eventsMsg struct {
		gen    int
		evs    []control.Event
		closed bool
	}
	actionMsg struct {
		op    op
		purge bool
		err   error
	}
	formMsg struct {
		add  bool
		name string
		err  error
	}
	closedMsg struct{}
)

// backoff is the wait before reconnect attempt n (from 1): 1s, 2s, 4s … 30s.
func backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 6 {
		return maxBackoff
	}
	return min(time.Second<<(n-1), maxBackoff)
}

// refused says whether err is popd's answer rather than a broken connection.
func refused(err error) bool {
	var ce *control.Error
	return errors.As(err, &ce)
}

func (m Model) dialCmd() tea.Cmd {
	gen, dial, ctx := m.gen, m.opt.Dial, m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		b, err := dial(ctx)
		if err == nil && b == nil {
			err = errors.New("tui: Dial returned no connection")
		}
		return dialMsg{gen: gen, b: b, err: err}
	}
}

func closeCmd(b Backend) tea.Cmd {
	if b == nil {
		return nil
	}
	return func() tea.Msg {
		b.Close()
		return closedMsg{}
	}
}

// connect starts using a fresh connection.
func (m *Model) connect(b Backend) tea.Cmd {
	m.backend, m.connected, m.everConnected = b, true, true
	m.attempt, m.lastErr = 0, nil
	m.role = b.Role()
	m.readOnly = m.opt.ReadOnly || m.role == control.RoleMonitor
	m.keys.setReadOnly(m.readOnly)
	if m.readOnly {
		m.dlg, m.form = nil, nil
	}
	m.connCtx, m.cancel = context.WithCancel(m.ctx)
	m.evCh, m.evErr = nil, ""
	return tea.Batch(m.poll(), m.subscribe())
}

// disconnect drops a broken connection, keeps its data as stale, and
// schedules a reconnect.
func (m *Model) disconnect(err error) tea.Cmd {
	if !m.connected {
		return nil
	}
	if m.cancel != nil {
		m.cancel()
	}
	old := m.backend
	m.backend, m.connected, m.evCh = nil, false, nil
	m.polling, m.pollQueued = false, false
	m.stale, m.lastErr = true, err
	m.gen++
	return tea.Batch(closeCmd(old), m.retryLater())
}

// retryLater schedules the next dial with backoff.
func (m *Model) retryLater() tea.Cmd {
	m.attempt++
	d := backoff(m.attempt)
	m.retryAt = m.now().Add(d)
	gen := m.gen
	return m.tick(d, func(time.Time) tea.Msg { return redialMsg{gen: gen} })
}

// poll fetches sessions and stats, and users and locks when they are on
// screen (or not loaded yet): listing users reads every maildrop.
func (m *Model) poll() tea.Cmd {
	if !m.connected {
		return nil
	}
	if m.polling {
		m.pollQueued = true
		return nil
	}
	m.polling = true
	m.pollSeq++
	b, ctx, gen, seq, now := m.backend, m.connCtx, m.gen, m.pollSeq, m.now
	wantUsers := m.view == viewUsers || !m.loaded[viewUsers]
	wantLocks := m.view == viewLocks || !m.loaded[viewLocks]
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		r := pollMsg{gen: gen, seq: seq}
		// A refusal (e.g. "forbidden") leaves that part out; a broken
		// connection ends the poll.
		check := func(what string, err error) bool {
			switch {
			case err == nil:
				return true
			case refused(err):
				if r.refused == nil {
					r.refused = fmt.Errorf("%s: %w", what, err)
				}
				return false
			}
			r.err = err
			return false
		}
		var err error
		r.sessions, err = b.Sessions(ctx)
		if r.gotSessions = check("sessions", err); r.err != nil {
			return r
		}
		r.stats, err = b.Stats(ctx)
		if r.gotStats = check("stats", err); r.err != nil {
			return r
		}
		if wantUsers {
			r.users, err = b.Users(ctx)
			r.gotUsers = check("users", err)
			if r.err != nil {
				return r
			}
		}
		if wantLocks {
			r.locks, err = b.Locks(ctx)
			r.gotLocks = check("locks", err)
			if r.err != nil {
				return r
			}
		}
		r.at = now()
		return r
	}
}

// refreshNow polls at once (or right after the poll in flight).
func (m *Model) refreshNow() tea.Cmd {
	return m.poll()
}

func (m *Model) applyPoll(r pollMsg) tea.Cmd {
	m.polling = false
	if r.err != nil {
		return m.disconnect(r.err)
	}
	if r.gotSessions {
		m.setSessions(r.sessions)
		m.loaded[viewSessions] = true
	}
	if r.gotStats {
		m.hist.add(r.stats, r.at)
	}
	if r.gotUsers {
		m.users.setData(r.users)
		m.loaded[viewUsers] = true
	}
	// Locks come and go: their count shows only while it is fresh.
	m.locksFresh = r.gotLocks
	if r.gotLocks {
		m.locks.setData(r.locks)
		m.loaded[viewLocks] = true
	}
	m.stale, m.updated = false, r.at
	if r.refused != nil && r.refused.Error() != m.lastRefusal {
		m.lastRefusal = r.refused.Error()
		m.setFlash("popd refused "+m.lastRefusal, kErr)
	}
	if m.pollQueued {
		m.pollQueued = false
		return m.poll()
	}
	gen, seq := m.gen, m.pollSeq
	return m.tick(m.refresh, func(time.Time) tea.Msg { return pollTickMsg{gen: gen, seq: seq} })
}

// subscribe opens the event stream.
func (m *Model) subscribe() tea.Cmd {
	b, ctx, gen := m.backend, m.connCtx, m.gen
	return func() tea.Msg {
		ch, err := b.Events(ctx)
		return eventsSubMsg{gen: gen, ch: ch, err: err}
	}
}

// waitEvents reads the event channel: it blocks for one event, then takes
// whatever else is already there, up to maxBatch, as one message.
func waitEvents(ctx context.Context, ch <-chan control.Event, gen int) tea.Cmd {
	return func() tea.Msg {
		var evs []control.Event
		select {
		case e, ok := <-ch:
			if !ok {
				return eventsMsg{gen: gen, closed: true}
			}
			evs = append(evs, e)
		case <-ctx.Done():
			return eventsMsg{gen: gen, closed: true}
		}
		for len(evs) < maxBatch {
			select {
			case e, ok := <-ch:
				if !ok {
					return eventsMsg{gen: gen, evs: evs, closed: true}
				}
				evs = append(evs, e)
			default:
				return eventsMsg{gen: gen, evs: evs}
			}
		}
		return eventsMsg{gen: gen, evs: evs}
	}
}

// action carries out a confirmed operation.
func (m *Model) action(o op, purge bool) tea.Cmd {
	if m.readOnly {
		m.setFlash("read-only: no changes", kWarn)
		return nil
	}
	if !m.connected {
		m.setFlash("not connected to popd", kErr)
		return nil
	}
	if o.kind == "kick" {
		m.markClosing(o.target, true)
	}
	b, ctx := m.backend, m.connCtx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		var err error
		switch o.kind {
		case "kick":
			err = b.Kick(ctx, o.target)
		case "delete":
			err = b.DeleteUser(ctx, o.target, purge)
		case "unlock":
			err = b.Unlock(ctx, o.target)
		case "enable", "disable":
			err = b.SetDisabled(ctx, o.target, o.kind == "disable")
		default:
			err = fmt.Errorf("tui: unknown action %q", o.kind)
		}
		return actionMsg{op: o, purge: purge, err: err}
	}
}

func (m *Model) actionDone(r actionMsg) tea.Cmd {
	o := r.op
	if r.err != nil {
		if o.kind == "kick" {
			m.markClosing(o.target, false)
		}
		what := map[string]string{"kick": "kill session ", "delete": "delete ", "unlock": "break the lock of ",
			"enable": "enable ", "disable": "disable "}[o.kind]
		m.setFlash("could not "+what+o.target+": "+r.err.Error(), kErr)
		return m.refreshNow()
	}
	var msg string
	switch o.kind {
	case "kick":
		msg = "session " + o.target + " killed"
	case "delete":
		msg = "user " + o.target + " deleted, mail kept"
		if r.purge {
			msg = "user " + o.target + " and their mail deleted"
		}
	case "unlock":
		msg = "lock of " + o.target + " broken"
	case "enable":
		msg = "user " + o.target + " enabled"
	case "disable":
		msg = "user " + o.target + " disabled"
	}
	m.setFlash(msg, kOK)
	return m.refreshNow()
}

// submitForm sends a user form.
func (m *Model) submitForm(f *userForm) tea.Cmd {
	if m.readOnly || !m.connected {
		f.busy = false
		f.err = "not connected to popd"
		if m.readOnly {
			f.err = "read-only"
		}
		return nil
	}
	b, ctx := m.backend, m.connCtx
	add, name, pass := f.add, f.name(), f.password()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, actionTimeout)
		defer cancel()
		var err error
		if add {
			err = b.AddUser(ctx, name, pass)
		} else {
			err = b.SetPassword(ctx, name, pass)
		}
		return formMsg{add: add, name: name, err: err}
	}
}

func (m *Model) formDone(r formMsg) tea.Cmd {
	f := m.form
	if f != nil && f.busy && f.add == r.add && f.name() == r.name {
		if r.err != nil {
			f.busy, f.err = false, r.err.Error()
			return nil
		}
		m.form = nil
	} else if r.err != nil { // the form was closed meanwhile
		m.setFlash("could not save "+r.name+": "+r.err.Error(), kErr)
		return nil
	}
	if r.add {
		m.setFlash("user "+r.name+" added", kOK)
	} else {
		m.setFlash("password of "+r.name+" set", kOK)
	}
	return m.refreshNow()
}
