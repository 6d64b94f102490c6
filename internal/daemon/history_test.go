package daemon

import (
	"context"
	"testing"
	"time"

	"popd/internal/control"
)

// TestControlHistory: a client that connects after the fact gets the
// minutes popd counted: the logins, the failed one, the bytes of a RETR
// and the sessions open, in the buckets of the minutes they happened in.
func TestControlHistory(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	body := "Subject: history\n\n" + string(make([]byte, 5000))
	e.deliver("alice", body)
	start := time.Now()

	c1 := e.login(alice)
	c1.OK("RETR 1")
	c1.Multi()
	c1.OK("QUIT")
	bad := e.dial()
	bad.OK("USER alice")
	bad.Send("PASS wrong")
	bad.Expect("-ERR [AUTH]")
	c2 := e.login(alice) // still open when the history is asked for
	other := e.dial()    // and one not logged in
	_ = other

	// A fresh client, as a console that has just opened.
	ms, err := e.control().History(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || len(ms) > control.HistoryMinutes {
		t.Fatalf("%d minutes", len(ms))
	}
	for i := 1; i < len(ms); i++ {
		if d := ms[i].Start.Sub(ms[i-1].Start); d != time.Minute {
			t.Fatalf("minutes %d and %d are %v apart: %+v", i-1, i, d, ms)
		}
	}
	cur := ms[len(ms)-1]
	if now := time.Now(); cur.Start.After(now) || now.Sub(cur.Start) >= time.Minute {
		t.Fatalf("the last minute starts at %v, now is %v", cur.Start, now)
	}
	// The test may straddle a minute: count every minute since it began.
	var sum control.Minute
	for _, m := range ms {
		if !m.Start.Before(start.Truncate(time.Minute)) {
			sum.Logins += m.Logins
			sum.Failures += m.Failures
			sum.BytesSent += m.BytesSent
			sum.Sessions = max(sum.Sessions, m.Sessions)
		}
	}
	if sum.Logins != 2 || sum.Failures != 1 {
		t.Fatalf("logins %d, failures %d; want 2, 1: %+v", sum.Logins, sum.Failures, ms)
	}
	if sum.BytesSent < int64(len(body)) {
		t.Fatalf("bytes sent %d, want at least %d", sum.BytesSent, len(body))
	}
	if cur.Sessions < 2 {
		t.Fatalf("sessions in the current minute %d, want at least 2 (open now)", cur.Sessions)
	}
	c2.OK("QUIT")
}

// TestHistoryMinutes: the ring keeps an hour; older buckets are emptied as
// their slot comes round again, the minutes before popd started are left
// out, and minutes without activity are there with zeros.
func TestHistoryMinutes(t *testing.T) {
	var h history
	t0 := time.Date(2025, 3, 14, 12, 0, 30, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

	h.sample(at(0), 3, 1000) // the first sample sets the base
	h.login(at(0), false)
	h.login(at(0), true)
	h.sample(at(0).Add(10*time.Second), 5, 1500)
	h.sample(at(2), 1, 4000)
	ms := h.minutes(at(2), at(0))
	if len(ms) != 3 {
		t.Fatalf("%d minutes: %+v", len(ms), ms)
	}
	want := []control.Minute{
		{Start: at(0).Truncate(time.Minute), Sessions: 5, Logins: 1, Failures: 1, BytesSent: 500},
		{Start: at(1).Truncate(time.Minute)},
		{Start: at(2).Truncate(time.Minute), Sessions: 1, BytesSent: 2500},
	}
	for i := range want {
		if !ms[i].Start.Equal(want[i].Start) || ms[i].Sessions != want[i].Sessions || ms[i].Logins != want[i].Logins ||
			ms[i].Failures != want[i].Failures || ms[i].BytesSent != want[i].BytesSent {
			t.Errorf("minute %d: %+v, want %+v", i, ms[i], want[i])
		}
	}

	// An hour later minute 0's slot holds minute 60: minute 0 is gone.
	h.login(at(60), false)
	ms = h.minutes(at(60), at(0))
	if len(ms) != control.HistoryMinutes || !ms[0].Start.Equal(at(1).Truncate(time.Minute)) {
		t.Fatalf("%d minutes from %v", len(ms), ms[0].Start)
	}
	if last := ms[len(ms)-1]; last.Logins != 1 || last.Failures != 0 || last.Sessions != 0 {
		t.Fatalf("minute 60 kept minute 0's counts: %+v", last)
	}
	// A popd that restarted octets at 0 counts nothing negative.
	h.sample(at(60), 0, 10)
	if ms = h.minutes(at(60), at(0)); ms[len(ms)-1].BytesSent != 0 {
		t.Fatalf("bytes after a smaller count: %+v", ms[len(ms)-1])
	}
}
