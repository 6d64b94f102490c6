package daemon

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil/site"
)

// BenchmarkConsoleStream is what a console reads a second from popd with
// 1,000 busy sessions (each sends NOOP, STAT, RETR 1 or LIST every 500
// ms): stream-B/s, its event stream with the sessions' changes, which
// keeps its table of sessions; poll-B/s, one list of the sessions, which
// is what it read a second when it polled them (and still reads once to
// start). An op is a second of the stream.
func BenchmarkConsoleStream(b *testing.B) {
	const n = 1000
	var accounts []account
	for i := range n {
		accounts = append(accounts, site.Account{Name: "u" + strconv.Itoa(i), Pass: "pw", Scheme: "PLAIN"})
	}
	e := newEnv(b, accounts, func(c *config.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = n+100, n+100
		c.LogLevel = "warn"
	})
	for _, a := range accounts {
		e.deliver(a.Name, "Subject: hi\r\n\r\nhello\r\n")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for _, a := range accounts {
		c, err := busyLogin(e.addr, a)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() { c.loop(500*time.Millisecond, stop) })
	}

	stream := dialControl(b, e.controlPath)
	stream.request(`{"id":1,"method":"events","params":{"changes":true}}`)
	poll := dialControl(b, e.controlPath)
	time.Sleep(time.Second)                // every session is busy
	stream.readFor(100 * time.Millisecond) // what came meanwhile

	var got int64
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		got += stream.readFor(time.Second)
	}
	b.ReportMetric(float64(got)/time.Since(start).Seconds(), "stream-B/s")
	b.StopTimer()
	b.ReportMetric(float64(len(poll.request(`{"id":1,"method":"who"}`))), "poll-B/s")
}

// ctlConn is a control connection read by hand, to count its bytes.
type ctlConn struct {
	tb testing.TB
	nc net.Conn
	r  *bufio.Reader
}

func dialControl(tb testing.TB, path string) *ctlConn {
	nc, err := net.Dial("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	c := &ctlConn{tb: tb, nc: nc, r: bufio.NewReaderSize(nc, 1<<20)}
	c.request(`{"hello":"popd-control","version":1}`)
	return c
}

// request sends a line and returns the answer's.
func (c *ctlConn) request(line string) []byte {
	if _, err := io.WriteString(c.nc, line+"\n"); err != nil {
		c.tb.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, err := c.r.ReadBytes('\n')
	if err != nil {
		c.tb.Fatal(err)
	}
	return answer
}

// readFor reads for d and says how many bytes came.
func (c *ctlConn) readFor(d time.Duration) int64 {
	c.nc.SetReadDeadline(time.Now().Add(d))
	n, _ := io.Copy(io.Discard, c.r)
	return n
}

// busySession is a logged-in POP3 session that keeps busy.
type busySession struct {
	nc net.Conn
	r  *bufio.Reader
}

func busyLogin(addr string, a account) (*busySession, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &busySession{nc: nc, r: bufio.NewReader(nc)}
	fmt.Fprintf(nc, "USER %s\r\nPASS %s\r\n", a.Name, a.Pass)
	for range 3 {
		if err := c.ok(); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *busySession) ok() error {
	l, err := c.r.ReadString('\n')
	if err == nil && !strings.HasPrefix(l, "+OK") {
		err = fmt.Errorf("%q", l)
	}
	return err
}

// loop sends a command every period until stop, then QUIT.
func (c *busySession) loop(period time.Duration, stop <-chan struct{}) {
	defer c.nc.Close()
	cmds := []string{"NOOP", "STAT", "RETR 1", "LIST"}
	t := time.NewTicker(period)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			io.WriteString(c.nc, "QUIT\r\n")
			return
		case <-t.C:
		}
		cmd := cmds[i%len(cmds)]
		io.WriteString(c.nc, cmd+"\r\n")
		if c.ok() != nil {
			return
		}
		if cmd == "RETR 1" || cmd == "LIST" {
			for {
				l, err := c.r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
			}
		}
	}
}
