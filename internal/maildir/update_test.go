package maildir_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/maildir"
)

func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "del\n")
	deliver(t, dir, "new", "2.M1P1.h", "retrieved\n")
	deliver(t, dir, "new", "3.M1P1.h", "untouched\n")
	deliver(t, dir, "cur", "4.M1P1.h:2,", "cur retrieved\n")
	deliver(t, dir, "cur", "5.M1P1.h:2,S", "cur seen\n")
	deliver(t, dir, "cur", "6.M1P1.h:2,T", "cur flagged retrieved\n")
	deliver(t, dir, "cur", "7.M1P1.h:2,R", "cur not retrieved\n")
	deliver(t, dir, "new", "8.M1P1.h:2,F", "new with flags\n")
	deliver(t, dir, "cur", "9.M1P1.h:2,S", "del from cur\n")
	deliver(t, dir, "new", "10.M1P1.h:1,x", "experimental info\n")
	m := open(t, dir)
	if m.Count() != 10 {
		t.Fatalf("Count = %d", m.Count())
	}
	// Delivered after Open: never touched.
	deliver(t, dir, "new", "0.M1P1.late", "late\n")

	if err := m.Update([]int{0, 8, 0}, []int{1, 3, 5, 7, 0}); err != nil {
		t.Fatal(err)
	}
	wantNew := []string{"0.M1P1.late"}
	wantCur := []string{"10.M1P1.h:1,x", "2.M1P1.h:2,S", "3.M1P1.h:2,", "4.M1P1.h:2,S", "5.M1P1.h:2,S",
		"6.M1P1.h:2,ST", "7.M1P1.h:2,R", "8.M1P1.h:2,FS"}
	if got := ls(t, dir, "new"); !slices.Equal(got, wantNew) {
		t.Errorf("new/ = %q, want %q", got, wantNew)
	}
	if got := ls(t, dir, "cur"); !slices.Equal(got, wantCur) {
		t.Errorf("cur/ = %q, want %q", got, wantCur)
	}
	// The lock is still held until Close.
	if _, err := openOpt(t, dir, maildir.Options{}); !errors.Is(err, maildir.ErrLocked) {
		t.Error("Update released the lock")
	}
}

// TestUpdateNoOverwrite: a move whose target exists is skipped.
func TestUpdateNoOverwrite(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "in new\n")
	deliver(t, dir, "cur", "2.M1P1.h:2,", "cur\n")
	m := open(t, dir)
	// Someone else puts files where ours would go.
	deliver(t, dir, "cur", "1.M1P1.h:2,S", "theirs\n")
	deliver(t, dir, "cur", "2.M1P1.h:2,S", "theirs too\n")
	if err := m.Update(nil, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ path, content string }{
		{"new/1.M1P1.h", "in new\n"},
		{"cur/1.M1P1.h:2,S", "theirs\n"},
		{"cur/2.M1P1.h:2,", "cur\n"},
		{"cur/2.M1P1.h:2,S", "theirs too\n"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, f.path))
		if err != nil || string(b) != f.content {
			t.Errorf("%s: %q, %v; want %q", f.path, b, err, f.content)
		}
	}
}

// TestUpdateVanished: deleting a message that is already gone is fine; a
// deletion that fails does not stop the others and is reported.
func TestUpdateVanished(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "a\n")
	deliver(t, dir, "new", "2.M1P1.h", "b\n")
	deliver(t, dir, "cur", "3.M1P1.h:2,S", "c\n")
	deliver(t, dir, "new", "4.M1P1.h", "d\n")
	m := open(t, dir)
	os.Remove(filepath.Join(dir, "new", "1.M1P1.h"))
	os.Remove(filepath.Join(dir, "new", "4.M1P1.h"))
	if err := m.Update([]int{0}, []int{3}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	m.Close()

	// An unlink that fails: the file replaced by a non-empty directory.
	m = open(t, dir)
	p := filepath.Join(dir, "cur", "2.M1P1.h:2,")
	os.Remove(p)
	os.MkdirAll(filepath.Join(p, "x"), 0o700)
	err := m.Update([]int{0, 1}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "maildir: 1 of the deleted messages not removed") {
		t.Fatalf("Update: %v", err)
	}
	if got := ls(t, dir, "cur"); !slices.Equal(got, []string{"2.M1P1.h:2,"}) {
		t.Errorf("cur/ = %q", got)
	}
}

// TestMovesAfterUpdate: with many messages to move new/ -> cur/, Update
// does the deletions (durably) and leaves the moves to Close, so the
// client's +OK does not wait for them (issue 11: the first QUIT on a large
// maildrop); Close does them before it releases the lock.
func TestMovesAfterUpdate(t *testing.T) {
	dir := t.TempDir()
	const n = 600
	for i := range n {
		deliver(t, dir, "new", fmt.Sprintf("%d.M%dP1.h", 1700000000+i, i), "x\n")
	}
	m := open(t, dir)
	if err := m.Update([]int{0, 1}, []int{2}); err != nil {
		t.Fatal(err)
	}
	if got := len(ls(t, dir, "new")); got != n-2 {
		t.Fatalf("after Update: %d in new/, want %d (deletions done, moves not yet)", got, n-2)
	}
	if _, locked, _ := maildir.ReadLock(dir); !locked {
		t.Fatal("the lock is not held while moves are pending")
	}
	m.Close()
	if got, cur := len(ls(t, dir, "new")), ls(t, dir, "cur"); got != 0 || len(cur) != n-2 {
		t.Fatalf("after Close: %d in new/, %d in cur/", got, len(cur))
	}
	if !slices.Contains(ls(t, dir, "cur"), fmt.Sprintf("%d.M2P1.h:2,S", 1700000002)) {
		t.Error("the retrieved message is not flagged S")
	}
}

// TestOpenWaitsForMovesAfterQuit: a client that logs in again right after
// its QUIT finds its maildrop locked by its own session's moves. Open waits
// for them instead of failing with ErrLocked, and then finds every message
// in cur/.
func TestOpenWaitsForMovesAfterQuit(t *testing.T) {
	dir := t.TempDir()
	const n = 600
	for i := range n {
		deliver(t, dir, "new", fmt.Sprintf("%d.M%dP1.h", 1700000000+i, i), "x\n")
	}
	m := open(t, dir)
	if err := m.Update([]int{0}, nil); err != nil {
		t.Fatal(err)
	}
	type result struct {
		m   *maildir.Mailbox
		err error
	}
	again := make(chan result, 1)
	waited := make(chan time.Duration, 2)
	go func() {
		m2, err := maildir.Open(dir, maildir.Options{LockWaited: func(d time.Duration) { waited <- d }})
		again <- result{m2, err}
	}()
	select {
	case r := <-again:
		t.Fatalf("Open returned while the first session still held the lock: %v", r.err)
	case <-time.After(100 * time.Millisecond):
	}
	m.Close()
	r := <-again
	if r.err != nil {
		t.Fatalf("Open after the moves: %v", r.err)
	}
	defer r.m.Close()
	if r.m.Count() != n-1 || len(ls(t, dir, "new")) != 0 {
		t.Errorf("second session: %d messages, %d still in new/", r.m.Count(), len(ls(t, dir, "new")))
	}
	// The wait is told, once (the metrics' popd_lock_wait_seconds).
	if len(waited) != 1 {
		t.Fatalf("LockWaited called %d times, want once", len(waited))
	}
	if d := <-waited; d < 100*time.Millisecond {
		t.Errorf("LockWaited(%v), want at least the 100 ms the lock was held", d)
	}
	// A maildrop locked by a session that is not finishing a QUIT is
	// refused at once, as before, and that is no wait.
	if _, err := maildir.Open(dir, maildir.Options{LockWaited: func(d time.Duration) { waited <- d }}); !errors.Is(err, maildir.ErrLocked) {
		t.Errorf("Open of a maildrop in use: %v, want ErrLocked", err)
	}
	if len(waited) != 0 {
		t.Error("LockWaited called for a refusal")
	}
}
