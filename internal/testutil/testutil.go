// Package testutil holds what tests of several packages need alike: a
// logger that writes to the test's log (so a failing test shows the
// server's side), a buffer safe to write and read from two goroutines, and
// a poll for a condition that comes true in the background. Only tests
// import it.
package testutil

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/event"
)

// Logger returns a debug-level logger that writes to t.Log, and the buffer
// that also keeps every line, for tests that check what was logged.
// Fuzzers and benchmarks get a discarding logger: they run millions of
// sessions.
func Logger(t testing.TB) (*slog.Logger, *Buffer) {
	b := &Buffer{}
	switch t.(type) {
	case *testing.F, *testing.B:
		return slog.New(slog.DiscardHandler), b
	}
	w := &logWriter{t: t, b: b}
	// A server's goroutine may log after the test has ended, when t.Log
	// would panic: those lines are dropped.
	t.Cleanup(func() {
		w.mu.Lock()
		w.over = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// Log is Logger without the buffer.
func Log(t testing.TB) *slog.Logger {
	l, _ := Logger(t)
	return l
}

type logWriter struct {
	t    testing.TB
	b    *Buffer
	mu   sync.Mutex
	over bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if !w.over {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	w.mu.Unlock()
	return w.b.Write(p)
}

// Buffer is a strings.Builder safe for a writing goroutine and a reading
// test.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Eventually polls cond every 10 ms until it holds, and fails the test
// with what if it still does not after d.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// NextEvent waits up to d for an event of kind k on ch, skipping others.
func NextEvent(t testing.TB, ch <-chan event.Event, k event.Kind, d time.Duration) event.Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream ended waiting for %s", k)
			}
			if ev.Type == k {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within %v", k, d)
		}
	}
}
