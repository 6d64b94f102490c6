package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
)

// quickPenalties makes failed logins cheap to wait for.
func quickPenalties(c *config.Config) {
	c.AuthFailureDelay.Duration = time.Millisecond
	c.AuthPenaltyMax.Duration = 4 * time.Millisecond
}

// dialFrom opens a POP3 session from a loopback address of its own: a
// source of its own for the penalties.
func (e *env) dialFrom(src string) *testutil.POP3 {
	e.t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	c := testutil.NewPOP3(e.t, conn)
	c.Expect("+OK")
	return c
}

// failAs tries each name with a wrong password, from src, in as many
// sessions as max-auth-failures (3) takes.
func (e *env) failAs(src string, names ...string) {
	e.t.Helper()
	for len(names) > 0 {
		c := e.dialFrom(src)
		for i := 0; i < 3 && len(names) > 0; i++ {
			c.OK("USER " + names[0])
			c.Send("PASS wrong")
			c.Expect("-ERR [AUTH]")
			names = names[1:]
		}
	}
}

// The penalties over real sessions: two sources, each with the names it
// tried (the last 8, newest first); clearing one publishes
// penalty.cleared naming who did it; a source without a penalty is
// "not-found" (issue 14).
func TestPenaltiesOverSessions(t *testing.T) {
	e := newEnv(t, []account{alice}, quickPenalties)
	ctl := e.control()
	ctx := context.Background()
	events, err := e.control().Events(ctx)
	if err != nil {
		t.Fatal(err)
	}

	e.failAs("127.0.0.1", "root", "admin")
	var many []string
	for i := range 10 {
		many = append(many, fmt.Sprintf("user%d", i))
	}
	e.failAs("127.0.0.2", many...)

	var ps []control.Penalty
	testutil.Eventually(t, 5*time.Second, "the failures are not all counted", func() bool {
		ps, _ = ctl.Penalties(ctx)
		return len(ps) == 2 && ps[0].Failures == 2 && ps[1].Failures == 10
	})
	if ps[0].Source != "127.0.0.1/32" || !slices.Equal(ps[0].Users, []string{"admin", "root"}) || ps[0].Delay <= 0 || ps[0].Last.IsZero() {
		t.Errorf("127.0.0.1: %+v", ps[0])
	}
	want := []string{"user9", "user8", "user7", "user6", "user5", "user4", "user3", "user2"}
	if ps[1].Source != "127.0.0.2/32" || !slices.Equal(ps[1].Users, want) {
		t.Errorf("127.0.0.2: %+v; want users %q", ps[1], want)
	}

	if err := ctl.ClearPenalty(ctx, "127.0.0.2"); err != nil {
		t.Fatal(err)
	}
	ev := testutil.NextEvent(t, events, event.PenaltyCleared, 5*time.Second)
	if ev.Remote != "127.0.0.2/32" || ev.Count != 10 || !strings.HasPrefix(ev.By, "uid ") {
		t.Errorf("penalty.cleared: %+v", ev)
	}
	if !strings.Contains(e.log.String(), `msg="penalty cleared" source=127.0.0.2/32 failures=10 by="uid `) {
		t.Errorf("no log line of the clear:\n%s", e.log)
	}
	if ps, _ := ctl.Penalties(ctx); len(ps) != 1 || ps[0].Source != "127.0.0.1/32" {
		t.Errorf("after the clear: %+v", ps)
	}

	var ce *control.Error
	for _, src := range []string{"127.0.0.2", "192.0.2.1/32"} {
		if err := ctl.ClearPenalty(ctx, src); !errors.As(err, &ce) || ce.Code != control.CodeNotFound || ce.Message != "no penalty for "+src {
			t.Errorf("clearing %s, which has no penalty: %v", src, err)
		}
	}
	if err := ctl.ClearPenalty(ctx, "nonsense"); !errors.As(err, &ce) || ce.Code != control.CodeInvalid {
		t.Errorf("clearing nonsense: %v", err)
	}
	if n, err := ctl.ClearPenalties(ctx, []string{"127.0.0.1/32", "127.0.0.2/32"}); n != 1 || err != nil {
		t.Errorf("ClearPenalties: %d, %v; want 1", n, err)
	}
	if ev := testutil.NextEvent(t, events, event.PenaltyCleared, 5*time.Second); ev.Remote != "127.0.0.1/32" || ev.Count != 2 {
		t.Errorf("penalty.cleared of the bulk clear: %+v", ev)
	}
}

// Issue 14, bug 9: the penalty a failed login earns is told after that
// failure, in the event stream and in the log; it used to come first,
// told while the failure was being answered.
func TestPenaltyFollowsItsFailure(t *testing.T) {
	e := newEnv(t, []account{alice}, quickPenalties)
	events, err := e.control().Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := e.dialFrom("127.0.0.3")
	for range 2 {
		c.OK("USER mallory")
		c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
	}
	var kinds []string
	for len(kinds) < 3 {
		select {
		case ev := <-events:
			if ev.Type == event.SessionOpened {
				continue
			}
			k := string(ev.Type)
			if ev.Type == event.Penalty {
				k += fmt.Sprintf(" %d", ev.Count)
			}
			kinds = append(kinds, k)
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far: %q", kinds)
		}
	}
	if want := []string{"login.failed", "login.failed", "penalty 2"}; !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q", kinds, want)
	}

	var lines []string
	for _, l := range strings.Split(e.log.String(), "\n") {
		switch {
		case strings.Contains(l, `msg="auth failed"`) && strings.Contains(l, "remote=127.0.0.3:"):
			lines = append(lines, "auth failed")
		case strings.Contains(l, `msg="login penalty" source=127.0.0.3/32`):
			lines = append(lines, "login penalty")
		}
	}
	if want := []string{"auth failed", "auth failed", "login penalty"}; !slices.Equal(lines, want) {
		t.Errorf("log lines %q, want %q:\n%s", lines, want, e.log)
	}
}
