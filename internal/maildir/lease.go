package maildir

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// errLockLost means our lock file was removed or replaced: an administrator
// broke it, or another session found it stale (this process was paused, or
// its storage unreachable, for longer than the stale time) and took it.
var errLockLost = errors.New("maildir: lock file removed or replaced by someone else")

// ErrLockLost is returned by Update, wrapped, when the session no longer
// holds the maildrop's lock: nothing was changed. The POP3 answer to QUIT is
// "-ERR [SYS/TEMP]"; the client tries again later and finds its messages.
var ErrLockLost = errLockLost

// lockFile is a lock held by this Mailbox: the lock file, kept open, and
// the lease it gives (see the package documentation).
type lockFile struct {
	t       *tree
	f       *regFile // the lock file, whatever its name is now
	dev     uint64
	ino     uint64
	content []byte
	stale   time.Duration
	log     *slog.Logger
	// taken is the lock file's ctime when it was taken (ns): the file
	// system's clock then, which may not be this host's (NFS).
	taken int64

	mu sync.Mutex // serialises the refresher, Update's checks and release
	// refreshed is when the last successful refresh began, with its
	// monotonic clock reading: the file's mtime is at least this.
	refreshed time.Time
	lost      atomic.Bool
	every     time.Duration // how often the refresher refreshes it
	released  bool          // by release; the refresher leaves it be
}

// newLockFile completes taking the lock: f is the lock file, already under
// the lock's name, its mtime set at start; the holder's data go in place.
func newLockFile(t *tree, f *regFile, content []byte, start time.Time, opt Options) (*lockFile, error) {
	var st unix.Stat_t
	err := unix.Fstat(int(f.Fd()), &st)
	if err == nil {
		_, err = f.WriteAt(pad(content), 0)
	}
	if err != nil {
		f.Close()
		unix.Unlinkat(t.root, lockName, 0)
		return nil, err
	}
	return &lockFile{t: t, f: f, dev: uint64(st.Dev), ino: uint64(st.Ino), content: content,
		stale: opt.StaleLock, log: opt.Logger, refreshed: start, taken: st.Ctim.Nano()}, nil
}

// ours reports whether the lock file is still the one we hold: the lock's
// name leads to our file, and our file still says we hold it (a lock broken
// as stale is recycled as the spare and may be taken again by another
// session: same file, other content). l.mu is held.
func (l *lockFile) ours() error {
	var st unix.Stat_t
	err := unix.Fstatat(l.t.root, lockName, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT || err == nil && (uint64(st.Dev) != l.dev || uint64(st.Ino) != l.ino) {
		return errLockLost
	}
	if err != nil {
		return err
	}
	bp := lockBufs.Get().(*[lockSize + 1]byte)
	defer lockBufs.Put(bp)
	buf := bp[:]
	n, err := l.f.ReadAt(buf, 0)
	if err != nil && n != lockSize {
		return err
	}
	if !l.isContent(buf[:n]) {
		return errLockLost
	}
	return nil
}

// lockBufs recycles the buffers a lock file is read into: thousands of
// sessions refresh their locks every minute.
var lockBufs = sync.Pool{New: func() any { return new([lockSize + 1]byte) }}

// isContent reports whether b is our lock file's content: ours, then the
// newlines that pad it to lockSize. (Only the unpadded content is kept:
// a held lock costs an idle session less.)
func (l *lockFile) isContent(b []byte) bool {
	if len(b) != lockSize || !bytes.HasPrefix(b, l.content) {
		return false
	}
	for _, c := range b[len(l.content):] {
		if c != '\n' {
			return false
		}
	}
	return true
}

// refresh checks that the lock is still ours and sets its mtime, which
// tells others that its holder is live. l.mu is held.
func (l *lockFile) refresh() error {
	if l.lost.Load() {
		return errLockLost
	}
	start := time.Now()
	err := l.ours()
	if err == nil {
		err = futimens(int(l.f.Fd()), start)
	}
	switch {
	case errors.Is(err, errLockLost):
		l.lost.Store(true)
		l.log.Warn("maildir: lock lost; another session may use the maildrop", "dir", l.t.path)
	case err == nil:
		l.refreshed = start
	}
	return err
}

// The lease. Another process breaks our lock only when its mtime is older
// than the stale time S, as that process's clock sees it. Our mtime is at
// least l.refreshed (it is set to the time read before the refresh began).
// We take an UPDATE step only when, just before it, the lease is younger
// than S/2 and was verified on disk (token and file) at most leaseCheck ago.
// So between our check and the step there are at least S/2 - leaseCheck
// (2 min 29 s with the default S of 5 min) before anyone may take the lock
// over: a pause of this process between check and unlink (SIGSTOP, a VM
// stopped, swapping) shorter than that, plus the clock difference between
// hosts sharing the maildirs, is covered. A longer pause is not, and cannot
// be by any lock on shared storage that must also recover from crashed
// holders; keep the hosts' clocks in sync (NTP) and S well above the
// longest pause you expect.
const leaseCheck = time.Second

// hold is called before each UPDATE step: it fails with an error wrapping
// ErrLockLost unless the lease still holds (see above), verifying it on
// disk and extending it when the last verification is older than
// leaseCheck.
func (l *lockFile) hold() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost.Load() {
		return errLockLost
	}
	if time.Since(l.refreshed) > leaseCheck {
		if err := l.refresh(); err != nil {
			return fmt.Errorf("%w (%v)", ErrLockLost, err)
		}
	}
	if time.Since(l.refreshed) >= l.stale/2 {
		return fmt.Errorf("%w (lease expired)", ErrLockLost)
	}
	return nil
}

// startRefresh has the lock refreshed every interval until release, by
// the refresher that all the locks of this process share.
func (l *lockFile) startRefresh(every time.Duration) {
	l.every = every
	refresher.add(l, time.Now().Add(every))
}

// refresher refreshes the held locks of this process from one goroutine,
// each at its own interval (a heap by due time). One goroutine and one
// ticker per session would cost several KB per idle session. The
// goroutine ends when no lock is held. Refreshes are done one at a time: a
// slow file system delays them all, which only makes leases run short (and
// an UPDATE refuse), never lets a lock go stale unseen.
var refresher = &lockRefresher{wake: make(chan struct{}, 1)}

type lockRefresher struct {
	mu      sync.Mutex
	due     dueHeap
	held    int // locks added and not yet removed
	running bool
	wake    chan struct{}
}

func (r *lockRefresher) add(l *lockFile, at time.Time) {
	r.mu.Lock()
	heap.Push(&r.due, dueLock{l, at})
	r.held++
	if !r.running {
		r.running = true
		go r.run()
	}
	r.mu.Unlock()
	r.poke()
}

// remove is called by release; the heap entry goes when it comes due.
func (r *lockRefresher) remove() {
	r.mu.Lock()
	r.held--
	r.mu.Unlock()
	r.poke()
}

func (r *lockRefresher) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *lockRefresher) run() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		if r.held == 0 {
			r.due = nil
			r.running = false
			r.mu.Unlock()
			return
		}
		now := time.Now()
		var todo []*lockFile
		for len(r.due) > 0 && !r.due[0].at.After(now) {
			todo = append(todo, heap.Pop(&r.due).(dueLock).l)
		}
		wait := time.Hour
		if len(r.due) > 0 {
			wait = r.due[0].at.Sub(now)
		}
		r.mu.Unlock()
		for _, l := range todo {
			if l.refreshDue() {
				r.mu.Lock()
				heap.Push(&r.due, dueLock{l, time.Now().Add(l.every)})
				r.mu.Unlock()
				wait = 0 // look again at once: the heap changed
			}
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-r.wake:
				if !timer.Stop() {
					<-timer.C
				}
			}
		}
	}
}

// refreshDue is a refresh by the refresher; it reports whether the lock
// is to be refreshed again.
func (l *lockFile) refreshDue() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return false
	}
	err := l.refresh()
	if errors.Is(err, errLockLost) {
		return false
	}
	if err != nil {
		l.log.Warn("maildir: refreshing lock", "dir", l.t.path, "err", err)
	}
	return true
}

type dueLock struct {
	l  *lockFile
	at time.Time
}

type dueHeap []dueLock

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueLock)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// release stops the refresher and gives the lock up, if it is still ours:
// the lock file is renamed to a name of its own first, so that a lock taken
// by someone else in between is never what gets removed; ours becomes the
// spare for the next session.
func (l *lockFile) release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.every > 0 && !l.released {
		refresher.remove()
	}
	l.released = true
	defer l.f.Close()
	root := l.t.root
	tmp := ".popd.lock.release." + randomHex(8)
	if err := unix.Renameat(root, lockName, root, tmp); err != nil {
		if err == unix.ENOENT {
			l.log.Warn("maildir: lock was lost before release", "dir", l.t.path)
			return nil
		}
		return fmt.Errorf("maildir: releasing lock: %w", err)
	}
	var st unix.Stat_t
	if unix.Fstatat(root, tmp, &st, unix.AT_SYMLINK_NOFOLLOW) == nil &&
		uint64(st.Dev) == l.dev && uint64(st.Ino) == l.ino {
		bp := lockBufs.Get().(*[lockSize + 1]byte)
		defer lockBufs.Put(bp)
		if n, _ := l.f.ReadAt(bp[:lockSize], 0); l.isContent(bp[:n]) {
			recycleFile(root, tmp, l.f) // tmp is our file, open for writing
			return nil
		}
	}
	// Someone else's: put it back.
	l.log.Warn("maildir: lock was lost before release; leaving the other holder's lock", "dir", l.t.path)
	if err := renameNoReplace(root, tmp, root, lockName); err != nil {
		unix.Unlinkat(root, tmp, 0)
	}
	return nil
}
