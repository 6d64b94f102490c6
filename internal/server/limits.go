package server

import (
	"cmp"
	"hash/maphash"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"popd/internal/pop3"
)

// source is the key under which limits and penalties count a client: its
// IPv4 address, or its IPv6 /48 (one site), so that an attacker holding a
// whole IPv6 prefix does not get a fresh allowance per address.
func source(a net.Addr) netip.Prefix {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	default:
		if a != nil {
			if ap, err := netip.ParseAddrPort(a.String()); err == nil {
				ip = ap.Addr()
			}
		}
	}
	return sourceIP(ip)
}

// sourceIP is source for an address given as such (nginx's Client-IP).
func sourceIP(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(48)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// penalties remembers failed logins per source. Each failure in a row
// doubles the delay before the next failure is answered, from base up to
// max; quiet time clears it, and so does a success by the one user the
// failures were for (see clearFor). The table is bounded: when full, the
// stalest entry makes room.
type penalties struct {
	base, max, forget time.Duration
	limit             int
	seed              maphash.Seed // for the user names of penalty.who

	mu sync.Mutex
	m  map[netip.Prefix]*penalty
}

type penalty struct {
	failures int
	last     time.Time
	who      uint64 // hash of the user name the failures were for, if named
	named    bool   // some failure named a user: who is set
	mixed    bool   // failures named more than one user
	// names are the user names tried, for the administrator (the control
	// API's penalties): the last maxNames distinct ones, oldest first,
	// each cut by pop3.LogName, and at most maxNameBytes together.
	names []string
}

// The bound on the names a penalty keeps. With the table's limit, a flood
// from 100,000 sources that each tried 8 names of 32 bytes holds some
// 52 MB, entries and names (measured; 14 MB without the names).
const (
	maxNames     = 8
	maxNameBytes = 256 // all of a source's names; a single longer one is kept alone
)

// addName notes that name was tried: it becomes the newest, and the oldest
// go while there are too many or they take too much room.
func (e *penalty) addName(name string) {
	name = pop3.LogName(name)
	if i := slices.Index(e.names, name); i >= 0 {
		e.names = slices.Delete(e.names, i, i+1)
	} else {
		name = strings.Clone(name) // not the client's whole line or SASL buffer
	}
	e.names = append(e.names, name)
	size := 0
	for _, n := range e.names {
		size += len(n)
	}
	for len(e.names) > maxNames || len(e.names) > 1 && size > maxNameBytes {
		size -= len(e.names[0])
		e.names = slices.Delete(e.names, 0, 1)
	}
}

func newPenalties() *penalties {
	return &penalties{forget: 15 * time.Minute, limit: 100_000, seed: maphash.MakeSeed(), m: map[netip.Prefix]*penalty{}}
}

// delay is how long a failed login from src should take.
func (p *penalties) delay(src netip.Prefix) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[src]
	if !ok || time.Since(e.last) >= p.forget {
		return p.base
	}
	return p.delayAfter(e.failures)
}

// delayAfter is the delay earned by n failures in a row. Called with mu held.
func (p *penalties) delayAfter(n int) time.Duration {
	d := p.base
	for i := 0; i < n && d < p.max; i++ {
		d *= 2
	}
	return min(d, max(p.max, p.base))
}

// setLimits changes the delays (a configuration reload).
func (p *penalties) setLimits(base, max time.Duration) {
	p.mu.Lock()
	p.base, p.max = base, max
	p.mu.Unlock()
}

// fail records a failed login from src that named no user (see failAs).
func (p *penalties) fail(src netip.Prefix) (int, time.Duration) { return p.failAs(src, "") }

// failAs records a failed login from src for user ("" when the client
// named none, as in an exchange cancelled early) and returns the source's
// failures in a row and the delay the next one will earn.
func (p *penalties) failAs(src netip.Prefix, user string) (int, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[src]
	if !ok || time.Since(e.last) >= p.forget {
		if !ok && len(p.m) >= p.limit {
			p.evict()
		}
		e = &penalty{}
		p.m[src] = e
	}
	e.failures++
	e.last = time.Now()
	if user != "" {
		switch h := maphash.String(p.seed, user); {
		case !e.named:
			e.who, e.named = h, true
		case e.who != h:
			e.mixed = true
		}
		e.addName(user)
	}
	return e.failures, p.delayAfter(e.failures)
}

// succeed clears src's penalty whatever it was for: an administrator's
// clear. It returns the penalty cleared, and false when src had none (or
// only one quiet time has forgotten).
func (p *penalties) succeed(src netip.Prefix) (Penalty, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[src]
	if !ok {
		return Penalty{}, false
	}
	delete(p.m, src)
	if time.Since(e.last) >= p.forget {
		return Penalty{}, false
	}
	return p.entry(src, e), true
}

// clearFor is told that user logged in from src, and clears src's penalty
// only if every failure that named a user named this one: a user who
// mistyped their own password is forgiven, as Dovecot forgives any success;
// but failures for other names stay until quiet time forgets them, as in
// mox's failed-login rate limit, or else an attacker holding one valid account
// could reset the penalty after every few guesses at other users'
// passwords. (Behind one NAT, a user who logs in does not clear another's
// mistakes either; those are forgotten after 15 quiet minutes.)
func (p *penalties) clearFor(src netip.Prefix, user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[src]
	if !ok || e.mixed || e.named && e.who != maphash.String(p.seed, user) {
		return
	}
	delete(p.m, src)
}

// evict drops forgotten entries, or else the stalest one. Called with mu held.
func (p *penalties) evict() {
	var oldest netip.Prefix
	var oldestT time.Time
	for k, e := range p.m {
		if time.Since(e.last) >= p.forget {
			delete(p.m, k)
			continue
		}
		if oldestT.IsZero() || e.last.Before(oldestT) {
			oldest, oldestT = k, e.last
		}
	}
	if len(p.m) >= p.limit {
		delete(p.m, oldest)
	}
}

// checkTimes keeps the longest password check made lately, so that every
// failed login can be answered no sooner than that: the time a failure
// takes then tells nothing of how the password was checked. Without it, an
// unknown name (checked against a dummy BLF-CRYPT hash), an invalid one
// (not checked at all) and a {PLAIN} user (next to no work) would each take
// their own time whenever the failure delay is shorter than the check.
// Dovecot and mox have only their fixed failure delay; OpenSSH pads failed
// authentications to a minimum time in the same way
// (ensure_minimum_time_since). The longest is kept for the current window
// and the one before, so that an outlier (a loaded machine, a pause) or a
// user since removed stops counting after two windows at most. The zero
// value is ready for use.
type checkTimes struct {
	mu        sync.Mutex
	since     time.Time     // when the current window began
	cur, prev time.Duration // the longest check in it, and in the one before
}

const checkWindow = 15 * time.Minute

// observe records a check that took d.
func (c *checkTimes) observe(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(time.Now())
	c.cur = max(c.cur, d)
}

// slowest is the longest check of the last one or two windows.
func (c *checkTimes) slowest() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roll(time.Now())
	return max(c.cur, c.prev)
}

// roll moves on to the window of now. Called with mu held.
func (c *checkTimes) roll(now time.Time) {
	switch elapsed := now.Sub(c.since); {
	case c.since.IsZero():
		c.since = now
	case elapsed >= 2*checkWindow:
		c.since, c.cur, c.prev = now, 0, 0
	case elapsed >= checkWindow:
		c.since, c.cur, c.prev = now, 0, c.cur
	}
}

// Penalty is a source currently slowed down, for the control API.
type Penalty struct {
	Source   string
	Failures int
	Last     time.Time
	Delay    time.Duration
	Users    []string // the user names tried, newest first (penalty.names)
}

// entry is e as the control API shows it. Called with mu held.
func (p *penalties) entry(src netip.Prefix, e *penalty) Penalty {
	users := slices.Clone(e.names)
	slices.Reverse(users)
	return Penalty{Source: src.String(), Failures: e.failures, Last: e.last, Delay: p.delayAfter(e.failures), Users: users}
}

// active counts the sources that list would list.
func (p *penalties) active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.m {
		if time.Since(e.last) < p.forget {
			n++
		}
	}
	return n
}

// list returns the sources with a live penalty, in address order.
func (p *penalties) list() []Penalty {
	type row struct {
		k netip.Prefix
		p Penalty
	}
	var rows []row
	p.mu.Lock()
	for k, e := range p.m {
		if time.Since(e.last) < p.forget {
			rows = append(rows, row{k, p.entry(k, e)})
		}
	}
	p.mu.Unlock()
	// Sorted outside the lock: logins wait on it.
	slices.SortFunc(rows, func(a, b row) int {
		if c := a.k.Addr().Compare(b.k.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.k.Bits(), b.k.Bits())
	})
	out := make([]Penalty, len(rows))
	for i, r := range rows {
		out[i] = r.p
	}
	return out
}

// key is the entry of the table that an administrator's address or prefix
// names: an address is its source (an IPv6 one its /48), and so is a
// prefix longer than a source's; any other prefix is taken as it is.
func key(p netip.Prefix) netip.Prefix {
	a := p.Addr().Unmap().WithZone("")
	if p.Bits() == p.Addr().BitLen() || a.Is6() && p.Bits() > 48 {
		return sourceIP(a)
	}
	return p.Masked()
}

// conns counts open connections in all and per source.
type conns struct {
	max, perSource int

	mu    sync.Mutex
	total int
	by    map[netip.Prefix]int
}

// Why conns.add refuses a connection, as the client is told.
const (
	whyMax       = "too many connections"
	whyPerSource = "too many connections from your address"
)

// add admits a connection from src, or reports why not.
func (c *conns) add(src netip.Prefix) (ok bool, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= c.max {
		return false, whyMax
	}
	if c.by[src] >= c.perSource {
		return false, whyPerSource
	}
	c.total++
	c.by[src]++
	return true, ""
}

// setLimits changes the limits (a configuration reload); connections
// already open stay.
func (c *conns) setLimits(max, perSource int) {
	c.mu.Lock()
	c.max, c.perSource = max, perSource
	c.mu.Unlock()
}

func (c *conns) remove(src netip.Prefix) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.by[src]--; c.by[src] <= 0 {
		delete(c.by, src)
	}
}
