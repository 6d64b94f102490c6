package tui

import (
	"cmp"
	"slices"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"popd/internal/control"
	"popd/internal/human"
)

// A fleet (Options.Nodes): a link to each node, each dialled, polled and
// reconnected on its own; the pages hear the lists of every node merged,
// each row with its node; actions go to the node that holds the row.

// fleetPages are the pages a fleet has besides registry's, after them:
// the numbers come from the order, so Nodes is 6, after Penalties.
var fleetPages = []func(*shared) page{
	newNodesPage,
}

// fleet says whether the dashboard watches a fleet.
func (m *Model) fleet() bool { return m.s.fleet() }

// nodeSession and nodeLock are a session and a lock as a node listed them:
// node is "" for the one popd; down says that the node is not connected
// now, and this is the last it said.
type (
	nodeSession struct {
		node string
		down bool
		control.Session
		// at: a session kept by popd's events (sessync.go) had idle0 and
		// stalled0 then; its Idle and Stalled count on from them (age).
		at              time.Time
		idle0, stalled0 time.Duration
	}
	nodeLock struct {
		node string
		down bool
		control.Lock
	}
)

// ref names a session for people and for the table: "7", or "pop2/7" on
// a fleet, as popadm kick takes it.
func (s *nodeSession) ref() string { return ref(s.node, s.ID) }

func ref(node, id string) string {
	if node == "" {
		return id
	}
	return node + "/" + id
}

// nodeSessions tags a node's sessions with it.
func nodeSessions(node string, down bool, list []control.Session) []nodeSession {
	out := make([]nodeSession, len(list))
	for i, s := range list {
		out[i] = nodeSession{node: node, down: down, Session: s}
	}
	return out
}

// dataMsg is what the pages hear of the polls: got is what the poll that
// brought it listed, and the lists are every link's latest, tagged with
// its node. The users are the poll's own: they are one file, which one
// node is asked for.
type dataMsg struct {
	got fetch
	// between says it is no poll's: the sessions kept by popd's events
	// changed between polls (sessync.go); the other lists are as they were.
	between   bool
	sessions  []nodeSession
	users     []control.User
	locks     []nodeLock
	penalties []nodePenalty
}

func (m *Model) data(r pollMsg) dataMsg {
	d := dataMsg{got: r.got, users: r.users}
	if d.got&fetchSessions != 0 {
		d.sessions = m.sessions()
	}
	if d.got&fetchLocks != 0 {
		d.locks = m.locks()
	}
	if d.got&fetchPenalties != 0 {
		d.penalties = m.penalties()
	}
	return d
}

// sessions are every link's latest sessions.
func (m *Model) sessions() []nodeSession {
	var out []nodeSession
	for _, l := range m.links {
		switch {
		case l.got&fetchSessions == 0:
		case l.sync.have:
			out = append(out, l.sync.list(l.name, !l.connected, m.s.clock())...)
		default:
			out = append(out, nodeSessions(l.name, !l.connected, l.sessions)...)
		}
	}
	return out
}

// locks are every link's latest locks, each once: the nodes share the
// maildrops, so every node sees every lock. The row kept is that of a node
// that is up, and of the node whose session holds it: that node is the
// one to unlock it (it ends its session first), as popadm unlock does.
func (m *Model) locks() []nodeLock {
	var out []nodeLock
	at := map[string]int{}
	rank := func(l *nodeLock) int {
		r := 0
		if !l.down {
			r += 2
		}
		if l.Session != "" {
			r++
		}
		return r
	}
	for _, l := range m.links {
		if l.got&fetchLocks == 0 {
			continue
		}
		for _, k := range l.locks {
			nl := nodeLock{node: l.name, down: !l.connected, Lock: k}
			if i, ok := at[k.User]; ok {
				if rank(&nl) > rank(&out[i]) {
					out[i] = nl
				}
				continue
			}
			at[k.User] = len(out)
			out = append(out, nl)
		}
	}
	return out
}

// anyUp is the first link that is connected, or nil.
func (m *Model) anyUp() *link {
	for _, l := range m.links {
		if l.connected {
			return l
		}
	}
	return nil
}

// up counts the links that are connected.
func (m *Model) up() int {
	n := 0
	for _, l := range m.links {
		if l.connected {
			n++
		}
	}
	return n
}

// errNoNode: no node of the fleet is connected.
const errNoNode = errString("no node of the fleet is connected")

// linkFor is the link an action goes to: the one popd; on a fleet the
// node that holds the row (r.node), or for a user, whose file is shared,
// any node that is up.
func (m *Model) linkFor(r request) (*link, error) {
	if !m.fleet() {
		if l := m.links[0]; l.connected {
			return l, nil
		}
		return nil, errOffline
	}
	if r.node == "" {
		if l := m.anyUp(); l != nil {
			return l, nil
		}
		return nil, errNoNode
	}
	for _, l := range m.links {
		if l.name == r.node {
			if !l.connected {
				return nil, errString("not connected to " + r.node)
			}
			return l, nil
		}
	}
	return nil, errString("no node " + r.node)
}

// setRole works out the role from the links' (the last each was given),
// and read-only from it: monitors may change nothing.
func (m *Model) setRole() {
	role := ""
	for _, l := range m.links {
		switch {
		case l.role == "":
		case role == "":
			role = l.role
		case role != l.role:
			role = "mixed"
		}
	}
	m.role = role
	m.s.readOnly = m.opt.ReadOnly || role == control.RoleMonitor
	if m.s.readOnly {
		m.s.modal = nil
	}
}

// nodeDown: a node's connection broke. It is said; its rows stay, marked
// down, and the other nodes go on.
func (m *Model) nodeDown(l *link) tea.Cmd {
	if !m.fleet() {
		return nil
	}
	m.s.say("node "+l.name+" is down: "+l.lastErr.Error(), kErr)
	return tea.Batch(m.tell(dataMsg{got: fetchSessions, sessions: m.sessions()}), m.tellNodes())
}

// nodeInfo is a node as the Nodes page shows it.
type nodeInfo struct {
	name     string
	up       bool
	dialing  bool // connecting now
	ever     bool // has been connected
	err      string
	retryAt  time.Time
	version  string
	role     string
	stats    control.Stats
	have     bool      // stats came
	lps, bps []float64 // logins and bytes sent per second, poll by poll
}

// nodesMsg is the state of every node, after any of them changed.
type nodesMsg struct{ nodes []nodeInfo }

// tellNodes tells the pages how the nodes are, on a fleet.
func (m *Model) tellNodes() tea.Cmd {
	if !m.fleet() {
		return nil
	}
	ns := make([]nodeInfo, len(m.links))
	for i, l := range m.links {
		n := nodeInfo{name: l.name, up: l.connected, dialing: l.dialing, ever: l.everConnected,
			retryAt: l.retryAt, version: l.version, role: l.role,
			stats: l.hist.stats, have: l.hist.have, lps: clone(l.hist.lps), bps: clone(l.hist.bps)}
		if n.version == "" {
			n.version = l.hist.stats.Version
		}
		if l.lastErr != nil && !l.connected {
			n.err = human.Clean(l.lastErr.Error())
		}
		ns[i] = n
	}
	return m.tell(nodesMsg{nodes: ns})
}

func clone(s []float64) []float64 { return append([]float64(nil), s...) }

// headerHist is the history the header shows: the one popd's, or the sum
// of the nodes' that are up, minute by minute.
func (m *Model) headerHist() history {
	if !m.fleet() {
		return m.links[0].hist
	}
	var h history
	for _, l := range m.links {
		lh := &l.hist
		if !l.connected || !lh.have {
			continue
		}
		h.have = true
		s := &h.stats
		s.Sessions += lh.stats.Sessions
		s.Logins += lh.stats.Logins
		s.Failures += lh.stats.Failures
		s.LoginsPerMin += lh.stats.LoginsPerMin
		s.FailuresPerMin += lh.stats.FailuresPerMin
		s.BytesSent += lh.stats.BytesSent
		h.minutes = sumMinutes(h.minutes, lh.minutes)
		h.bps = sumTail(h.bps, lh.bps)
	}
	return h
}

// sumTail adds b to a, lined up at their ends.
func sumTail(a, b []float64) []float64 {
	n := max(len(a), len(b))
	out := make([]float64, n)
	for i, v := range a {
		out[n-len(a)+i] += v
	}
	for i, v := range b {
		out[n-len(b)+i] += v
	}
	return out
}

// fresh says whether what is on screen is live: the one popd, or some
// node of the fleet, is connected and has answered since.
func (m *Model) fresh() bool {
	for _, l := range m.links {
		if l.connected && !l.stale {
			return true
		}
	}
	return false
}

// updated is when the latest data came.
func (m *Model) updated() time.Time {
	var t time.Time
	for _, l := range m.links {
		if l.updated.After(t) {
			t = l.updated
		}
	}
	return t
}

// nodeColumn is the NODE column of a fleet's tables. It sorts in the
// fleet file's order, then by then.
func nodeColumn[T any](s *shared, node func(r *T) string, then func(a, b *T) int) column[T] {
	w := max(s.nodeW, len("NODE")+1) // room for the sort's arrow
	return column[T]{title: "NODE", width: w, max: w, prio: 10,
		cell: func(r *T, _ time.Time) string { return node(r) },
		cmp: func(a, b *T) int {
			if c := cmp.Compare(slices.Index(s.nodes, node(a)), slices.Index(s.nodes, node(b))); c != 0 {
				return c
			}
			return then(a, b)
		}}
}
