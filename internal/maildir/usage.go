package maildir

import (
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Usage counts maildrops' messages and their file sizes for the console's
// users list, without opening or locking them. The count of a maildrop is
// kept, keyed by the modification times of its new/ and cur/ folders, which
// every delivery, deletion and rename changes: the console asks every
// second, and a large maildrop must not be read each time. The zero Usage
// is ready to use.
type Usage struct {
	mu sync.Mutex
	m  map[string]usage
}

type usage struct {
	stamp    [2]time.Time // mtimes of new/ and cur/
	messages int
	octets   int64
}

// usageQuiet is how long a maildrop's folders must have been unchanged for
// its count to be kept.
const usageQuiet = 2 * time.Second

// Count returns the messages in the maildrop dir and the sum of their file
// sizes, reading its folders only when they changed since the last count.
// Like a session it follows no link a user made and opens no FIFO; a
// maildir it cannot use counts as empty.
func (c *Usage) Count(dir string) (messages int, octets int64) {
	t, err := openTree(dir, false)
	if err != nil {
		return 0, 0
	}
	defer t.close()
	var stamp [2]time.Time
	for f, fd := range t.folder {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			stamp[f] = time.Unix(st.Mtim.Unix())
		}
	}
	c.mu.Lock()
	u, ok := c.m[dir]
	c.mu.Unlock()
	if ok && u.stamp == stamp {
		return u.messages, u.octets
	}
	u = usage{stamp: stamp}
	for _, fd := range t.folder {
		listFolder(fd, func(names []string) {
			for _, name := range names {
				var st unix.Stat_t
				if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
					u.messages++
					u.octets += st.Size
				}
			}
		})
	}
	// Folder times are coarse (a clock tick): a count made just after a
	// change might share its stamp with a change still to come, so only a
	// count of folders quiet for a while is kept.
	if time.Since(stamp[0]) > usageQuiet && time.Since(stamp[1]) > usageQuiet {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]usage{}
		}
		c.m[dir] = u
		c.mu.Unlock()
	}
	return u.messages, u.octets
}

// Purge removes the maildrop dir and everything in it, for a user deleted
// with their mail. It refuses, with ErrLocked, while a session holds the
// maildrop, and with ErrUnsafe when dir is reached through a user's link.
func Purge(dir string) error {
	fd, err := openDirPath(dir, false)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	unix.Close(fd)
	if _, locked, _ := ReadLock(dir); locked {
		return ErrLocked
	}
	return os.RemoveAll(dir)
}
