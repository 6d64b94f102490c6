package maildir

import (
	"sync"
	"time"
)

// A QUIT on a large maildrop is answered before the moves new/ -> cur/
// (see Update), and the lock is held until Close has done them. A client
// that logs in again at once, as many do after a QUIT, would be refused
// with ErrLocked although nothing is wrong: the lock is this process's own
// and is about to go. Open waits for it instead (at most settleWait), as
// Dovecot would have held the QUIT.

// settleWait bounds how long Open waits for this process's moves after a
// QUIT (100,000 moves take about 2 s on ext4).
const settleWait = 30 * time.Second

// settling is the maildrops whose moves after a QUIT are under way in this
// process, by the root directory's device and inode (the same maildrop
// whatever path reached it), each with a channel closed when its lock is
// released.
var settling sync.Map // dirID -> chan struct{}

type dirID struct{ dev, ino uint64 }

// startSettling records that t's moves are left to Close.
func startSettling(t *tree) {
	settling.Store(t.id, make(chan struct{}))
}

// doneSettling is called once t's lock is released.
func doneSettling(t *tree) {
	if ch, ok := settling.LoadAndDelete(t.id); ok {
		close(ch.(chan struct{}))
	}
}

// waitSettling waits until this process has finished the moves of t's
// maildrop, if it is doing any, and reports whether it waited.
func waitSettling(t *tree) bool {
	ch, ok := settling.Load(t.id)
	if !ok {
		return false
	}
	timer := time.NewTimer(settleWait)
	defer timer.Stop()
	select {
	case <-ch.(chan struct{}):
	case <-timer.C:
	}
	return true
}
