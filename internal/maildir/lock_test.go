package maildir_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"popd/internal/maildir"
	"popd/internal/testutil"
)

func openOpt(t testing.TB, dir string, opt maildir.Options) (*maildir.Mailbox, error) {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = testutil.Log(t)
	}
	m, err := maildir.Open(dir, opt)
	if err == nil {
		t.Cleanup(func() { m.Close() })
	}
	return m, err
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	m1, err := openOpt(t, dir, maildir.Options{Owner: "session one"})
	if err != nil {
		t.Fatal(err)
	}
	info, ok, err := maildir.ReadLock(dir)
	if err != nil || !ok {
		t.Fatalf("ReadLock = %v, %v", ok, err)
	}
	if info.Owner != "session one" || info.Host != maildir.ThisHost() || info.PID != os.Getpid() ||
		time.Since(info.Since) > time.Minute || time.Since(info.Refreshed) > time.Minute {
		t.Errorf("ReadLock = %+v", info)
	}
	// Our own process, live: locked.
	if _, err := openOpt(t, dir, maildir.Options{}); !errors.Is(err, maildir.ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := maildir.ReadLock(dir); ok {
		t.Fatal("Close left the lock")
	}
	if _, err := openOpt(t, dir, maildir.Options{}); err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
}

func TestLockOwnerText(t *testing.T) {
	dir := t.TempDir()
	if _, err := openOpt(t, dir, maildir.Options{Owner: "evil\nhost: forged"}); err != nil {
		t.Fatal(err)
	}
	info, _, _ := maildir.ReadLock(dir)
	if info.Host != maildir.ThisHost() || info.Owner != "evil?host: forged" {
		t.Errorf("ReadLock = %+v", info)
	}
}

func TestLockStale(t *testing.T) {
	dead := deadPID(t)
	old := time.Now().Add(-time.Hour)
	cases := []struct {
		name   string
		host   string
		pid    int
		mtime  time.Time
		locked bool
	}{
		{"other host, fresh", "elsewhere.example", 4242, time.Now(), true},
		{"other host, not refreshed", "elsewhere.example", 4242, old, false},
		{"this host, live pid", maildir.ThisHost(), os.Getpid(), time.Now(), true},
		{"this host, live pid, not refreshed", maildir.ThisHost(), os.Getpid(), old, false},
		{"this host, dead pid", maildir.ThisHost(), dead, time.Now(), false},
		{"other host, same pid as a dead one here", "elsewhere.example", dead, time.Now(), true},
		{"empty file, fresh", "", 0, time.Now(), true},
		{"empty file, not refreshed", "", 0, old, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			makeMaildir(t, dir)
			path := filepath.Join(dir, maildir.LockName)
			if tc.host == "" {
				os.WriteFile(path, nil, 0o600)
			} else if err := maildir.WriteLock(path, tc.host, tc.pid, "other"); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(path, tc.mtime, tc.mtime)
			broken := 0
			_, err := openOpt(t, dir, maildir.Options{StaleLock: time.Minute, Owner: "me", StaleLockBroken: func() { broken++ }})
			if tc.locked {
				if !errors.Is(err, maildir.ErrLocked) {
					t.Fatalf("Open: %v, want ErrLocked", err)
				}
				if broken != 0 {
					t.Errorf("StaleLockBroken called %d times for a live lock", broken)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if broken != 1 {
				t.Errorf("StaleLockBroken called %d times, want once", broken)
			}
			if info, _, _ := maildir.ReadLock(dir); info.Owner != "me" {
				t.Errorf("lock is %+v", info)
			}
			if ents, _ := filepath.Glob(filepath.Join(dir, ".popd.lock*")); len(ents) != 0 {
				t.Errorf("left behind: %q", ents)
			}
		})
	}
}

func makeMaildir(t testing.TB, dir string) {
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
}

// deadPID is the pid of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestLockRefresh(t *testing.T) {
	dir := t.TempDir()
	opt := maildir.Options{StaleLock: 400 * time.Millisecond, RefreshLock: 20 * time.Millisecond}
	if _, err := openOpt(t, dir, opt); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, maildir.LockName)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
	time.Sleep(600 * time.Millisecond)
	info, _, _ := maildir.ReadLock(dir)
	if time.Since(info.Refreshed) > 300*time.Millisecond {
		t.Errorf("not refreshed: %v ago", time.Since(info.Refreshed))
	}
	// Older than StaleLock since Open, but refreshed: still locked, even for
	// another host's view (same host would see our live pid anyway).
	if _, err := openOpt(t, dir, opt); !errors.Is(err, maildir.ErrLocked) {
		t.Errorf("Open: %v, want ErrLocked", err)
	}
}

// TestLockBrokenAndRetaken: an administrator breaks the lock of a live
// session and another session takes it; the first session notices, and its
// Close leaves the new lock alone.
func TestLockBrokenAndRetaken(t *testing.T) {
	dir := t.TempDir()
	m1, err := openOpt(t, dir, maildir.Options{Owner: "first", RefreshLock: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := maildir.BreakLock(dir); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := maildir.ReadLock(dir); ok {
		t.Fatal("BreakLock left the lock")
	}
	if err := maildir.BreakLock(dir); err != nil {
		t.Errorf("BreakLock without a lock: %v", err)
	}
	m2, err := openOpt(t, dir, maildir.Options{Owner: "second"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !maildir.LockLost(m1); {
		if time.Now().After(deadline) {
			t.Fatal("the first session did not notice")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	if info, ok, _ := maildir.ReadLock(dir); !ok || info.Owner != "second" {
		t.Fatalf("after the first Close: %+v %v", info, ok)
	}
	m2.Close()
	if _, ok, _ := maildir.ReadLock(dir); ok {
		t.Fatal("lock left after the second Close")
	}
}
