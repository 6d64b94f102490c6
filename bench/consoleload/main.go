// Command consoleload holds POP3 sessions open on a server for
// bench/console.sh: n connections, the first login of them logged in as
// users i0, i1 … (password "pw", bench/idle.py's fixture), the rest left
// in AUTHORIZATION after the greeting. With -busy, each logged-in session
// sends a command (NOOP, STAT, RETR 1, LIST in turn) every period, so that
// its counters and last command change all the time. It prints "ready"
// once every session is open, then holds them until it is signalled, and
// prints how many commands the busy sessions sent.
//
// It runs as a process of its own, so that its descriptors do not count
// against the server's.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:110", "POP3 `address`")
	n := flag.Int("n", 1000, "sessions")
	login := flag.Int("login", -1, "of them logged in (-1: all)")
	busy := flag.Duration("busy", 0, "a command per logged-in session every `period` (0: idle)")
	flag.Parse()
	if *login < 0 || *login > *n {
		*login = *n
	}

	conns := make([]*conn, *n)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				c, err := open(*addr, i, i < *login)
				if err != nil {
					log.Fatalf("session %d: %v", i, err)
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	fmt.Printf("ready %d sessions, %d logged in\n", *n, *login)

	var sent atomic.Int64
	stop := make(chan struct{})
	if *busy > 0 {
		for _, c := range conns[:*login] {
			wg.Go(func() { c.loop(*busy, stop, &sent) })
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	close(stop)
	wg.Wait()
	if *busy > 0 {
		fmt.Printf("busy sessions sent %d commands\n", sent.Load())
	}
}

type conn struct {
	nc net.Conn
	r  *bufio.Reader
}

func open(addr string, i int, login bool) (*conn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, r: bufio.NewReader(nc)}
	if err := c.ok(); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if !login {
		return c, nil
	}
	fmt.Fprintf(nc, "USER i%d\r\nPASS pw\r\n", i)
	if err := c.ok(); err != nil {
		return nil, err
	}
	if err := c.ok(); err != nil {
		return nil, err
	}
	return c, nil
}

// ok reads a one-line answer and fails unless it is +OK.
func (c *conn) ok() error {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+OK") {
		return fmt.Errorf("%q", strings.TrimSpace(line))
	}
	return nil
}

// multi reads a multi-line answer to its ".".
func (c *conn) multi() error {
	if err := c.ok(); err != nil {
		return err
	}
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return err
		}
		if line == ".\r\n" {
			return nil
		}
	}
}

// loop sends a command every period, starting at a random point of the
// first, until stop.
func (c *conn) loop(period time.Duration, stop <-chan struct{}, sent *atomic.Int64) {
	cmds := []string{"NOOP", "STAT", "RETR 1", "LIST"}
	t := time.NewTimer(rand.N(period))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		cmd := cmds[i%len(cmds)]
		fmt.Fprintf(c.nc, "%s\r\n", cmd)
		var err error
		if cmd == "RETR 1" || cmd == "LIST" {
			err = c.multi()
		} else {
			err = c.ok()
		}
		if err != nil {
			log.Fatalf("%s: %v", cmd, err)
		}
		sent.Add(1)
		t.Reset(period)
	}
}
