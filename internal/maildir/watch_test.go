package maildir

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"popd/internal/testutil"
)

// watchSite is a mail root of maildrops for the delivery watcher.
type watchSite struct {
	t    *testing.T
	root string
}

// deliver puts a message into user's new/ the way an MTA does, making the
// maildrop if need be.
func (s watchSite) deliver(user, name string) {
	s.t.Helper()
	md := filepath.Join(s.root, user)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			s.t.Fatal(err)
		}
	}
	tmp := filepath.Join(md, "tmp", name)
	if err := os.WriteFile(tmp, []byte("Subject: x\n\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(md, "new", name)); err != nil {
		s.t.Fatal(err)
	}
}

// Past the inotify watch limit the watcher says so once, then finds
// deliveries by rescanning: each genuinely new message is told once, and
// the mail that was already there never. When watches can be added again
// it goes back to them, still without telling old mail.
func TestWatchPastInotifyLimit(t *testing.T) {
	s := watchSite{t, t.TempDir()}
	s.deliver("alice", "old1")
	s.deliver("bob", "old2")
	drops := map[string]string{}
	for _, u := range []string{"alice", "bob", "carol"} { // carol has no maildrop yet
		drops[filepath.Join(s.root, u)] = u
	}
	var full atomic.Bool // the inotify watch limit is reached
	full.Store(true)
	var listed atomic.Int64
	log, logged := testutil.Logger(t)
	events := make(chan string, 100)
	wt := &Watcher{
		Maildrops: func() map[string]string { listed.Add(1); return drops },
		Delivered: func(user, file string) { events <- user + "/" + file },
		Logger:    log,
		Rescan:    10 * time.Millisecond,
		Relist:    30 * time.Millisecond,
		addWatch: func(w *fsnotify.Watcher, dir string) error {
			if full.Load() {
				return fmt.Errorf("inotify_add_watch %s: %w", dir, syscall.ENOSPC)
			}
			return w.Add(dir)
		},
	}
	runWatcher(t, wt)
	// relists waits until the maildrops have been listed n more times.
	relists := func(n int64) {
		t.Helper()
		target := listed.Load() + n
		testutil.Eventually(t, 10*time.Second, "the watcher did not relist", func() bool { return listed.Load() >= target })
	}
	var got []string
	expect := func(want ...string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for !containsAll(got, want) {
			select {
			case e := <-events:
				got = append(got, e)
			case <-timeout:
				t.Fatalf("delivered %q, want %q among them", got, want)
			}
		}
	}

	relists(1) // the first listing is done
	s.deliver("alice", "new1")
	s.deliver("bob", "new2")
	s.deliver("carol", "first") // makes carol's maildrop
	expect("alice/new1", "bob/new2", "carol/first")
	relists(3) // adding watches keeps failing
	s.deliver("alice", "new3")
	expect("alice/new3")

	full.Store(false) // watches can be added again
	relists(2)
	s.deliver("bob", "new4")
	s.deliver("carol", "new5")
	relists(2)
	s.deliver("alice", "new6")
	expect("bob/new4", "carol/new5", "alice/new6")
	relists(2)
	for len(events) > 0 {
		got = append(got, <-events)
	}

	slices.Sort(got)
	want := []string{"alice/new1", "alice/new3", "alice/new6", "bob/new2", "bob/new4", "carol/first", "carol/new5"}
	if !slices.Equal(got, want) {
		t.Errorf("delivered %q, want each of %q once", got, want)
	}
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logged)
	}
}

// A maildrop that is watched from the start tells only new deliveries.
func TestWatchDeliveries(t *testing.T) {
	s := watchSite{t, t.TempDir()}
	s.deliver("alice", "old")
	var listed atomic.Int64
	events := make(chan string, 100)
	wt := &Watcher{
		Maildrops: func() map[string]string {
			listed.Add(1)
			return map[string]string{filepath.Join(s.root, "alice"): "alice"}
		},
		Delivered: func(user, file string) { events <- user + "/" + file },
		Logger:    testutil.Log(t),
		Rescan:    10 * time.Millisecond,
		Relist:    30 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go wt.Run(ctx)
	testutil.Eventually(t, 10*time.Second, "not listed", func() bool { return listed.Load() >= 2 })
	s.deliver("alice", "new")
	select {
	case e := <-events:
		if e != "alice/new" {
			t.Fatalf("delivered %q, want alice/new", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery told")
	}
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// TestWatchNoUserLinks: alice's new/ is a link to bob's; bob's deliveries
// must not be announced as alice's (nor her folder read through it).
func TestWatchNoUserLinks(t *testing.T) {
	s := watchSite{t, t.TempDir()}
	s.deliver("bob", "old")
	alice := filepath.Join(s.root, "alice")
	os.MkdirAll(filepath.Join(alice, "cur"), 0o700)
	os.Symlink(filepath.Join(s.root, "bob", "new"), filepath.Join(alice, "new"))
	events := make(chan string, 100)
	wt := &Watcher{
		Maildrops: func() map[string]string {
			return map[string]string{alice: "alice", filepath.Join(s.root, "bob"): "bob"}
		},
		Delivered: func(user, file string) { events <- user + "/" + file },
		Logger:    testutil.Log(t),
		Rescan:    10 * time.Millisecond,
		Relist:    30 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- wt.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// Deliver to bob until the watcher, once started, announces one; then
	// give a wrong announcement for alice time to show.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	var quiet <-chan time.Time
	for n := 0; ; {
		select {
		case ev := <-events:
			if strings.HasPrefix(ev, "alice/") {
				t.Fatalf("bob's delivery announced as %q", ev)
			}
			if quiet == nil {
				quiet = time.After(300 * time.Millisecond)
			}
		case <-tick.C:
			if quiet == nil {
				n++
				s.deliver("bob", fmt.Sprintf("new%d", n))
			}
		case <-quiet:
			return
		case <-deadline:
			t.Fatal("bob's deliveries were not announced")
		}
	}
}

// With Version, the maildrops are listed again only when it changes (an
// idle popd with thousands of users makes no garbage every Relist), while
// the folders it polls are still read every Relist and a user added (a new
// version) is watched.
func TestWatchListsOnlyWhenVersionChanges(t *testing.T) {
	s := watchSite{t, t.TempDir()}
	s.deliver("alice", "old1")
	s.deliver("bob", "old2")
	var mu sync.Mutex
	drops := map[string]string{filepath.Join(s.root, "alice"): "alice", filepath.Join(s.root, "bob"): "bob"}
	var version, listed, maintained atomic.Int64
	version.Store(1)
	events := make(chan string, 100)
	wt := &Watcher{
		Maildrops: func() map[string]string {
			listed.Add(1)
			mu.Lock()
			defer mu.Unlock()
			return maps.Clone(drops)
		},
		Version:   func() uint64 { maintained.Add(1); return uint64(version.Load()) },
		Delivered: func(user, file string) { events <- user + "/" + file },
		Logger:    testutil.Log(t),
		Rescan:    10 * time.Millisecond,
		Relist:    10 * time.Millisecond,
		addWatch: func(w *fsnotify.Watcher, dir string) error {
			if strings.Contains(dir, "bob") { // bob's folder is polled
				return fmt.Errorf("inotify_add_watch %s: %w", dir, syscall.ENOSPC)
			}
			return w.Add(dir)
		},
	}
	runWatcher(t, wt)
	expect := func(want string) {
		t.Helper()
		select {
		case e := <-events:
			if e != want {
				t.Fatalf("delivered %q, want %q", e, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q not delivered", want)
		}
	}
	testutil.Eventually(t, 10*time.Second, "no relists", func() bool { return maintained.Load() >= 10 })
	if n := listed.Load(); n != 1 {
		t.Fatalf("maildrops listed %d times over 10 relists of the same version, want 1", n)
	}
	s.deliver("alice", "new1") // watched
	expect("alice/new1")
	s.deliver("bob", "new2") // polled, by the relists that list nothing
	expect("bob/new2")

	mu.Lock()
	drops[filepath.Join(s.root, "carol")] = "carol"
	mu.Unlock()
	version.Add(1)
	testutil.Eventually(t, 10*time.Second, "not listed again", func() bool { return listed.Load() == 2 })
	s.deliver("carol", "first")
	expect("carol/first")
	if n := listed.Load(); n != 2 {
		t.Errorf("maildrops listed %d times, want 2", n)
	}
}

// runWatcher runs wt until the test ends, and checks that Run then
// returns nil.
func runWatcher(t *testing.T, wt *Watcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- wt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
