package control_test

import (
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/control/controltest"
)

// historian is a Daemon with a history.
type historian struct {
	*controltest.Daemon
	minutes []control.Minute
}

func (h historian) History() []control.Minute { return h.minutes }

func TestHistoryMethod(t *testing.T) {
	start := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	want := []control.Minute{
		{Start: start, Sessions: 4, Logins: 12, Failures: 1, BytesSent: 1 << 20},
		{Start: start.Add(time.Minute), Sessions: 2},
	}
	path, _ := serve(t, historian{controltest.NewDaemon(), want}, "", nil)
	got, err := dial(t, path).History(t.Context())
	if err != nil || len(got) != len(want) {
		t.Fatalf("History: %+v, %v", got, err)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Sessions != want[i].Sessions || got[i].Logins != want[i].Logins ||
			got[i].Failures != want[i].Failures || got[i].BytesSent != want[i].BytesSent {
			t.Errorf("minute %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	// A daemon that keeps no history answers none, not an error.
	path, _ = serve(t, controltest.NewDaemon(), "", nil)
	got, err = dial(t, path).History(t.Context())
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("History of a daemon without one: %#v, %v", got, err)
	}
}
