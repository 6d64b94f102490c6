package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/event"
	"popd/internal/server"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
	"popd/internal/userdb"
)

// popd_bytes_sent_total is a counter: sampled while sessions RETR and end,
// it never goes down, and once they are over it counts each session's
// octets exactly once.
func TestBytesSentNeverGoesBackwards(t *testing.T) {
	users := []account{{Name: "u1", Pass: "pw", Scheme: "PLAIN"}, {Name: "u2", Pass: "pw", Scheme: "PLAIN"}, {Name: "u3", Pass: "pw", Scheme: "PLAIN"}}
	e := newEnv(t, users, nil)
	body := strings.Repeat("a line of the message\n", 500)
	for _, u := range users {
		e.deliver(u.Name, "Subject: counted\n\n"+body)
	}
	ctl := e.control()
	ctx := context.Background()

	stop := make(chan struct{})
	var samples, backwards []int64
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, err := ctl.Stats(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			if n := len(samples); n > 0 && st.BytesSent < samples[n-1] {
				backwards = append(backwards, samples[n-1], st.BytesSent)
			}
			samples = append(samples, st.BytesSent)
		}
	})

	const rounds = 30
	var size int64
	var clients sync.WaitGroup
	var mu sync.Mutex
	for _, u := range users {
		clients.Go(func() {
			for range rounds {
				c := e.login(u)
				ok := c.OK("RETR 1")
				c.Multi()
				c.OK("QUIT")
				// Closed as a client does, not left to popd's drain after
				// QUIT: 90 sessions a few ms apart from one address would
				// otherwise meet the per-address limit while they drain.
				c.Conn.Close()
				n, err := strconv.ParseInt(strings.Fields(ok)[1], 10, 64)
				if err != nil {
					t.Errorf("RETR: %q", ok)
				}
				mu.Lock()
				size = n
				mu.Unlock()
			}
		})
	}
	clients.Wait()
	testutil.Eventually(t, 10*time.Second, "sessions still open", func() bool {
		st, err := ctl.Stats(ctx)
		return err == nil && st.Sessions == 0
	})
	close(stop)
	sampler.Wait()
	if len(backwards) > 0 {
		t.Errorf("bytes sent went backwards (from, to): %v", backwards)
	}
	st, err := ctl.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(users)*rounds) * size; st.BytesSent != want {
		t.Errorf("bytes sent %d after %d RETRs of %d octets, want %d", st.BytesSent, len(users)*rounds, size, want)
	}
	t.Log(fmt.Sprintf("%d samples", len(samples)))
}

// A goroutine of Run's group that fails is logged, whether popd is still
// running or already stopping; one that ends because ctx did is not.
func TestGroupLogsErrors(t *testing.T) {
	log, logged := testutil.Logger(t)
	ctx, cancel := context.WithCancel(context.Background())
	g := &group{ctx: ctx}
	g.run(log, "early", func() error { return errors.New("boom") })
	testutil.Eventually(t, 10*time.Second, "an error while running not logged", func() bool {
		return strings.Contains(logged.String(), "early stopped; popd goes on without it")
	})
	late := make(chan struct{})
	g.run(log, "late", func() error { <-late; return errors.New("bang") })
	g.run(log, "quiet", func() error { <-ctx.Done(); return ctx.Err() })
	cancel()
	close(late)
	g.wait()
	for _, want := range []string{"boom", "late failed while popd stopped", "bang"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("%q not logged:\n%s", want, logged)
		}
	}
	if strings.Contains(logged.String(), "quiet") {
		t.Errorf("a goroutine that ended with ctx was logged as failing:\n%s", logged)
	}
}

// Sampled at the moment a session's end is published, when the session is
// still in the registry, popd_bytes_sent_total counts its octets once.
func TestBytesSentCountsAClosingSessionOnce(t *testing.T) {
	st := site.New(t, []account{{Name: "u", Pass: "pw", Scheme: "PLAIN"}})
	st.Deliver(t, "u", "Subject: counted\n\nbody\n")
	log := testutil.Log(t)
	users, err := userdb.Open(st.Cfg.Users, log)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{log: log, users: users, started: time.Now()}
	atClose := make(chan int64, 1)
	d.srv, err = server.New(st.Cfg, server.Options{Users: users, Logger: log, Publish: func(e event.Event) {
		d.publish(e)
		if e.Type == event.SessionClosed {
			atClose <- d.Stats().BytesSent
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- d.srv.Serve(l) }()
	defer func() { d.srv.Shutdown(context.Background()); <-served }()

	c := testutil.DialPOP3(t, l.Addr().String())
	c.OK("USER u")
	c.OK("PASS pw")
	size, _ := strconv.ParseInt(strings.Fields(c.OK("RETR 1"))[1], 10, 64)
	c.Multi()
	c.OK("QUIT")
	if n := <-atClose; n != size {
		t.Errorf("bytes sent %d as the session ended, want %d", n, size)
	}
	testutil.Eventually(t, 10*time.Second, "the session did not end", func() bool { return len(d.srv.Sessions()) == 0 })
	if n := d.Stats().BytesSent; n != size {
		t.Errorf("bytes sent %d after the session, want %d", n, size)
	}
}

// When its context ends, Run tells every session, in whatever state, that
// popd is shutting down, closes the connections that are no session yet,
// and returns only once every goroutine it started has ended.
func TestRunEndsEverything(t *testing.T) {
	bob := account{Name: "bob", Pass: "pw", Scheme: "PLAIN"}
	e := newEnv(t, []account{alice, bob}, func(c *config.Config) {
		c.ProxyFrom = "127.0.0.1/32"
		c.AuthFailureDelay.Duration = time.Hour
		c.AuthPenaltyMax.Duration = time.Hour
		c.Metrics = "127.0.0.1:0"
	})
	e.deliver("alice", "Subject: keep me\n\n")
	// First a connection whose PROXY header never ends: accepted before
	// the others, it is no session yet.
	half, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	half.Write([]byte("PROXY TCP4 192.0.2.9 "))
	proxied := func() *testutil.POP3 {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.Write([]byte("PROXY TCP4 192.0.2.1 127.0.0.1 40000 110\r\n"))
		c := testutil.NewPOP3(t, conn)
		c.Greeting = c.Expect("+OK")
		return c
	}
	in := proxied() // in TRANSACTION
	in.OK("USER alice")
	in.OK("PASS correct horse")
	in.OK("DELE 1")
	waiting := proxied() // waiting out an hour-long failure delay
	waiting.OK("USER bob")
	waiting.Send("PASS wrong")
	sasl := proxied() // in the middle of a SASL exchange
	sasl.Send("AUTH PLAIN")
	sasl.Expect("+ ")
	idle := proxied() // in AUTHORIZATION
	ctl := e.control()
	testutil.Eventually(t, 10*time.Second, "no session waiting in PASS", func() bool {
		ss, err := ctl.Sessions(context.Background())
		for _, s := range ss {
			if s.LastCommand == "PASS" {
				return true
			}
		}
		return err != nil
	})

	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testutil.POP3{in, waiting, sasl, idle} {
		c.Expect("-ERR [SYS/TEMP] shutting down")
		if !c.Closed(10 * time.Second) {
			t.Error("a session is still open after Run returned")
		}
	}
	if !testutil.NewPOP3(t, half).Closed(10 * time.Second) {
		t.Error("a connection waiting for its PROXY header is still open after Run returned")
	}
	log := e.log.String()
	for _, bad := range []string{"PROXY header refused", "popd goes on without it", "failed while popd stopped", "grace period"} {
		if strings.Contains(log, bad) {
			t.Errorf("logged %q:\n%s", bad, log)
		}
	}
	if n := len(e.files("alice")); n != 1 {
		t.Error("shutting down deleted mail")
	}
	// Those that have just been joined may take a moment to be gone.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		left := popdGoroutines()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Run returned:\n\n%s", strings.Join(left, "\n\n"))
		}
	}
}

// popdGoroutines lists the stacks of the goroutines running popd's code,
// other than tests.
func popdGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "popd/internal/") && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return out
}
