package server

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"popd/internal/maildir"
)

// End-to-end checks, over TCP, of what a hostile maildir or a lost lock
// looks like to a POP3 client (the details are in internal/maildir).

// TestLinkedFolderRefused: alice's new/ links to bob's; she gets
// -ERR [SYS/PERM] instead of bob's mail, and bob's mail stays.
func TestLinkedFolderRefused(t *testing.T) {
	bob := account{"bob", "battery staple", ""}
	e := newEnv(t, []account{alice, bob}, nil)
	e.deliver("bob", "Subject: for bob\r\n\r\nsecret\r\n")
	e.deliver("alice", "Subject: for alice\r\n\r\nhi\r\n")
	md := e.maildir("alice")
	os.RemoveAll(filepath.Join(md, "new"))
	os.Symlink(filepath.Join(e.maildir("bob"), "new"), filepath.Join(md, "new"))
	c := e.dial()
	c.OK("USER alice")
	c.Err("PASS "+alice.pass, "-ERR [SYS/PERM] the maildrop cannot be opened, contact the administrator")
	if got := e.files("bob"); len(got) != 1 {
		t.Errorf("bob's files: %q", got)
	}
}

// TestFIFOLockDoesNotHang: a FIFO as popd.lock hung logins on bed2491.
func TestFIFOLockDoesNotHang(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: x\r\n\r\nx\r\n")
	if err := syscall.Mkfifo(filepath.Join(e.maildir("alice"), "popd.lock"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := e.login(alice)
	c.Send("STAT")
	if l := c.Line(); l != "+OK 1 17" {
		t.Errorf("STAT = %q", l)
	}
	c.OK("QUIT")
}

// TestQuitAfterLockLost: an administrator unlocked the maildrop (through
// this node or another) while alice's session ran: her QUIT deletes
// nothing and says so.
func TestQuitAfterLockLost(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: x\r\n\r\nx\r\n")
	c := e.login(alice)
	c.OK("DELE 1")
	if err := maildir.BreakLock(e.maildir("alice")); err != nil {
		t.Fatal(err)
	}
	c.Err("QUIT", "-ERR [SYS/TEMP] the maildrop lock was lost; deleted messages not removed, try again")
	if got := e.files("alice"); len(got) != 1 {
		t.Errorf("files after QUIT: %q", got)
	}
}

// TestRetrOfChangedMessage: a message whose file changed after LIST gets
// -ERR before the +OK; one that shrinks while being sent ends the
// connection without the final ".", so the client never keeps it as
// complete; the next session announces and sends its real size.
func TestRetrOfChangedMessage(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	small := e.deliver("alice", "Subject: small\r\n\r\nx\r\n")
	big := e.deliver("alice", "Subject: big\r\n\r\n"+strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 1<<18))
	md := e.maildir("alice")

	c := e.login(alice)
	c.Send("LIST")
	c.Expect("+OK")
	c.Multi()
	f, _ := os.OpenFile(filepath.Join(md, "new", small), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("appended\r\n")
	f.Close()
	c.Err("RETR 1", "-ERR [SYS/TEMP] the message changed on disk; try again in a new session")

	// 17 MB: more than the socket buffers hold, so popd is still reading
	// the file when it shrinks.
	c.Send("RETR 2")
	c.Expect("+OK")
	if err := os.Truncate(filepath.Join(md, "new", big), 1000); err != nil {
		t.Fatal(err)
	}
	c.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	rest, err := io.ReadAll(c.R)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if strings.HasSuffix(string(rest), "\r\n.\r\n") {
		t.Error("the cut-short message was terminated with \".\"")
	}
	if got := e.files("alice"); len(got) != 2 {
		t.Errorf("files: %q", got)
	}

	c = e.login(alice)
	// 1000 octets end inside a line: a CRLF is added.
	for i, want := range []int{len("Subject: small\r\n\r\nx\r\nappended\r\n"), 1002} {
		c.Send("RETR " + strconv.Itoa(i+1))
		l := c.Expect("+OK")
		body := c.Multi()
		if l != "+OK "+strconv.Itoa(want)+" octets" || len(unstuff(body)) != want {
			t.Errorf("RETR %d: %q and %d octets, want %d", i+1, l, len(unstuff(body)), want)
		}
	}
	c.OK("QUIT")
}
