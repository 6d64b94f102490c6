//go:build unix

package userdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// fileID is what tells whether a file was changed or replaced since it was
// read: a replaced file has a new inode; one edited in place a new size or
// modification time (and, where known, change time). The zero fileID
// stands for a file that could not be looked at.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime time.Time
	mode         fs.FileMode
	uid, gid     int
}

func identify(fi fs.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode(), uid: -1, gid: -1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), st.Ino
		id.uid, id.gid = int(st.Uid), int(st.Gid)
		id.ctime = changeTime(st)
	}
	return id
}

// same reports whether a and b are the same file with the same content as
// far as an edit can tell (see writeAtomic).
func (a fileID) same(b fileID) bool {
	return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime.Equal(b.mtime)
}

// unchanged is same and the same change time too: what Watch's poll
// compares. The ctime catches an in-place write that kept the size and put
// the mtime back, and a write within the mtime's granularity on file
// systems where the two differ.
func (a fileID) unchanged(b fileID) bool { return a.same(b) && a.ctime.Equal(b.ctime) }

// lockTimeout is how long an edit waits for another writer's lock.
const lockTimeout = 10 * time.Second

// lockExclusive takes an flock on path, creating it with like's mode and
// (when running as root) owner, and returns the function that releases it.
// The flock serialises writers across processes: popd and popadm both
// edit the same file.
func lockExclusive(path string, like fileID) (func(), error) {
	fd, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, like.mode.Perm()&0o666)
	if err != nil {
		return nil, fmt.Errorf("userdb: lock: %w", err)
	}
	if os.Geteuid() == 0 && like.uid >= 0 {
		_ = fd.Chown(like.uid, like.gid) // best effort: the lock works anyway
	}
	deadline := time.Now().Add(lockTimeout)
	for {
		err = syscall.Flock(int(fd.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			fd.Close()
			return nil, fmt.Errorf("userdb: lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			fd.Close()
			return nil, fmt.Errorf("userdb: lock %s: held by another writer for %v", path, lockTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() {
		_ = syscall.Flock(int(fd.Fd()), syscall.LOCK_UN)
		fd.Close()
	}, nil
}

// chownLike gives f the owner of like when running as root (only root may
// give a file away).
func chownLike(f *os.File, like fileID) error {
	if os.Geteuid() != 0 || like.uid < 0 {
		return nil
	}
	return f.Chown(like.uid, like.gid)
}
