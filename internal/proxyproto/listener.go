package proxyproto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// DefaultHeaderTimeout is the HeaderTimeout of a Listener that sets none.
// The spec (§2) asks for "at least 3 seconds to cover a TCP retransmit".
const DefaultHeaderTimeout = 5 * time.Second

// Listener wraps a net.Listener. Connections from a trusted source
// (TrustedFrom) must start with a PROXY header, v1 or v2; Accept returns them
// as a [*Conn] whose RemoteAddr is the client's address from the header (or
// the proxy's own for a LOCAL or UNKNOWN header). Connections from any other
// source are returned unchanged and never read from: a PROXY header such a
// peer sends is not honoured, it is only the first bytes of its session (for
// POP3, an unknown command answered with -ERR), so no client can spoof its
// address. Untrusted connections are deliberately not peeked at to refuse a
// header there, since Accept would then wait on a client that sends nothing.
//
// Accept never reads; see [Conn] for when the header is read.
type Listener struct {
	net.Listener

	// TrustedFrom are the networks the load balancers connect from. Only
	// connections whose peer is an IP address in one of them are read for a
	// PROXY header; IPv4-mapped IPv6 peers count as IPv4. Empty trusts
	// nobody. See ParseCIDRs.
	TrustedFrom []netip.Prefix

	// HeaderTimeout is how long a trusted peer has, from the first use of its
	// connection, to send its complete header; one that does not is dropped.
	// Zero means DefaultHeaderTimeout.
	HeaderTimeout time.Duration

	// OnError, if not nil, is called when a trusted connection is dropped
	// because of its header (missing, late or bad), with the proxy's address
	// and the error. It is called from the goroutine that first used the
	// connection. A peer that closes before sending a byte is not reported.
	OnError func(remote net.Addr, err error)
}

// Accept waits for the next connection. It returns a *Conn for a trusted
// peer, without reading from it, and the inner listener's net.Conn as is for
// any other.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !l.trusted(c.RemoteAddr()) {
		return c, nil
	}
	timeout := l.HeaderTimeout
	if timeout <= 0 {
		timeout = DefaultHeaderTimeout
	}
	return &Conn{conn: c, r: bufio.NewReader(c), timeout: timeout, onError: l.OnError}, nil
}

func (l *Listener) trusted(a net.Addr) bool {
	if len(l.TrustedFrom) == 0 {
		return false
	}
	ip, ok := addrIP(a)
	if !ok {
		return false
	}
	for _, p := range l.TrustedFrom {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// addrIP is the IP address of a connection's peer, without zone and with
// IPv4-mapped addresses unmapped; false for peers that are not IP.
func addrIP(a net.Addr) (netip.Addr, bool) {
	var ip netip.Addr
	switch a := a.(type) {
	case nil:
		return ip, false
	case *net.TCPAddr:
		ip = a.AddrPort().Addr()
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return ip, false
		}
		ip = ap.Addr()
	}
	return ip.WithZone("").Unmap(), ip.IsValid()
}

// ParseCIDRs parses a comma-separated list of IP networks and addresses,
// such as "10.0.0.0/8, 192.168.1.7, ::1", for Listener.TrustedFrom. A bare
// address stands for itself (/32 or /128), host bits of a network are
// cleared, IPv4-mapped IPv6 entries become IPv4, and blanks around items are
// ignored. An empty or blank s gives nil. An error names the bad item.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("proxyproto: empty item %d in address list %q", i+1, s)
		}
		var p netip.Prefix
		if strings.Contains(item, "/") {
			var err error
			if p, err = netip.ParsePrefix(item); err != nil {
				return nil, fmt.Errorf("proxyproto: %q is not an IP network: %v", item, err)
			}
		} else {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("proxyproto: %q is not an IP address: %v", item, err)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("proxyproto: %q: IPv6 zones are not supported", item)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Conn is what Listener.Accept returns for a trusted peer. Its header is
// read by the first call to Read, Write or RemoteAddr, in the calling
// goroutine, within the Listener's HeaderTimeout and any earlier read
// deadline the caller has set; concurrent calls wait for it. Reads then go
// through a buffer, so bytes that came in the same segment as the header are
// kept. If the header is missing, late or bad, the connection is closed, Read
// and Write return the error (io.EOF if the peer closed before sending
// anything) and RemoteAddr returns the proxy's address.
//
// Calling RemoteAddr thus blocks until the header is in: call it in the
// connection's own goroutine, not in an accept loop.
type Conn struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
	onError func(net.Addr, error)

	once sync.Once
	src  net.Addr // the client from the header; nil to report the proxy
	err  error    // why the header was refused

	mu      sync.Mutex // guards the deadlines while the header is read
	reading bool       // the header is being read
	hdrDL   time.Time  // when the header must be in
	readDL  time.Time  // the read deadline the caller set
}

// handshake reads the header once and returns why it was refused, if it was.
func (c *Conn) handshake() error {
	c.once.Do(c.readHeader)
	return c.err
}

func (c *Conn) readHeader() {
	c.mu.Lock()
	c.reading = true
	c.hdrDL = time.Now().Add(c.timeout)
	c.conn.SetReadDeadline(earlier(c.readDL, c.hdrDL))
	c.mu.Unlock()

	src, _, err := ReadHeader(c.r)

	c.mu.Lock()
	c.reading = false
	c.conn.SetReadDeadline(c.readDL)
	hdrDL := c.hdrDL
	c.mu.Unlock()

	if err == nil {
		c.src = src
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(hdrDL) {
		err = fmt.Errorf("proxyproto: no complete header within %v: %w", c.timeout, ne)
	}
	c.err = err
	c.conn.Close()
	// Nothing to report when the peer closed without a word (a TCP health
	// check) or our side closed the connection meanwhile.
	if err != io.EOF && !errors.Is(err, net.ErrClosed) && c.onError != nil {
		c.onError(c.conn.RemoteAddr(), err)
	}
}

// earlier returns the earlier of two deadlines, the zero time meaning none.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// Read reads data after the header, reading the header first if need be.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Write writes to the connection once a valid header has been read (spec
// §2: nothing is processed before), reading it first if need be.
func (c *Conn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.conn.Write(p)
}

// Close closes the connection. It does not wait for the header.
func (c *Conn) Close() error { return c.conn.Close() }

// LocalAddr returns the connection's own local address (not the
// destination the header names).
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the client's address from the header, or the proxy's
// when the header carries none (v1 UNKNOWN, v2 LOCAL) or was refused. It
// reads the header first if need be, and so may block for up to the
// Listener's HeaderTimeout.
func (c *Conn) RemoteAddr() net.Addr {
	c.handshake()
	if c.src != nil {
		return c.src
	}
	return c.conn.RemoteAddr()
}

// Own reports whether the header said the connection is the proxy's own,
// carrying no client (v1 UNKNOWN, v2 LOCAL): what proxies send for their
// health checks. It reads the header first if need be.
func (c *Conn) Own() bool {
	return c.handshake() == nil && c.src == nil
}

// ProxyAddr returns the address of the peer that actually connected, the
// load balancer. It never blocks.
func (c *Conn) ProxyAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read and write deadlines; while the header is being
// read, it is read under the earlier of t and the header deadline.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDL = t
	return errors.Join(c.conn.SetWriteDeadline(t), c.setReadDeadline())
}

// SetReadDeadline sets the read deadline; while the header is being read, it
// is read under the earlier of t and the header deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDL = t
	return c.setReadDeadline()
}

// setReadDeadline applies c.readDL, and the header deadline if the header is
// being read. c.mu is held.
func (c *Conn) setReadDeadline() error {
	if c.reading {
		return c.conn.SetReadDeadline(earlier(c.readDL, c.hdrDL))
	}
	return c.conn.SetReadDeadline(c.readDL)
}

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

var (
	_ net.Listener = (*Listener)(nil)
	_ net.Conn     = (*Conn)(nil)
)
