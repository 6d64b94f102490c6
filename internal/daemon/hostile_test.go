package daemon

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFIFOLockAdmin: a FIFO as alice's popd.lock. On bed2491 it hung her
// logins, "kick" reported success without effect, and `popadm locks` and
// `popadm user list` froze. Now the admin calls answer, the login works and
// can be kicked.
func TestFIFOLockAdmin(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: x\r\n\r\nx\r\n")
	md := e.Maildir("alice")
	if err := syscall.Mkfifo(filepath.Join(md, "popd.lock"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctl := e.control()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := ctl.Locks(ctx); err != nil {
		t.Fatalf("locks: %v", err)
	}
	if _, err := ctl.Users(ctx); err != nil {
		t.Fatalf("users: %v", err)
	}
	c := e.login(alice)
	if err := ctl.Unlock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	c.Expect("-ERR [SYS/TEMP]") // kicked for real
	if got := e.files("alice"); len(got) != 1 {
		t.Errorf("files: %q", got)
	}
	if _, err := os.Stat(md); err != nil {
		t.Fatal(err)
	}
}
