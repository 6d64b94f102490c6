package maildir_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"popd/internal/maildir"
	"popd/internal/testutil"
)

// TestUnlockedSessionDoesNotUpdate: an administrator unlocks the maildrop
// (through any node); the session that held the lock deletes nothing at
// QUIT. On bed2491 its UPDATE went ahead.
func TestUnlockedSessionDoesNotUpdate(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "a\n")
	m := open(t, dir)
	if err := maildir.BreakLock(dir); err != nil {
		t.Fatal(err)
	}
	if err := m.Update([]int{0}, nil); !errors.Is(err, maildir.ErrLockLost) {
		t.Errorf("Update = %v, want ErrLockLost", err)
	}
	if got := ls(t, dir, "new"); len(got) != 1 {
		t.Errorf("new/ = %q: deleted after the lock was lost", got)
	}
}

// TestPausedHolderDoesNotUpdate: the holder stopped refreshing for longer
// than the stale time (paused), another session broke the lock and took
// it; the first one's QUIT deletes nothing, and its Close leaves the new
// holder's lock alone.
func TestPausedHolderDoesNotUpdate(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "a\n")
	deliver(t, dir, "new", "2.M1P1.h", "b\n")
	opt := maildir.Options{StaleLock: time.Hour, Logger: testutil.Log(t), Owner: "A"}
	a, err := maildir.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	// A's last refresh, as others see it, was two hours ago.
	long := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(dir, maildir.LockName), long, long)
	opt.Owner = "B"
	b, err := maildir.Open(dir, opt)
	if err != nil {
		t.Fatalf("B could not break the stale lock: %v", err)
	}
	if err := a.Update([]int{0}, nil); !errors.Is(err, maildir.ErrLockLost) {
		t.Errorf("A's Update = %v, want ErrLockLost", err)
	}
	a.Close()
	if info, ok, _ := maildir.ReadLock(dir); !ok || info.Owner != "B" {
		t.Errorf("after A's Close the lock is %+v, %v; want B's", info, ok)
	}
	if err := b.Update([]int{1}, nil); err != nil {
		t.Errorf("B's Update: %v", err)
	}
	b.Close()
	if got := ls(t, dir, "new"); len(got) != 0 {
		t.Errorf("new/ = %q", got)
	}
	if got := ls(t, dir, "cur"); len(got) != 1 || !strings.HasPrefix(got[0], "1.M1P1.h") {
		t.Errorf("cur/ = %q, want only message 1 (A's DELE must not count)", got)
	}
}

// TestLockReused: the lock file is created once; later sessions rewrite it
// in place, so that taking the lock needs no free block.
func TestLockReused(t *testing.T) {
	dir := t.TempDir()
	m := open(t, dir)
	m.Close()
	var inodes []uint64
	for range 3 {
		m := open(t, dir)
		st, err := os.Stat(filepath.Join(dir, maildir.LockName))
		if err != nil {
			t.Fatal(err)
		}
		inodes = append(inodes, st.Sys().(*syscall.Stat_t).Ino)
		m.Close()
	}
	if inodes[0] != inodes[1] || inodes[1] != inodes[2] {
		t.Errorf("lock file inodes %v: a new file each session", inodes)
	}
	if _, _, err := maildir.ReadLock(dir); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := maildir.ReadLock(dir); ok {
		t.Error("released lock still reported")
	}
}

// TestDiskFull: on a full file system a user can still log in and delete
// to make room; the failing cache write is logged once, not per session.
// On bed2491 the lock could not be taken (ENOSPC).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=512k"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := filepath.Join(mnt, "alice")
	for i := range 3 {
		deliver(t, dir, "new", "17000000"+string(rune('0'+i))+".M1P1.h", strings.Repeat("x", 20000)+"\n")
	}
	log, buf := testutil.Logger(t)
	session := func(dele []int) error {
		m, err := maildir.Open(dir, maildir.Options{Logger: log})
		if err != nil {
			return err
		}
		defer m.Close()
		m.TotalSize()
		return m.Update(dele, nil)
	}
	if err := session(nil); err != nil { // the first session ever makes the lock file
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, maildir.CacheName))
	fill, _ := os.Create(filepath.Join(mnt, "fill"))
	chunk := make([]byte, 4096)
	for {
		if _, err := fill.Write(chunk); err != nil {
			break
		}
	}
	fill.Close()
	for range 3 {
		if err := session(nil); err != nil {
			t.Fatalf("login on a full disk: %v", err)
		}
	}
	if err := session([]int{0, 1}); err != nil {
		t.Fatalf("DELE+QUIT on a full disk: %v", err)
	}
	if got := ls(t, dir, "cur"); len(got) != 1 {
		t.Errorf("cur/ = %q", got)
	}
	if n := strings.Count(buf.String(), "level=WARN msg=\"maildir: writing sizes cache"); n != 1 {
		t.Errorf("the cache write failure was logged %d times, want once:\n%s", n, buf)
	}
}
