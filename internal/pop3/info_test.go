package pop3_test

import (
	"sync/atomic"
	"testing"

	"popd/internal/pop3"
	"popd/internal/pop3/pop3test"
)

// TestOnChange: a session tells Config.OnChange that its Info changed
// once, then not again until TakeChange; a new session counts as changed
// (its maker lists it) without being told.
func TestOnChange(t *testing.T) {
	cfg := newConfig(t, newBackend())
	var told atomic.Int32
	cfg.OnChange = func(*pop3.Session) { told.Add(1) }
	c := pop3test.Start(t, cfg)
	if n := told.Load(); n != 0 {
		t.Fatalf("a new session told %d times", n)
	}
	if in := c.Session.TakeChange(); in.State != pop3.StateAuthorization {
		t.Fatalf("first: %+v", in)
	}
	c.Do("USER alice", sendPass)
	c.Do("PASS correct horse", locked3)
	if n := told.Load(); n != 1 {
		t.Fatalf("USER and PASS told %d times", n)
	}
	in := c.Session.TakeChange()
	if in.User != "alice" || in.State != pop3.StateTransaction || in.LastCommand != "PASS" {
		t.Fatalf("after PASS: %+v", in)
	}
	c.Do("RETR 1", multi("+OK 19 octets", "Subject: 1", "", "one"))
	if n := told.Load(); n != 2 {
		t.Fatalf("RETR told %d times", n)
	}
	if in := c.Session.TakeChange(); in.Retrieved != 1 || in.Octets != 19 || in.LastCommand != "RETR" {
		t.Fatalf("after RETR: %+v", in)
	}
}
