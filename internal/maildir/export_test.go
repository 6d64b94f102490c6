package maildir

import (
	"os"
	"time"
)

// Hooks for the tests in package maildir_test.

const (
	LockName    = lockName
	CacheName   = cacheName
	IndexName   = indexName
	CRLFBufSize = crlfBufSize
)

var HashUID = hashUID

// FileReads is how many message files m has opened.
func FileReads(m *Mailbox) int64 { return m.fileReads.Load() }

// SetIndexMin sets the size from which a maildrop gets an index.
func SetIndexMin(n int) { indexMin = n }

// FromIndex reports whether m's list came from the index.
func FromIndex(m *Mailbox) bool { return m.fromIndex }

// LockLost reports whether m noticed that its lock was taken away.
func LockLost(m *Mailbox) bool { return m.lock.lost.Load() }

// WaitCache waits for m's background cache writes.
func WaitCache(m *Mailbox) { m.cacheWG.Wait() }

// NetworkSize counts b in network form the way Size does, written to the
// counter chunk bytes at a time.
func NetworkSize(b []byte, chunk int) int64 {
	var c sizeCounter
	for len(b) > 0 {
		n := min(chunk, len(b))
		c.Write(b[:n])
		b = b[n:]
	}
	return c.Size()
}

// WriteLock makes a lock file at path as another session would.
func WriteLock(path, host string, pid int, owner string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(formatLock(lockData{
		LockInfo: LockInfo{Owner: owner, Host: host, PID: pid, Since: time.Now()},
		token:    randomHex(16),
	}))
	return err
}

// ThisHost is the host name written into our locks.
func ThisHost() string { return thisHost() }
