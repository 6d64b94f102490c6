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

// linkOf is the link a message is for, when it is still the connection
// the message came from (gen).
func (m *Model) linkOf(node, gen int) *link {
	if node < 0 || node >= len(m.links) || m.links[node].gen != gen {
		return nil
	}
	return m.links[node]
}

// connUpdate takes the messages of the connections: a message of an old
// connection (gen) is dropped; poll results and events go to the pages.
func (m *Model) connUpdate(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dialMsg:
		l := m.linkOf(msg.node, msg.gen)
		if l == nil || l.connected {
			return closeCmd(msg.b)
		}
		l.dialing = false
		if msg.err != nil {
			l.lastErr = msg.err
			return tea.Batch(m.retryLater(l), m.tellNodes())
		}
		return m.connect(l, msg.b)
	case redialMsg:
		l := m.linkOf(msg.node, msg.gen)
		if l == nil || l.connected || l.dialing {
			return nil
		}
		l.dialing = true
		return tea.Batch(m.dialCmd(l), m.tellNodes())
	case pollTickMsg:
		l := m.linkOf(msg.node, msg.gen)
		if l == nil || msg.seq != l.pollSeq {
			return nil
		}
		return m.poll(l)
	case pollMsg:
		l := m.linkOf(msg.node, msg.gen)
		if l == nil || !l.connected {
			return nil
		}
		cleanPoll(&msg)
		return m.applyPoll(l, msg)
	case eventsSubMsg:
		l := m.linkOf(msg.node, msg.gen)
		if l == nil || !l.connected {
			return nil
		}
		if msg.err != nil {
			if refused(msg.err) {
				return tea.Batch(m.noEvents(l, msg.err), m.syncNoStream(l))
			}
			return m.disconnect(l, msg.err)
		}
		l.evCh = msg.ch
		l.startStream(msg, m.s.now()) // resume.go
		var gap tea.Cmd
		if len(msg.gap) > 0 {
			gap = m.tell(eventsMsg{node: l.i, gen: l.gen, name: l.name, evs: msg.gap})
		}
		return tea.Batch(gap, m.tell(streamMsg{}), m.syncStarted(l, msg.changes), m.wait(l.connCtx, l.evCh, l.i, l.gen))
	case eventsMsg:
		l := m.linkOf(msg.node, msg.gen)
		if l == nil || !l.connected {
			return nil
		}
		var cmd tea.Cmd
		if len(msg.evs) > 0 {
			cleanEvents(msg.evs)
			l.track(msg.evs) // resume.go
			// The sessions' changes are the table's alone (sessync.go).
			msg.evs, cmd = m.syncEvents(l, msg.evs)
			msg.name = l.name
			if len(msg.evs) > 0 {
				cmd = tea.Batch(cmd, m.tell(msg))
			}
		}
		if msg.closed {
			return tea.Batch(cmd, m.disconnect(l, errEventsEnded))
		}
		return tea.Batch(cmd, m.wait(l.connCtx, l.evCh, l.i, l.gen))
	}
	return nil
}

// noEvents: popd refused l's event stream. The one popd's refusal is the
// Events page's to show; a node's is said, and the others' events go on.
func (m *Model) noEvents(l *link, err error) tea.Cmd {
	if m.fleet() {
		m.s.say(l.name+": no live events: "+err.Error(), kErr)
		return nil
	}
	m.s.say("no live events: "+err.Error(), kErr)
	return m.tell(streamMsg{refused: err.Error()})
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

func (m *Model) dialCmd(l *link) tea.Cmd {
	node, gen, dial, ctx, d := l.i, l.gen, l.dial, m.ctx, l.dialTimeout()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		b, err := dial(ctx)
		if err == nil && b == nil {
			err = errors.New("tui: Dial returned no connection")
		}
		return dialMsg{node: node, gen: gen, b: b, err: err}
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

// versioner is a Backend that knows popd's version from the hello
// (*control.Client).
type versioner interface{ ServerVersion() string }

// connect starts using a fresh connection.
func (m *Model) connect(l *link, b Backend) tea.Cmd {
	l.backend, l.connected, l.everConnected = b, true, true
	l.attempt, l.lastErr = 0, nil
	l.role = human.Clean(b.Role())
	if v, ok := b.(versioner); ok {
		l.version = human.Clean(v.ServerVersion())
	}
	m.setRole()
	l.connCtx, l.cancel = context.WithCancel(m.ctx)
	l.evCh = nil
	l.sync.connected(b) // sessync.go
	l.histAt, l.noHist = 0, false
	return tea.Batch(m.poll(l), m.subscribe(l), m.tellNodes())
}

// disconnect drops a broken connection, keeps its data as stale, and
// schedules a reconnect.
func (m *Model) disconnect(l *link, err error) tea.Cmd {
	if !l.connected {
		return nil
	}
	if l.cancel != nil {
		l.cancel()
	}
	old := l.backend
	l.backend, l.connected, l.evCh = nil, false, nil
	l.polling, l.pollQueued = false, false
	l.stale, l.lastErr = true, err
	l.lostAt = m.s.now()
	l.sync.disconnected()
	l.hist.disconnected()
	l.gen++
	return tea.Batch(closeCmd(old), m.retryLater(l), m.nodeDown(l))
}

// retryLater schedules the next dial with backoff.
func (m *Model) retryLater(l *link) tea.Cmd {
	l.attempt++
	d := backoff(l.attempt)
	l.retryAt = m.s.now().Add(d)
	node, gen := l.i, l.gen
	return m.tick(d, func(time.Time) tea.Msg { return redialMsg{node: node, gen: gen} })
}

// wants is what the pages want from l's next poll. Of a fleet, only one
// node is asked for the users: they are one shared file.
func (m *Model) wants(l *link) fetch {
	var f fetch
	for i, p := range m.pages {
		if pl, ok := p.(poller); ok {
			f |= pl.Polls(i == m.cur)
		}
	}
	if m.fleet() && l != m.anyUp() {
		f &^= fetchUsers
	}
	if l.sync.on || l.sync.pending { // popd's events keep them (sessync.go)
		f &^= fetchSessions
	}
	return f
}

// poll fetches the stats, and what the pages want: sessions (unless popd's
// events keep them: sessync.go), users and locks while on screen (or not
// loaded yet).
func (m *Model) poll(l *link) tea.Cmd {
	if !l.connected {
		return nil
	}
	if l.polling {
		l.pollQueued = true
		return nil
	}
	l.polling = true
	l.pollSeq++
	b, ctx, node, gen, seq, now, d := l.backend, l.connCtx, l.i, l.gen, l.pollSeq, m.s.now, l.timeout
	want := m.wants(l)
	// popd's last hour, when the console connects and at each new minute.
	hist, _ := b.(historian)
	if at := unixMinute(now()); hist != nil && !l.noHist && at != l.histAt {
		l.histAt = at
	} else {
		hist = nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, pollTimeout)
		defer cancel()
		// A node of a fleet answers the sessions and the stats within its
		// timeout, or is down; listing users and locks reads every
		// maildrop, and has the whole poll's time.
		quick := ctx
		if d > 0 {
			var cancel context.CancelFunc
			quick, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		r := pollMsg{node: node, gen: gen, seq: seq}
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
			r.sessions, err = b.Sessions(quick)
			if check("sessions", fetchSessions, err); r.err != nil {
				return r
			}
		}
		if hist != nil {
			ms, err := hist.History(quick)
			switch {
			case err == nil && len(ms) > 0:
				r.minutes = ms
			case err == nil, refused(err): // a popd that keeps none
				r.noHist = true
			default:
				r.err = err
				return r
			}
		}
		r.stats, err = b.Stats(quick)
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
		if want&fetchPenalties != 0 {
			r.penalties, err = b.Penalties(quick)
			if check("penalties", fetchPenalties, err); r.err != nil {
				return r
			}
		}
		r.at = now()
		return r
	}
}

// refreshNow polls every connection at once (or right after its poll in
// flight).
func (m *Model) refreshNow() tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.links))
	for _, l := range m.links {
		cmds = append(cmds, m.poll(l))
	}
	return tea.Batch(cmds...)
}

func (m *Model) applyPoll(l *link, r pollMsg) tea.Cmd {
	l.polling = false
	if r.err != nil {
		return m.disconnect(l, r.err)
	}
	l.keep(r)
	cmd := m.tell(m.data(r)) // the pages take what they asked for
	if r.gotStats {
		l.hist.add(r.stats, r.at, r.minutes)
		if l.sync.checkCount(r.stats.Sessions, r.stats.Seq) { // sessync.go
			cmd = tea.Batch(cmd, m.askSnapshot(l))
		}
	}
	l.noHist = l.noHist || r.noHist
	l.stale, l.updated = false, r.at
	if r.refused != nil && r.refused.Error() != l.lastRefusal {
		l.lastRefusal = r.refused.Error()
		who := "popd"
		if l.name != "" {
			who = l.name
		}
		m.s.say(who+" refused "+l.lastRefusal, kErr)
	}
	cmd = tea.Batch(cmd, m.tellNodes())
	if l.pollQueued {
		l.pollQueued = false
		return tea.Batch(cmd, m.poll(l))
	}
	node, gen, seq := l.i, l.gen, l.pollSeq
	return tea.Batch(cmd, m.tick(m.refresh, func(time.Time) tea.Msg { return pollTickMsg{node: node, gen: gen, seq: seq} }))
}

// waitEvents reads the event channel: it blocks for one event, then takes
// whatever else is already there, up to maxBatch, as one message.
func waitEvents(ctx context.Context, ch <-chan control.Event, node, gen int) tea.Cmd {
	return func() tea.Msg {
		var evs []control.Event
		select {
		case e, ok := <-ch:
			if !ok {
				return eventsMsg{node: node, gen: gen, closed: true}
			}
			evs = append(evs, e)
		case <-ctx.Done():
			return eventsMsg{node: node, gen: gen, closed: true}
		}
		for len(evs) < maxBatch {
			select {
			case e, ok := <-ch:
				if !ok {
					return eventsMsg{node: node, gen: gen, evs: evs, closed: true}
				}
				evs = append(evs, e)
			default:
				return eventsMsg{node: node, gen: gen, evs: evs}
			}
		}
		return eventsMsg{node: node, gen: gen, evs: evs}
	}
}

// cleanPoll makes every string of a poll's data safe for the terminal, in
// place: it carries what POP3 clients typed.
func cleanPoll(r *pollMsg) {
	c := human.Clean
	cleanSessions(r.sessions)
	for i := range r.users {
		u := &r.users[i]
		u.Name, u.Scheme = c(u.Name), c(u.Scheme)
	}
	for i := range r.locks {
		l := &r.locks[i]
		l.User, l.Session, l.Owner, l.Host = c(l.User), c(l.Session), c(l.Owner), c(l.Host)
	}
	for i := range r.penalties {
		p := &r.penalties[i]
		p.Source = c(p.Source)
		for j := range p.Users {
			p.Users[j] = c(p.Users[j])
		}
	}
	r.stats.Version = c(r.stats.Version)
}

// cleanSessions does the same for a list of sessions.
func cleanSessions(ss []control.Session) {
	c := human.Clean
	for i := range ss {
		s := &ss[i]
		s.ID, s.User, s.Remote, s.Local = c(s.ID), c(s.User), c(s.Remote), c(s.Local)
		s.State, s.LastCommand = c(s.State), c(s.LastCommand)
	}
}

// cleanEvents does the same for events, and the sessions they carry.
func cleanEvents(evs []control.Event) {
	c := human.Clean
	for i := range evs {
		e := &evs[i]
		e.Type, e.Session, e.User = event.Kind(c(string(e.Type))), c(e.Session), c(e.User)
		e.Remote, e.Reason, e.By, e.Boot = c(e.Remote), c(e.Reason), c(e.By), c(e.Boot)
		for j := range e.Sessions {
			s := &e.Sessions[j]
			s.ID, s.User, s.Remote, s.Local = c(s.ID), c(s.User), c(s.Remote), c(s.Local)
			s.State, s.LastCommand = c(s.State), c(s.LastCommand)
		}
	}
}
