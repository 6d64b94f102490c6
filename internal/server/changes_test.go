package server

import (
	"testing"
	"time"

	"popd/internal/pop3"
	"popd/internal/testutil"
)

// takeChanges is TakeChanges by session id.
func takeChanges(s *Server) map[string]Change {
	out := map[string]Change{}
	for _, c := range s.TakeChanges() {
		out[c.ID] = c
	}
	return out
}

// TestTakeChanges: a new session is a change (its first); a session that
// did several things is one change, as it is now; one that did nothing is
// none; one that ended is left out.
func TestTakeChanges(t *testing.T) {
	alice := account{"alice", "alice pw", "PLAIN"}
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: hi\n\nhello\n")
	c := e.login(alice)
	idle := e.dial() // stays in AUTHORIZATION, silent

	got := takeChanges(e.srv)
	if len(got) != 2 {
		t.Fatalf("first changes: %+v", got)
	}
	var a Change
	for _, ch := range got {
		if !ch.First {
			t.Errorf("a new session's change is not its first: %+v", ch)
		}
		if ch.User == "alice" {
			a = ch
		}
	}
	if a.State != pop3.StateTransaction || a.LastCommand != "PASS" {
		t.Fatalf("alice: %+v", a)
	}
	if got := takeChanges(e.srv); len(got) != 0 {
		t.Fatalf("nothing happened, yet changes: %+v", got)
	}

	c.OK("NOOP")
	c.OK("RETR 1")
	c.Multi()
	c.OK("STAT")
	got = takeChanges(e.srv)
	if ch, ok := got[a.ID]; len(got) != 1 || !ok || ch.First || ch.LastCommand != "STAT" || ch.Retrieved != 1 || ch.Octets == 0 {
		t.Fatalf("after NOOP, RETR, STAT: %+v", got)
	}

	c.OK("QUIT")
	if !c.Closed(5 * time.Second) {
		t.Fatal("not closed after QUIT")
	}
	testutil.Eventually(t, 5*time.Second, "alice's session gone", func() bool { return e.srv.SessionCount() == 1 })
	if got := takeChanges(e.srv); len(got) != 0 {
		t.Fatalf("an ended session's changes: %+v", got)
	}
	idle.OK("CAPA")
	idle.Multi()
	if got := e.srv.TakeChanges(); len(got) != 1 || got[0].LastCommand != "CAPA" {
		t.Fatalf("the silent session's CAPA: %+v", got)
	}
}

// TestNoChangesUntracked: without Options.TrackChanges nothing is kept.
func TestNoChangesUntracked(t *testing.T) {
	e := newEnv(t, nil, nil)
	srv, err := New(e.cfg, Options{Users: e.users, Logger: testutil.Log(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.TakeChanges(); got != nil {
		t.Fatalf("changes %+v", got)
	}
}
