package fleet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// Checker watches whether the nodes of a fleet serve POP3: a node is up
// when a connection to its POP3 address is accepted and greeted with "+OK"
// within Timeout. A node with Proxy set is first sent a PROXY v1 header
// carrying the check connection's own addresses, as it waits for one from
// the checker's address (its -proxy-from) before greeting. After the
// greeting the checker says QUIT and closes.
//
// Until its first round a Checker counts every node as up, as Home with a
// nil up does: no news is not taken for bad news. Whoever serves from it
// should run Check once before serving (the daemon does), so that the
// first answer already rests on a real check; Run's first round is then
// 2 s later.
type Checker struct {
	// Interval is the time between two rounds (2 s).
	Interval time.Duration
	// Timeout bounds one node's check from connecting to the greeting
	// (1 s).
	Timeout time.Duration

	fleet *Fleet
	log   *slog.Logger

	mu   sync.RWMutex
	down map[string]string // node name → why it is down
}

// NewChecker returns a checker of f's nodes; log may be nil.
func NewChecker(f *Fleet, log *slog.Logger) *Checker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Checker{Interval: 2 * time.Second, Timeout: time.Second, fleet: f, log: log, down: map[string]string{}}
}

// Up reports whether n was up at its last check (true before the first).
// A node that is not in the checker's fleet is never up. It is safe for
// concurrent use.
func (c *Checker) Up(n *Node) bool {
	if _, ok := c.fleet.Node(n.Name); !ok {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, down := c.down[n.Name]
	return !down
}

// Run checks every node every Interval until ctx is done, and returns
// ctx's error.
func (c *Checker) Run(ctx context.Context) error {
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			c.Check(ctx)
		}
	}
}

// Check checks every node once, all at the same time, and returns when
// every check is done: after Timeout at most. It logs each node that went
// down or came back up.
func (c *Checker) Check(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range c.fleet.Nodes {
		n := &c.fleet.Nodes[i]
		wg.Go(func() {
			err := c.check(ctx, n)
			if ctx.Err() != nil {
				return // cut short by the caller: no news about n
			}
			c.record(n, err)
		})
	}
	wg.Wait()
}

// record keeps the outcome of n's check and logs a change.
func (c *Checker) record(n *Node, err error) {
	c.mu.Lock()
	_, wasDown := c.down[n.Name]
	if err != nil {
		c.down[n.Name] = err.Error()
	} else {
		delete(c.down, n.Name)
	}
	c.mu.Unlock()
	switch {
	case err != nil && !wasDown:
		c.log.Warn("fleet node down", "node", n.Name, "addr", n.POP3, "reason", err.Error())
	case err == nil && wasDown:
		c.log.Info("fleet node up", "node", n.Name, "addr", n.POP3)
	}
}

// errNoGreeting: the node accepted the connection but did not greet.
var errNoGreeting = errors.New("no greeting")

// check connects to n, sends the PROXY header if n wants one, and reads
// the greeting: nil when it is "+OK ...".
func (c *Checker) check(ctx context.Context, n *Node) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.AddrPort().String())
	if err != nil {
		// "connection refused", without the addresses and the syscall
		var se *os.SyscallError
		var op *net.OpError
		if errors.As(err, &se) {
			err = se.Err
		} else if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if n.Proxy {
		if _, err := conn.Write([]byte(checkHeader)); err != nil {
			return fmt.Errorf("sending the PROXY header: %w", err)
		}
	}
	r := bufio.NewReaderSize(conn, 512)
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w within %v", errNoGreeting, c.Timeout)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: the node closed the connection", errNoGreeting)
	case err != nil && !errors.Is(err, bufio.ErrBufferFull):
		return fmt.Errorf("%w: %w", errNoGreeting, err)
	case !strings.HasPrefix(string(line), "+OK"):
		return fmt.Errorf("%w: it said %q", errNoGreeting, strings.TrimSpace(string(line[:min(len(line), 80)])))
	}
	// Polite to the node: QUIT, and its answer, so that its session ends
	// as a client's would; the node is up whatever comes now.
	if _, err := conn.Write([]byte("QUIT\r\n")); err == nil {
		r.ReadSlice('\n')
	}
	return nil
}

// checkHeader is the PROXY protocol v1 header of a health check: UNKNOWN,
// the proxy's own connection (https://www.haproxy.org/download/2.9/doc/
// proxy-protocol.txt §2.1, "health checks"). The node then sees the checker
// as the client, and logs the check's session at debug level only.
const checkHeader = "PROXY UNKNOWN\r\n"

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()), true
}
