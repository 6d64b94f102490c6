package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/human"
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
		gen, seq int
		at       time.Time
		got      fetch // which of sessions, users and locks it has
		sessions []control.Session
		users    []control.User
		locks    []control.Lock
		stats    control.Stats
		gotStats bool
		err      error // the connection failed
		refused  error // popd answered a call with an error
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
	closedMsg struct{}

	// streamMsg tells the pages whether popd gives live events: refused
	// says why not.
	streamMsg struct{ refused string }
)

// fetch is what a poll lists besides the stats, as the pages ask
// (poller).
type fetch uint8

const (
	fetchSessions fetch = 1 << iota
	fetchUsers
	fetchLocks
)

type errString string

func (e errString) Error() string { return string(e) }

const errEventsEnded = errString("popd closed the event stream")

// connUpdate takes the messages of the connection: a message of an old
// connection (gen) is dropped; poll results and events go to the pages.
func (m *Model) connUpdate(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dialMsg:
		if msg.gen != m.gen || m.connected {
			return closeCmd(msg.b)
		}
		m.dialing = false
		if msg.err != nil {
			m.lastErr = msg.err
			return m.retryLater()
		}
		return m.connect(msg.b)
	case redialMsg:
		if msg.gen != m.gen || m.connected || m.dialing {
			return nil
		}
		m.dialing = true
		return m.dialCmd()
	case pollTickMsg:
		if msg.gen != m.gen || msg.seq != m.pollSeq {
			return nil
		}
		return m.poll()
	case pollMsg:
		if msg.gen != m.gen || !m.connected {
			return nil
		}
		cleanPoll(&msg)
		return m.applyPoll(msg)
	case eventsSubMsg:
		if msg.gen != m.gen || !m.connected {
			return nil
		}
		if msg.err != nil {
			if refused(msg.err) {
				m.s.say("no live events: "+msg.err.Error(), kErr)
				return m.tell(streamMsg{refused: msg.err.Error()})
			}
			return m.disconnect(msg.err)
		}
		m.evCh = msg.ch
		return tea.Batch(m.tell(streamMsg{}), m.wait(m.connCtx, m.evCh, m.gen))
	case eventsMsg:
		if msg.gen != m.gen || !m.connected {
			return nil
		}
		var cmd tea.Cmd
		if len(msg.evs) > 0 {
			cleanEvents(msg.evs)
			cmd = m.tell(msg)
		}
		if msg.closed {
			return tea.Batch(cmd, m.disconnect(errEventsEnded))
		}
		return tea.Batch(cmd, m.wait(m.connCtx, m.evCh, m.gen))
	}
	return nil
}

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

// refused says whether err is popd's final answer rather than a broken
// connection. "busy" (too many control connections) is not final: the
// dashboard reconnects later, with backoff.
func refused(err error) bool {
	var ce *control.Error
	return errors.As(err, &ce) && ce.Code != control.CodeBusy
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
	m.role = human.Clean(b.Role())
	m.s.readOnly = m.opt.ReadOnly || m.role == control.RoleMonitor
	if m.s.readOnly {
		m.s.modal = nil
	}
	m.connCtx, m.cancel = context.WithCancel(m.ctx)
	m.evCh = nil
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
	m.retryAt = m.s.now().Add(d)
	gen := m.gen
	return m.tick(d, func(time.Time) tea.Msg { return redialMsg{gen: gen} })
}

// wants is what the pages want from the next poll.
func (m *Model) wants() fetch {
	var f fetch
	for i, p := range m.pages {
		if pl, ok := p.(poller); ok {
			f |= pl.Polls(i == m.cur)
		}
	}
	return f
}

// poll fetches the stats, and what the pages want: sessions always, users
// and locks while on screen (or not loaded yet).
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
	b, ctx, gen, seq, now := m.backend, m.connCtx, m.gen, m.pollSeq, m.s.now
	want := m.wants()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		r := pollMsg{gen: gen, seq: seq}
		// A refusal (e.g. "forbidden") leaves that part out; a broken
		// connection ends the poll.
		check := func(what string, f fetch, err error) bool {
			switch {
			case err == nil:
				r.got |= f
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
		if want&fetchSessions != 0 {
			r.sessions, err = b.Sessions(ctx)
			if check("sessions", fetchSessions, err); r.err != nil {
				return r
			}
		}
		r.stats, err = b.Stats(ctx)
		if r.gotStats = check("stats", 0, err); r.err != nil {
			return r
		}
		if want&fetchUsers != 0 {
			r.users, err = b.Users(ctx)
			if check("users", fetchUsers, err); r.err != nil {
				return r
			}
		}
		if want&fetchLocks != 0 {
			r.locks, err = b.Locks(ctx)
			if check("locks", fetchLocks, err); r.err != nil {
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
	cmd := m.tell(r) // the pages take what they asked for
	if r.gotStats {
		m.hist.add(r.stats, r.at)
	}
	m.stale, m.updated = false, r.at
	if r.refused != nil && r.refused.Error() != m.lastRefusal {
		m.lastRefusal = r.refused.Error()
		m.s.say("popd refused "+m.lastRefusal, kErr)
	}
	if m.pollQueued {
		m.pollQueued = false
		return tea.Batch(cmd, m.poll())
	}
	gen, seq := m.gen, m.pollSeq
	return tea.Batch(cmd, m.tick(m.refresh, func(time.Time) tea.Msg { return pollTickMsg{gen: gen, seq: seq} }))
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

// cleanPoll makes every string of a poll's data safe for the terminal, in
// place: it carries what POP3 clients typed.
func cleanPoll(r *pollMsg) {
	c := human.Clean
	for i := range r.sessions {
		s := &r.sessions[i]
		s.ID, s.User, s.Remote, s.Local = c(s.ID), c(s.User), c(s.Remote), c(s.Local)
		s.State, s.LastCommand = c(s.State), c(s.LastCommand)
	}
	for i := range r.users {
		u := &r.users[i]
		u.Name, u.Scheme = c(u.Name), c(u.Scheme)
	}
	for i := range r.locks {
		l := &r.locks[i]
		l.User, l.Session, l.Owner, l.Host = c(l.User), c(l.Session), c(l.Owner), c(l.Host)
	}
	r.stats.Version = c(r.stats.Version)
}

// cleanEvents does the same for events.
func cleanEvents(evs []control.Event) {
	c := human.Clean
	for i := range evs {
		e := &evs[i]
		e.Type, e.Session, e.User = event.Kind(c(string(e.Type))), c(e.Session), c(e.User)
		e.Remote, e.Reason, e.By = c(e.Remote), c(e.Reason), c(e.By)
	}
}
