package fleet_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/fleet"
	"popd/internal/server"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
	"popd/internal/userdb"
)

// popd starts a real POP3 server on loopback for the test and returns its
// address; proxyFrom, if set, makes it wait for a PROXY header from there.
func popd(t *testing.T, proxyFrom string) string {
	t.Helper()
	st := site.New(t, []site.Account{{Name: "alice", Pass: "pw", Scheme: "PLAIN"}})
	st.Cfg.ProxyFrom = proxyFrom
	log := testutil.Log(t)
	users, err := userdb.Open(st.Cfg.Users, log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(st.Cfg, server.Options{Users: users, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return l.Addr().String()
}

// silent accepts connections and greets them only once greet is set; it
// never reads.
func silent(t *testing.T, greet *atomic.Bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if greet.Load() {
					c.Write([]byte("+OK hello\r\n"))
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				bufio.NewReader(c).ReadString('\n') // until QUIT, or the checker goes
			})
		}
	})
	return l.Addr().String()
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func loadNodes(t *testing.T, nodes ...string) *fleet.Fleet {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(nodes); i += 3 {
		fmt.Fprintf(&b, "[[node]]\nname = %q\npop3 = %q\ncontrol = \"/run/%s.sock\"\nproxy = %s\n", nodes[i], nodes[i+1], nodes[i], nodes[i+2])
	}
	f, err := fleet.Load(write(t, b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func upNodes(c *fleet.Checker, f *fleet.Fleet) string {
	var up []string
	for i := range f.Nodes {
		if c.Up(&f.Nodes[i]) {
			up = append(up, f.Nodes[i].Name)
		}
	}
	return strings.Join(up, " ")
}

// TestChecker: a real popd is up, with a PROXY header when it wants one;
// a port that refuses, a node that never greets, and a popd that waits
// for a PROXY header the fleet file does not announce are down. Each
// change is logged once, and a node that starts greeting comes back up.
func TestChecker(t *testing.T) {
	var greet atomic.Bool
	behindProxy := popd(t, "127.0.0.0/8")
	f := loadNodes(t,
		"plain", popd(t, ""), "false",
		"proxied", behindProxy, "true",
		"refuses", closedPort(t), "false",
		"silent", silent(t, &greet), "false",
		"noheader", behindProxy, "false",
	)
	log, buf := testutil.Logger(t)
	c := fleet.NewChecker(f, log)
	c.Timeout = 300 * time.Millisecond
	if got := upNodes(c, f); got != "plain proxied refuses silent noheader" {
		t.Errorf("before the first check, up: %s", got)
	}
	other := fleet.Node{Name: "stranger"}
	if c.Up(&other) {
		t.Error("a node of no fleet is up")
	}

	start := time.Now()
	c.Check(context.Background())
	if d := time.Since(start); d > 2*c.Timeout {
		t.Errorf("a round took %v: the nodes are not checked together", d)
	}
	if got := upNodes(c, f); got != "plain proxied" {
		t.Errorf("up: %s, want plain proxied", got)
	}
	logs := buf.String()
	for _, want := range []string{
		`msg="fleet node down" node=refuses`, "reason=\"connect: connection refused\"",
		`msg="fleet node down" node=silent`, `reason="no greeting within 300ms"`,
		`msg="fleet node down" node=noheader`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}

	greet.Store(true)
	c.Check(context.Background())
	if got := upNodes(c, f); got != "plain proxied silent" {
		t.Errorf("up: %s, want plain proxied silent", got)
	}
	logs = buf.String()
	if n := strings.Count(logs, `msg="fleet node down" node=refuses`); n != 1 {
		t.Errorf("refuses logged down %d times", n)
	}
	if !strings.Contains(logs, `msg="fleet node up" node=silent`) || strings.Contains(logs, `msg="fleet node up" node=plain`) {
		t.Errorf("up lines wrong:\n%s", logs)
	}
	if strings.Contains(logs, "PROXY header refused") {
		t.Errorf("the proxied node refused the checker's PROXY header:\n%s", logs)
	}
}

// TestCheckerRun: Run checks again every Interval and returns when its
// context ends.
func TestCheckerRun(t *testing.T) {
	var greet atomic.Bool
	f := loadNodes(t, "silent", silent(t, &greet), "false")
	c := fleet.NewChecker(f, testutil.Log(t))
	c.Interval, c.Timeout = 20*time.Millisecond, 100*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	testutil.Eventually(t, 5*time.Second, "silent node down", func() bool { return !c.Up(&f.Nodes[0]) })
	greet.Store(true)
	testutil.Eventually(t, 5*time.Second, "silent node up", func() bool { return c.Up(&f.Nodes[0]) })
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

// TestCheckerProxyHeader: the PROXY header of a check says UNKNOWN (the
// proxy's own connection, no client), over IPv6 as well.
func TestCheckerProxyHeader(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	header := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		line, _ := r.ReadString('\n')
		header <- line
		c.Write([]byte("+OK\r\n"))
		r.ReadString('\n')
	}()
	defer l.Close()
	f := loadNodes(t, "v6", l.Addr().String(), "true")
	c := fleet.NewChecker(f, testutil.Log(t))
	c.Check(context.Background())
	if !c.Up(&f.Nodes[0]) {
		t.Error("v6 node down")
	}
	if got := <-header; got != "PROXY UNKNOWN\r\n" {
		t.Errorf("PROXY header %q", got)
	}
}
