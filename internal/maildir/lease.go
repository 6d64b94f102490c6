package maildir

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	f       *os.File // the lock file, whatever its name is now
	dev     uint64
	ino     uint64
	content []byte
	stale   time.Duration
	log     *slog.Logger

	mu sync.Mutex // serialises the refresher, Update's checks and release
	// refreshed is when the last successful refresh began, with its
	// monotonic clock reading: the file's mtime is at least this.
	refreshed time.Time
	lost      atomic.Bool
	stop      chan struct{} // closed to stop the refresher
	done      chan struct{} // closed when the refresher returned
}

// newLockFile completes taking the lock: f is the lock file, already under
// the lock's name, its mtime set at start; the holder's data go in place.
func newLockFile(t *tree, f *os.File, content []byte, start time.Time, opt Options) (*lockFile, error) {
	var st unix.Stat_t
	err := unix.Fstat(int(f.Fd()), &st)
	if err == nil {
		_, err = f.WriteAt(content, 0)
	}
	if err != nil {
		f.Close()
		unix.Unlinkat(t.root, lockName, 0)
		return nil, err
	}
	return &lockFile{t: t, f: f, dev: uint64(st.Dev), ino: uint64(st.Ino), content: content,
		stale: opt.StaleLock, log: opt.Logger, refreshed: start}, nil
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
	buf := make([]byte, lockSize+1)
	n, err := l.f.ReadAt(buf, 0)
	if err != nil && n != lockSize {
		return err
	}
	if !bytes.Equal(buf[:n], l.content) {
		return errLockLost
	}
	return nil
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

// startRefresh refreshes the lock every interval until release.
func (l *lockFile) startRefresh(every time.Duration) {
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
			l.mu.Lock()
			err := l.refresh()
			l.mu.Unlock()
			if errors.Is(err, errLockLost) {
				return
			}
			if err != nil {
				l.log.Warn("maildir: refreshing lock", "dir", l.t.path, "err", err)
			}
		}
	}()
}

// release stops the refresher and gives the lock up, if it is still ours:
// the lock file is renamed to a name of its own first, so that a lock taken
// by someone else in between is never what gets removed; ours becomes the
// spare for the next session.
func (l *lockFile) release() error {
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
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
		buf := make([]byte, lockSize)
		if n, _ := l.f.ReadAt(buf, 0); bytes.Equal(buf[:n], l.content) {
			recycle(root, tmp)
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
