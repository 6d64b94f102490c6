package maildir

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
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
func (c *Usage) Count(dir string) (messages int, octets int64) {
	var stamp [2]time.Time
	for i, sub := range folders {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err == nil {
			stamp[i] = fi.ModTime()
		}
	}
	c.mu.Lock()
	u, ok := c.m[dir]
	c.mu.Unlock()
	if ok && u.stamp == stamp {
		return u.messages, u.octets
	}
	u = usage{stamp: stamp}
	for _, sub := range folders {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				u.messages++
				u.octets += fi.Size()
			}
		}
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

// folders are the two folders that hold a maildrop's messages.
var folders = [2]string{"new", "cur"}

// Purge removes the maildrop dir and everything in it, for a user deleted
// with their mail. It refuses, with ErrLocked, while a session holds the
// maildrop.
func Purge(dir string) error {
	if _, locked, _ := ReadLock(dir); locked {
		return ErrLocked
	}
	return os.RemoveAll(dir)
}
