package tui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
	"popd/internal/testutil/fleettest"
	"popd/internal/testutil/site"
)

// The sessions kept by popd's events, against a real popd: sessions
// come, log in, read, delete, leave, vanish and are kicked, and at each
// checkpoint the console's table is what a fresh snapshot says.

// churn drives POP3 sessions on a node at random.
type churn struct {
	t     *testing.T
	addr  string
	ctl   *control.Client
	rnd   *rand.Rand
	free  []string // users that may log in
	auth  []*testutil.POP3
	trans []*churnSession
	ops   map[string]int
}

type churnSession struct {
	c       *testutil.POP3
	user    string
	msgs    int
	deleted map[int]bool
}

// message is a message of the session not marked deleted; 0 when none.
func (s *churnSession) message(rnd *rand.Rand) int {
	var left []int
	for i := 1; i <= s.msgs; i++ {
		if !s.deleted[i] {
			left = append(left, i)
		}
	}
	if len(left) == 0 {
		return 0
	}
	return left[rnd.IntN(len(left))]
}

func (ch *churn) open() {
	ch.auth = append(ch.auth, testutil.DialPOP3(ch.t, ch.addr))
}

// pick removes and returns a random element of *s.
func pick[T any](rnd *rand.Rand, s *[]T) T {
	i := rnd.IntN(len(*s))
	v := (*s)[i]
	*s = append((*s)[:i], (*s)[i+1:]...)
	return v
}

// step does one thing, at random among those that can be done now.
func (ch *churn) step() {
	type op struct {
		name   string
		weight int
		do     func()
	}
	var ops []op
	add := func(name string, weight int, ok bool, do func()) {
		if ok {
			ops = append(ops, op{name, weight, do})
		}
	}
	live := len(ch.auth) + len(ch.trans)
	add("open", 12, live < 40, ch.open)
	add("login", 15, len(ch.auth) > 0 && len(ch.free) > 0, func() {
		c, user := pick(ch.rnd, &ch.auth), pick(ch.rnd, &ch.free)
		c.OK("USER " + user)
		f := strings.Fields(c.OK("PASS pw")) // +OK maildrop locked and ready, N messages
		n, _ := strconv.Atoi(f[len(f)-2])
		ch.trans = append(ch.trans, &churnSession{c: c, user: user, msgs: n, deleted: map[int]bool{}})
	})
	add("CAPA", 3, len(ch.auth) > 0, func() {
		c := ch.auth[ch.rnd.IntN(len(ch.auth))]
		c.OK("CAPA")
		c.Multi()
	})
	add("QUIT in AUTHORIZATION", 2, len(ch.auth) > 0, func() {
		c := pick(ch.rnd, &ch.auth)
		c.OK("QUIT")
		c.Closed(5 * time.Second)
	})
	if len(ch.trans) > 0 {
		s := ch.trans[ch.rnd.IntN(len(ch.trans))]
		msg := s.message(ch.rnd)
		add("RETR", 12, msg > 0, func() {
			s.c.OK("RETR " + strconv.Itoa(msg))
			s.c.Multi()
		})
		add("DELE", 6, msg > 0, func() {
			s.c.OK("DELE " + strconv.Itoa(msg))
			s.deleted[msg] = true
		})
		add("LIST", 5, true, func() {
			s.c.OK("LIST")
			s.c.Multi()
		})
		add("NOOP", 10, true, func() { s.c.OK("NOOP") })
		add("QUIT", 6, true, func() {
			ch.trans = slices.DeleteFunc(ch.trans, func(x *churnSession) bool { return x == s })
			s.c.OK("QUIT")
			s.c.Closed(5 * time.Second)
		})
		add("kick", 3, true, func() {
			ch.trans = slices.DeleteFunc(ch.trans, func(x *churnSession) bool { return x == s })
			ch.kick(s.c)
		})
		add("vanish", 3, true, func() {
			ch.trans = slices.DeleteFunc(ch.trans, func(x *churnSession) bool { return x == s })
			s.c.Conn.Close()
		})
	}
	add("vanish in AUTHORIZATION", 1, len(ch.auth) > 0, func() { pick(ch.rnd, &ch.auth).Conn.Close() })
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	n := ch.rnd.IntN(total)
	for _, o := range ops {
		if n -= o.weight; n < 0 {
			ch.ops[o.name]++
			o.do()
			return
		}
	}
}

// kick ends c's session through the control socket.
func (ch *churn) kick(c *testutil.POP3) {
	ch.t.Helper()
	ss, err := ch.ctl.Sessions(context.Background())
	if err != nil {
		ch.t.Fatal(err)
	}
	for _, s := range ss {
		if s.Remote == c.Conn.LocalAddr().String() {
			if err := ch.ctl.Kick(context.Background(), s.ID); err != nil {
				ch.t.Fatal(err)
			}
			c.Expect("-ERR [SYS/TEMP]")
			c.Closed(5 * time.Second)
			return
		}
	}
	ch.t.Fatalf("no session from %s", c.Conn.LocalAddr())
}

// quickSessions opens n sessions that QUIT at once, from a few clients at
// a time: two events each (session.opened, session.closed).
func quickSessions(t *testing.T, addr string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 8 {
		wg.Go(func() {
			for range next {
				nc, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(nc)
				greeting, _ := r.ReadString('\n')
				io.WriteString(nc, "QUIT\r\n")
				bye, err := r.ReadString('\n')
				nc.Close() // at once: popd need not wait for more input
				if !strings.HasPrefix(greeting, "+OK") || !strings.HasPrefix(bye, "+OK") {
					t.Errorf("greeting %q, QUIT %q, %v", greeting, bye, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// pumpAvailable lets the Model take the events that are there, and tell
// the pages.
func (d *driver) pumpAvailable() {
	d.t.Helper()
	for d.wait != nil && len(d.wait.ch) > 0 {
		d.pump()
	}
	fire[syncFlushMsg](d)
}

// drift compares the Sessions page's rows with a snapshot taken at at:
// every field the same, but the idle and stalled times, which are clocks,
// and count from popd's last word on the session; "" when they agree.
func drift(rows []sessRow, snap control.SessionSnapshot, at time.Time) string {
	want := map[string]control.Session{}
	for _, s := range snap.Sessions {
		want[s.ID] = s
	}
	var diffs []string
	for _, r := range rows {
		if r.closed {
			continue // ended, kept for the details pane that shows it
		}
		w, ok := want[r.ID]
		if !ok {
			diffs = append(diffs, "extra row "+r.ID)
			continue
		}
		delete(want, r.ID)
		got := r.Session
		// The moment each was last active, by each one's clock: within a
		// second (the events' latency, the test's pace).
		gotActive, wantActive := r.at.Add(-r.idle0), at.Add(-w.Idle)
		if r.at.IsZero() {
			diffs = append(diffs, r.ID+": not kept by events")
		} else if d := gotActive.Sub(wantActive).Abs(); d > time.Second {
			diffs = append(diffs, fmt.Sprintf("%s: last active %v apart", r.ID, d))
		}
		got.Idle, w.Idle, got.Stalled, w.Stalled = 0, 0, 0, 0
		if !got.Since.Equal(w.Since) {
			diffs = append(diffs, fmt.Sprintf("%s: since %v, want %v", r.ID, got.Since, w.Since))
		}
		got.Since, w.Since = time.Time{}, time.Time{}
		if got != w {
			diffs = append(diffs, fmt.Sprintf("%s: %+v, want %+v", r.ID, got, w))
		}
	}
	for id := range want {
		diffs = append(diffs, "missing row "+id)
	}
	return strings.Join(diffs, "\n")
}

// TestSessionSyncNoDrift churns sessions on a real popd while the console
// keeps them by events, and compares its rows with a fresh snapshot at
// each checkpoint; one round overruns the console's queue (it stops
// reading) and the table must be listed again.
func TestSessionSyncNoDrift(t *testing.T) {
	var accounts []site.Account
	for i := range 60 {
		accounts = append(accounts, site.Account{Name: "u" + strconv.Itoa(i), Pass: "pw", Scheme: "PLAIN"})
	}
	s := site.New(t, accounts)
	for _, a := range accounts {
		for j := range 3 {
			s.Deliver(t, a.Name, fmt.Sprintf("Subject: %d\r\n\r\n%s\r\n", j, strings.Repeat("x", 100*j)))
		}
	}
	s.Cfg.MaxConnectionsPerIP = 500
	node := fleettest.StartNode(t, s, "pop1")
	ctl, err := control.Dial(context.Background(), node.Control)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()

	d := newDriver(t, 160, 48)
	d.dial = func(int) (Backend, error) { return control.Dial(context.Background(), node.Control) }
	d.m.s.now = time.Now
	d.start()
	if !d.ln().sync.on {
		t.Fatal("the console does not keep the sessions by events")
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	ch := &churn{t: t, addr: node.Addr, ctl: ctl, rnd: rand.New(rand.NewPCG(seed, 1)), ops: map[string]int{}}
	for _, a := range accounts {
		ch.free = append(ch.free, a.Name)
	}

	checkpoint := func(what string) {
		t.Helper()
		var last string
		for deadline := time.Now().Add(10 * time.Second); ; {
			d.pumpAvailable()
			fire[pollTickMsg](d)
			snap, err := ctl.SessionSnapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now()
			d.pumpAvailable()
			if last = drift(d.sessions().t.all, snap, at); last == "" {
				t.Logf("%s: %d sessions agree", what, len(snap.Sessions))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the console's sessions drifted from popd's:\n%s", what, last)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	for round := range 4 {
		for range 120 {
			ch.step()
			d.pumpAvailable()
		}
		checkpoint(fmt.Sprintf("round %d", round+1))
		// The users whose sessions ended may log in again.
		busy := map[string]bool{}
		for _, s := range ch.trans {
			busy[s.user] = true
		}
		ch.free = ch.free[:0]
		for _, a := range accounts {
			if !busy[a.Name] {
				ch.free = append(ch.free, a.Name)
			}
		}
	}
	t.Logf("operations: %v", ch.ops)
	// The rows were the events' doing: the table was listed once.
	if y := &d.ln().sync; y.resyncs != 1 {
		t.Fatalf("listed %d times: %v", y.resyncs, y.why)
	}

	// The console stops reading while more happens than its queue and the
	// socket hold: popd drops events for it, and tells it so with the
	// next one it gets. (How much the socket holds varies: the burst
	// doubles until it is enough.)
	y := &d.ln().sync
	lost := func() int { return y.why[string(event.Dropped)] + y.why[string(event.SessionsResync)] }
	before, resyncs := lost(), y.resyncs
	for burst := 2000; lost() == before; burst *= 2 {
		if burst > 32000 {
			t.Fatalf("no resync after bursts of up to %d sessions: why %v", burst/2, y.why)
		}
		quickSessions(t, node.Addr, burst)
		for range 30 {
			ch.step()
		}
		for range 20 { // what comes after it brings the notice
			ch.step()
			d.pumpAvailable()
		}
		checkpoint(fmt.Sprintf("after a burst of %d sessions", burst))
	}
	if y.resyncs == resyncs {
		t.Fatalf("events lost, and the table not listed again: why %v", y.why)
	}
	t.Logf("snapshots %d, why %v", y.resyncs, y.why)
}

// drainLinks gives the Model the events each link's stream has now, as
// its reader would, and lets the pages hear; links not in skip.
func (d *driver) drainLinks(skip ...int) {
	d.t.Helper()
	for i, l := range d.m.links {
		if slices.Contains(skip, i) || l.evCh == nil {
			continue
		}
		var evs []control.Event
		for len(l.evCh) > 0 {
			evs = append(evs, <-l.evCh)
		}
		if len(evs) > 0 {
			d.send(eventsMsg{node: i, gen: l.gen, evs: evs})
		}
	}
	fire[syncFlushMsg](d)
}

// nodeRows are the Sessions page's rows of a node.
func (d *driver) nodeRows(node string) []sessRow {
	var out []sessRow
	for _, r := range d.sessions().t.all {
		if r.node == node {
			out = append(out, r)
		}
	}
	return out
}

// TestSessionSyncFleet: on a fleet each node's sessions are kept by its
// own events, each table listed again on its own: pop2's console stream
// overruns, pop1's does not.
func TestSessionSyncFleet(t *testing.T) {
	accounts := []site.Account{{Name: "alice", Pass: "pw", Scheme: "PLAIN"}, {Name: "bob", Pass: "pw", Scheme: "PLAIN"}}
	s := site.New(t, accounts)
	s.Cfg.MaxConnectionsPerIP = 500
	fl := fleettest.Start(t, s, "pop1", "pop2")
	d := newDriver(t, 160, 48, func(d *driver, o *Options) {
		for _, n := range fl.Nodes {
			o.Nodes = append(o.Nodes, Node{Name: n.Name, Dial: func(ctx context.Context) (Backend, error) {
				return control.Dial(ctx, n.Control)
			}})
		}
	})
	d.m.s.now = time.Now
	d.start()
	defer d.m.shutdown()
	var ctls []*control.Client
	for _, n := range fl.Nodes {
		ctl, err := control.Dial(context.Background(), n.Control)
		if err != nil {
			t.Fatal(err)
		}
		defer ctl.Close()
		ctls = append(ctls, ctl)
	}
	agree := func(what string, skip ...int) {
		t.Helper()
		var last string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			d.drainLinks(skip...)
			last = ""
			for i, n := range fl.Nodes {
				snap, err := ctls[i].SessionSnapshot(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				at := time.Now()
				d.drainLinks(skip...)
				if diff := drift(d.nodeRows(n.Name), snap, at); diff != "" {
					last += n.Name + ": " + diff + "\n"
				}
			}
			if last == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: drifted:\n%s", what, last)
			}
		}
	}

	alice := fleettest.Login(t, fl.Nodes[0], accounts[0])
	bob := fleettest.Login(t, fl.Nodes[1], accounts[1])
	idle := testutil.DialPOP3(t, fl.Nodes[1].Addr)
	alice.OK("STAT")
	agree("logged in")
	if len(d.nodeRows("pop1")) != 1 || len(d.nodeRows("pop2")) != 2 {
		t.Fatalf("rows: pop1 %d, pop2 %d", len(d.nodeRows("pop1")), len(d.nodeRows("pop2")))
	}

	// pop2's stream is not read while it overruns.
	for burst := 2000; d.m.links[1].sync.why[string(event.Dropped)] == 0; burst *= 2 {
		if burst > 32000 {
			t.Fatalf("no resync on pop2: why %v", d.m.links[1].sync.why)
		}
		quickSessions(t, fl.Nodes[1].Addr, burst)
		d.drainLinks(1)
		for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			d.drainLinks() // what pop2 could queue
		}
		bob.OK("NOOP") // the notice comes with the next event
		alice.OK("NOOP")
		agree(fmt.Sprintf("after a burst of %d on pop2", burst))
	}
	idle.OK("QUIT")
	agree("pop2's idle session gone")
	if y := &d.m.links[0].sync; y.resyncs != 1 || len(y.why) != 0 {
		t.Fatalf("pop1 listed %d times: %v", y.resyncs, y.why)
	}
	if len(d.nodeRows("pop2")) != 1 {
		t.Fatalf("pop2 rows: %d", len(d.nodeRows("pop2")))
	}
}
