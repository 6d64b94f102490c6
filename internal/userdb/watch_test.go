package userdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"popd/internal/testutil"
)

const testPoll = 20 * time.Millisecond

// startWatch runs f.Watch until the test ends and waits for its first
// reload.
func startWatch(t *testing.T, f *File) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	testutil.Eventually(t, 2*time.Second, "no first reload", func() bool { return f.reads.Load() == 1 })
}

// blind makes f's inotify watch see nothing, as on NFS when another client
// writes the file.
func blind(f *File) {
	f.addWatch = func(*fsnotify.Watcher, string) error { return nil }
}

func has(f *File, name string) func() bool {
	return func() bool { _, ok := f.Lookup(name); return ok }
}

// settle waits several poll intervals and checks that f read its file n
// times in all.
func settle(t *testing.T, f *File, n int64) {
	t.Helper()
	time.Sleep(10 * testPoll)
	if got := f.reads.Load(); got != n {
		t.Fatalf("the file was read %d times, want %d", got, n)
	}
}

// Without inotify events the poll alone picks up edits, by rename and in
// place, each read once; an unchanged file is never read again.
func TestWatchPollOnly(t *testing.T) {
	f, _ := open(t, "alice:{PLAIN}a\n")
	f.PollInterval = testPoll
	blind(f)
	startWatch(t, f)
	settle(t, f, 1)

	replaceFile(t, f.Path(), "alice:{PLAIN}a\nbob:{PLAIN}b\n")
	testutil.Eventually(t, 2*time.Second, "bob not loaded after a rename", has(f, "bob"))
	settle(t, f, 2)

	if err := os.WriteFile(f.Path(), []byte("alice:{PLAIN}a\nbob:{PLAIN}b\ncarol:{PLAIN}c\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Second, "carol not loaded after an in-place write", has(f, "carol"))
	settle(t, f, 3)

	// Same size, mtime put back: only the ctime tells.
	fi, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path(), []byte("alice:{PLAIN}a\nbob:{PLAIN}b\ncarol:{PLAIN}x\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(f.Path(), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Second, "an in-place edit keeping size and mtime not loaded", func() bool {
		_, err := f.Verify("carol", "x")
		return err == nil
	})
	settle(t, f, 4)
}

// With both inotify and the poll, one change is read once.
func TestWatchPollAndInotifyReadOnce(t *testing.T) {
	f, _ := open(t, "alice:{PLAIN}a\n")
	f.PollInterval = testPoll
	startWatch(t, f)
	// The new file is written elsewhere, so that inotify hears of the
	// rename only.
	elsewhere := t.TempDir()
	n := int64(1)
	for i := range 5 {
		tmp := filepath.Join(elsewhere, "users")
		if err := os.WriteFile(tmp, fmt.Appendf(nil, "alice:{PLAIN}a\nu%d:{PLAIN}b\n", i), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.Path()); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 2*time.Second, "edit not loaded", has(f, fmt.Sprintf("u%d", i)))
		n++
		settle(t, f, n)
	}
}

// Where inotify cannot be set up, Watch warns and polls.
func TestWatchPollWithoutInotify(t *testing.T) {
	f, logged := open(t, "alice:{PLAIN}a\n")
	f.PollInterval = testPoll
	f.addWatch = func(_ *fsnotify.Watcher, dir string) error {
		return fmt.Errorf("inotify_add_watch %s: %w", dir, syscall.ENOSPC)
	}
	startWatch(t, f)
	replaceFile(t, f.Path(), "alice:{PLAIN}a\nbob:{PLAIN}b\n")
	testutil.Eventually(t, 2*time.Second, "bob not loaded", has(f, "bob"))
	if n := strings.Count(logged.String(), "polling the file only"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logged)
	}

	// Without the poll either, Watch cannot do its job and says so.
	g, _ := open(t, "alice:{PLAIN}a\n")
	g.PollInterval = -1
	g.addWatch = f.addWatch
	if err := g.Watch(t.Context()); err == nil {
		t.Error("Watch with neither inotify nor polling returned nil")
	}
}
