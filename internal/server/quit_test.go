package server

import (
	"strings"
	"testing"
	"time"

	"popd/internal/maildir"
	"popd/internal/testutil"
)

// TestQuitBeforeManyMoves: a first QUIT on a maildrop with many new
// messages is answered once the deletions are done; the moves to cur/
// follow, under the lock, and then the lock is released.
func TestQuitBeforeManyMoves(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	for range 400 {
		e.deliver("alice", "Subject: x\r\n\r\nx\r\n")
	}
	c := e.login(alice)
	c.OK("DELE 1")
	if l := c.OK("QUIT"); l != "+OK bye, 399 messages left" {
		t.Errorf("QUIT: %q", l)
	}
	// Logging in again at once waits for the moves, not -ERR [IN-USE].
	e.login(alice).OK("QUIT")
	testutil.Eventually(t, 20*time.Second, "all moved to cur/ and the lock released", func() bool {
		files := e.files("alice")
		for _, f := range files {
			if strings.HasPrefix(f, "new/") {
				return false
			}
		}
		_, locked, _ := maildir.ReadLock(e.maildir("alice"))
		return len(files) == 399 && !locked
	})
	e.login(alice).OK("QUIT")
}
