package server

import (
	"net"
	"net/netip"
	"sync"
	"time"
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
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(48)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// penalties remembers failed logins per source. Each failure in a row
// doubles the delay before the next failure is answered, from base up to
// max; a success or quiet time clears it. The table is bounded: when full,
// the stalest entry makes room.
type penalties struct {
	base, max, forget time.Duration
	limit             int

	mu sync.Mutex
	m  map[netip.Prefix]*penalty
}

type penalty struct {
	failures int
	last     time.Time
}

func newPenalties() *penalties {
	return &penalties{forget: 15 * time.Minute, limit: 100_000, m: map[netip.Prefix]*penalty{}}
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

// fail records a failed login from src and returns its failures in a row
// and the delay the next one will earn.
func (p *penalties) fail(src netip.Prefix) (int, time.Duration) {
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
	return e.failures, p.delayAfter(e.failures)
}

// succeed clears src's penalty.
func (p *penalties) succeed(src netip.Prefix) {
	p.mu.Lock()
	delete(p.m, src)
	p.mu.Unlock()
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

// Penalty is a source currently slowed down, for the control API.
type Penalty struct {
	Source   string
	Failures int
	Last     time.Time
	Delay    time.Duration
}

// list returns the sources with a live penalty.
func (p *penalties) list() []Penalty {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Penalty
	for k, e := range p.m {
		if time.Since(e.last) < p.forget {
			out = append(out, Penalty{Source: k.String(), Failures: e.failures, Last: e.last, Delay: p.delayAfter(e.failures)})
		}
	}
	return out
}

// conns counts open connections in all and per source.
type conns struct {
	max, perSource int

	mu    sync.Mutex
	total int
	by    map[netip.Prefix]int
}

// add admits a connection from src, or reports why not.
func (c *conns) add(src netip.Prefix) (ok bool, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= c.max {
		return false, "too many connections"
	}
	if c.by[src] >= c.perSource {
		return false, "too many connections from your address"
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
