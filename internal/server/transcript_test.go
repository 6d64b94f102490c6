package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil"
)

var alice = account{"alice", "correct horse", ""}

// tricky are messages as an MTA might store them, with the exact network
// form RETR must send for each.
var tricky = []struct{ name, stored, wire string }{
	{"lf", "Subject: a\n\nbody\n", "Subject: a\r\n\r\nbody\r\n"},
	{"crlf", "Subject: b\r\n\r\nbody\r\n", "Subject: b\r\n\r\nbody\r\n"},
	{"bare-cr", "Subject: c\n\nx\ry\n", "Subject: c\r\n\r\nx\ry\r\n"},
	{"nul-8bit", "Subject: d\n\n\x00\xff\xe9t\xe9\n", "Subject: d\r\n\r\n\x00\xff\xe9t\xe9\r\n"},
	{"long-line", "Subject: e\n\n" + strings.Repeat("L", 5000) + "\n", "Subject: e\r\n\r\n" + strings.Repeat("L", 5000) + "\r\n"},
	{"empty", "", ""},
	{"dots", "Subject: f\n\n.\n..\n.x\n", "Subject: f\r\n\r\n.\r\n..\r\n.x\r\n"},
	{"no-final-newline", "Subject: g\n\nlast line", "Subject: g\r\n\r\nlast line\r\n"},
}

func TestRetrIsByteExact(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	for _, m := range tricky {
		e.deliver("alice", m.stored)
	}
	c := e.login(alice)
	var total int
	for _, m := range tricky {
		total += len(m.wire)
	}
	if got, want := c.OK("STAT"), fmt.Sprintf("+OK %d %d", len(tricky), total); got != want {
		t.Fatalf("STAT = %q, want %q", got, want)
	}
	c.Send("LIST")
	c.Expect("+OK")
	list := strings.Split(strings.TrimSuffix(c.Multi(), "\r\n"), "\r\n")
	for i, m := range tricky {
		want := fmt.Sprintf("%d %d", i+1, len(m.wire))
		if list[i] != want {
			t.Errorf("%s: LIST line %q, want %q", m.name, list[i], want)
		}
		if got := c.OK(fmt.Sprintf("LIST %d", i+1)); got != "+OK "+want {
			t.Errorf("%s: LIST n = %q", m.name, got)
		}
		if got := c.OK(fmt.Sprintf("RETR %d", i+1)); got != fmt.Sprintf("+OK %d octets", len(m.wire)) {
			t.Errorf("%s: RETR = %q", m.name, got)
		}
		body := unstuff(c.Multi())
		if body != m.wire {
			t.Errorf("%s: RETR sent %q, want %q", m.name, body, m.wire)
		}
	}
	c.OK("QUIT")
}

func TestTop(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: t\nX: y\n\nb1\n.b2\nb3\n")
	c := e.login(alice)
	for _, tc := range []struct {
		cmd, want string
	}{
		{"TOP 1 0", "Subject: t\r\nX: y\r\n\r\n"},
		{"TOP 1 2", "Subject: t\r\nX: y\r\n\r\nb1\r\n..b2\r\n"},
		{"top 1 99999999", "Subject: t\r\nX: y\r\n\r\nb1\r\n..b2\r\nb3\r\n"},
	} {
		c.OK(tc.cmd)
		if got := c.Multi(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.cmd, got, tc.want)
		}
	}
	c.Err("TOP 1", "-ERR syntax error")
	c.Err("TOP 1 -1", "-ERR syntax error")
	c.Err("TOP 2 1", "-ERR no such message")
	c.Err("TOP 1 1 1", "-ERR syntax error")
}

func TestCommandsAndErrors(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: 1\n\none\n")
	e.deliver("alice", "Subject: 2\n\ntwo\n")
	c := e.dial()

	// AUTHORIZATION state.
	c.Err("STAT", "-ERR command not valid in this state")
	c.Err("RETR 1", "-ERR command not valid in this state")
	c.Err("PASS x", "-ERR send USER first")
	c.Err("FOO", "-ERR unknown command")
	c.Err("", "-ERR unknown command")
	c.Err("RPOP alice", "-ERR RPOP is not supported: it trusts the client's port; use USER and PASS")
	c.Err("USER", "-ERR syntax error")
	c.Send("CAPA")
	c.Expect("+OK")
	capa := strings.Split(strings.TrimSuffix(c.Multi(), "\r\n"), "\r\n")
	for _, want := range []string{"USER", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION popd"} {
		if !slices.Contains(capa, want) {
			t.Errorf("CAPA lacks %q: %q", want, capa)
		}
	}
	c.OK("user alice")
	c.OK("pass " + alice.pass)

	// TRANSACTION state.
	c.Err("USER alice", "-ERR command not valid in this state")
	c.OK("CAPA")
	c.Multi()
	for _, bad := range []string{"LIST 0", "LIST 3", "LIST 4294967297", "LIST 18446744073709551617"} {
		c.Err(bad, "-ERR no such message")
	}
	for _, bad := range []string{"LIST -1", "LIST 1x", "LIST +1", "LIST  1", "LIST 1 2", "RETR", "DELE", "STAT 1", "NOOP x", "UIDL x", "RETR 0x1"} {
		c.Err(bad, "-ERR syntax error")
	}
	c.OK("NOOP")
	if got := c.OK("LAST"); got != "+OK 0" {
		t.Fatalf("LAST = %q", got)
	}
	c.OK("RETR 2")
	c.Multi()
	if got := c.OK("LAST"); got != "+OK 2" {
		t.Fatalf("LAST after RETR 2 = %q", got)
	}
	c.OK("DELE 1")
	c.Err("DELE 1", "-ERR message is deleted")
	c.Err("RETR 1", "-ERR message is deleted")
	c.Err("LIST 1", "-ERR message is deleted")
	c.Err("TOP 1 0", "-ERR message is deleted")
	c.Err("UIDL 1", "-ERR message is deleted")
	if got := c.OK("STAT"); got != "+OK 1 19" {
		t.Fatalf("STAT after DELE = %q", got)
	}
	c.Send("UIDL")
	c.Expect("+OK")
	if l := strings.Split(strings.TrimSuffix(c.Multi(), "\r\n"), "\r\n"); len(l) != 1 || !strings.HasPrefix(l[0], "2 ") {
		t.Fatalf("UIDL after DELE 1 lists %q", l)
	}
	c.OK("RSET")
	if got := c.OK("LAST"); got != "+OK 0" {
		t.Fatalf("LAST after RSET = %q", got)
	}
	if got := c.OK("STAT"); got != "+OK 2 38" {
		t.Fatalf("STAT after RSET = %q", got)
	}
	c.OK("QUIT")
	if !c.Closed(2 * time.Second) {
		t.Fatal("connection still open after QUIT")
	}
	if n := len(e.files("alice")); n != 2 {
		t.Fatalf("%d files after RSET+QUIT, want 2", n)
	}
}

func TestLineLimits(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	c := e.dial()
	// 255 octets including CRLF is accepted (RFC 2449 §4)...
	c.Err("NOOP"+strings.Repeat(" ", 255-6), "-ERR command not valid in this state")
	// ...256 is refused once, and the rest of the line is never run.
	c.Err("QUIT"+strings.Repeat("x", 256-6), "-ERR line too long (limit is 255 octets including CRLF)")
	c.Send(strings.Repeat("A", 1<<20) + "\r\nQUIT")
	c.Expect("-ERR line too long")
	c.Expect("+OK bye")
}

func TestAuthFailuresLookAlike(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) {
		c.AuthFailureDelay.Duration = 300 * time.Millisecond
		c.AuthPenaltyMax.Duration = 300 * time.Millisecond
		c.MaxAuthFailures = 10
	})
	c := e.dial()
	for _, u := range []string{"alice", "nobody", "../alice", "a/b"} {
		c.OK("USER " + u)
		start := time.Now()
		c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("failed login for %q answered after %v, before the failure delay", u, d)
		}
	}
	// After failures the session is as new: a good login works.
	c.OK("USER alice")
	c.OK("PASS " + alice.pass)
	// Nothing was created for the bad names.
	if _, err := os.Stat(filepath.Join(e.dir, "alice")); !os.IsNotExist(err) {
		t.Fatalf("a maildir outside the mail root: %v", err)
	}
}

func TestPasswordWithSpaces(t *testing.T) {
	e := newEnv(t, []account{alice}, nil) // "correct horse"
	c := e.dial()
	c.OK("USER alice")
	c.OK("PASS correct horse")
}

func TestMaildirCreatedOnFirstLogin(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	c := e.login(alice)
	if got := c.OK("STAT"); got != "+OK 0 0" {
		t.Fatalf("STAT = %q", got)
	}
	for _, sub := range []string{"", "new", "cur", "tmp"} {
		fi, err := os.Stat(filepath.Join(e.maildir("alice"), sub))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", sub, fi.Mode().Perm())
		}
	}
}

func TestUpdateOnlyAfterQuit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []account{alice}, nil)
	for i := 1; i <= 3; i++ {
		e.deliver("alice", fmt.Sprintf("Subject: %d\n\nbody\n", i))
	}
	// A dropped connection deletes nothing and releases the lock.
	c := e.login(alice)
	c.OK("DELE 1")
	c.Conn.Close()
	testutil.Eventually(t, 5*time.Second, "condition", func() bool { return len(e.srv.Sessions()) == 0 })
	if n := len(e.files("alice")); n != 3 {
		t.Fatalf("%d files after a dropped connection, want 3", n)
	}

	c = e.login(alice)
	c.OK("RETR 2")
	c.Multi()
	c.OK("DELE 1")
	late := e.deliver("alice", "Subject: late\n\ndelivered during the session\n")
	c.OK("QUIT")
	c.Closed(2 * time.Second)
	files := e.files("alice")
	slices.Sort(files)
	if len(files) != 3 {
		t.Fatalf("files after QUIT: %q", files)
	}
	var retrieved, untouched, newOne bool
	for _, f := range files {
		switch {
		case f == "new/"+late:
			newOne = true
		case strings.HasPrefix(f, "cur/") && strings.HasSuffix(f, ":2,S"):
			retrieved = true
		case strings.HasPrefix(f, "cur/") && strings.HasSuffix(f, ":2,"):
			untouched = true
		}
	}
	if !retrieved || !untouched || !newOne {
		t.Fatalf("after QUIT: %q; want one cur/…:2,S, one cur/…:2, and the late delivery still in new/", files)
	}

	// The late message shows up in the next session, last.
	c = e.login(alice)
	if got := c.OK("STAT"); !strings.HasPrefix(got, "+OK 3 ") {
		t.Fatalf("STAT = %q", got)
	}
	c.OK("TOP 3 0")
	if h := c.Multi(); !strings.Contains(h, "Subject: late") {
		t.Fatalf("message 3 is %q, want the late one", h)
	}
}

func TestLockedMaildrop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: x\n\ny\n")
	c1 := e.login(alice)
	c2 := e.dial()
	c2.OK("USER alice")
	c2.Err("PASS "+alice.pass, "-ERR [IN-USE] maildrop is locked by another session")
	c1.OK("QUIT")
	c1.Closed(2 * time.Second)
	c2.OK("USER alice")
	c2.OK("PASS " + alice.pass)
}

func TestUIDLStable(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	for i := 0; i < 4; i++ {
		e.deliver("alice", fmt.Sprintf("Subject: %d\n\n", i))
	}
	uidls := func(c *testutil.POP3) []string {
		c.Send("UIDL")
		c.Expect("+OK")
		var out []string
		for _, l := range strings.Split(strings.TrimSuffix(c.Multi(), "\r\n"), "\r\n") {
			_, uid, _ := strings.Cut(l, " ")
			if len(uid) < 1 || len(uid) > 70 || strings.IndexFunc(uid, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
				t.Fatalf("bad unique-id %q", uid)
			}
			out = append(out, uid)
		}
		return out
	}
	c := e.login(alice)
	first := uidls(c)
	if got := c.OK("UIDL 2"); got != "+OK 2 "+first[1] {
		t.Fatalf("UIDL 2 = %q", got)
	}
	c.OK("RETR 3") // moves it to cur/ with the S flag at QUIT
	c.Multi()
	c.OK("DELE 1")
	c.OK("QUIT")
	c.Closed(2 * time.Second)

	c = e.login(alice)
	if got := uidls(c); !slices.Equal(got, first[1:]) {
		t.Fatalf("UIDLs after deleting message 1: %q, want %q", got, first[1:])
	}
	if len(slices.Compact(slices.Clone(first))) != len(first) {
		t.Fatalf("duplicate UIDLs: %q", first)
	}
}

func TestPipelining(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.deliver("alice", "Subject: p\n\n.dot\n")
	c := e.dial()
	burst := "USER alice\r\nPASS " + alice.pass + "\r\nSTAT\r\nLIST\r\nRETR 1\r\nUIDL 1\r\nNOOP\r\nBOGUS\r\nQUIT\r\n"
	writes := e.writes.Load()
	if _, err := c.Conn.Write([]byte(burst)); err != nil {
		t.Fatal(err)
	}
	c.Expect("+OK send PASS")
	c.Expect("+OK maildrop locked")
	c.Expect("+OK 1 ")
	c.Expect("+OK scan")
	c.Multi()
	c.Expect("+OK ")
	if got := c.Multi(); got != "Subject: p\r\n\r\n..dot\r\n" {
		t.Fatalf("RETR in a burst: %q", got)
	}
	c.Expect("+OK 1 ")
	c.Expect("+OK")
	c.Expect("-ERR unknown command")
	c.Expect("+OK bye")
	// Nine responses, coalesced: a write for the burst and perhaps one for
	// the last words, never one per response.
	if n := e.writes.Load() - writes; n > 2 {
		t.Errorf("%d writes for a burst of 9 pipelined commands", n)
	}
}

func TestAutologout(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.IdleTimeout.Duration = 300 * time.Millisecond })
	e.deliver("alice", "Subject: x\n\ny\n")
	c := e.login(alice)
	c.OK("DELE 1")
	c.Expect("-ERR autologout")
	if !c.Closed(2 * time.Second) {
		t.Fatal("not closed after autologout")
	}
	if n := len(e.files("alice")); n != 1 {
		t.Fatal("autologout deleted a message")
	}

	// A client trickling a line that never ends is cut off all the same.
	c = e.dial()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Conn.Write([]byte("N")); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if time.Now().After(deadline) {
		t.Fatal("a trickled, never-ended line kept the connection open")
	}
}

func TestFloodWithoutReading(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.IdleTimeout.Duration = 500 * time.Millisecond })
	for i := 0; i < 50; i++ {
		e.deliver("alice", "Subject: flood\n\n"+strings.Repeat("x", 2000)+"\n")
	}
	c := e.login(alice)
	// Ask for far more than the socket buffers hold, never read: the
	// server must stop reading (bounded memory) and time the client out.
	flood := []byte(strings.Repeat("RETR 1\r\n", 20000))
	done := make(chan error, 1)
	go func() {
		c.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Conn.Write(flood)
		done <- err
	}()
	testutil.Eventually(t, 5*time.Second, "condition", func() bool { return len(e.srv.Sessions()) == 0 })
	c.Conn.Close()
	<-done
	if n := len(e.files("alice")); n != 50 {
		t.Fatalf("%d messages left, want 50", n)
	}
}

func TestVanishedMessage(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	first := e.deliver("alice", "Subject: 1\n\n")
	e.deliver("alice", "Subject: 2\n\n")
	c := e.login(alice)
	if err := os.Remove(filepath.Join(e.maildir("alice"), "new", first)); err != nil {
		t.Fatal(err)
	}
	c.Err("RETR 1", "-ERR [SYS/TEMP] message is no longer in the maildrop")
	c.OK("RETR 2")
	c.Multi()
	c.OK("DELE 1")
	c.OK("QUIT")
}

func TestPartialRemoval(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	first := e.deliver("alice", "Subject: 1\n\n")
	e.deliver("alice", "Subject: 2\n\n")
	c := e.login(alice)
	c.OK("DELE 1")
	c.OK("DELE 2")
	// Something the server cannot unlink now stands where message 1 was.
	p := filepath.Join(e.maildir("alice"), "new", first)
	os.Remove(p)
	if err := os.MkdirAll(filepath.Join(p, "blocker"), 0o700); err != nil {
		t.Fatal(err)
	}
	c.Err("QUIT", "-ERR [SYS/TEMP] some deleted messages not removed")
	files := e.files("alice")
	if len(files) != 1 || files[0] != "new/"+first {
		t.Fatalf("files after partial removal: %q (message 2 should be gone)", files)
	}
}

func TestShutdownAndKick(t *testing.T) {
	e := newEnv(t, []account{alice, {"bob", "secret", ""}}, nil)
	e.deliver("alice", "Subject: x\n\ny\n")
	e.deliver("bob", "Subject: x\n\ny\n")
	a := e.login(alice)
	a.OK("DELE 1")
	b := e.login(account{"bob", "secret", ""})
	b.OK("DELE 1")

	var id string
	for _, s := range e.srv.Sessions() {
		if s.User == "bob" {
			id = s.ID
		}
	}
	if _, ok := e.srv.Kick(id, "session ended by the administrator"); !ok {
		t.Fatalf("no session %s to kick", id)
	}
	b.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !b.Closed(2 * time.Second) {
		t.Fatal("kicked session still open")
	}

	e.stop()
	a.Expect("-ERR [SYS/TEMP] shutting down")
	if !a.Closed(2 * time.Second) {
		t.Fatal("session still open after shutdown")
	}
	if len(e.files("alice")) != 1 || len(e.files("bob")) != 1 {
		t.Fatal("a kick or a shutdown deleted mail")
	}
}

func TestUsersFileReloaded(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	c := e.dial()
	c.OK("USER carol")
	c.Err("PASS pw", "-ERR [AUTH] invalid user name or password")
	// An administrator adds carol by hand, the way editors do: a new file
	// renamed over the old one.
	old, _ := os.ReadFile(e.cfg.Users)
	tmp := e.cfg.Users + ".tmp"
	os.WriteFile(tmp, append(old, "carol:{PLAIN}pw\n"...), 0o600)
	if err := os.Rename(tmp, e.cfg.Users); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "condition", func() bool { _, ok := e.users.Lookup("carol"); return ok })
	c.OK("USER carol")
	c.OK("PASS pw")
}

// TestServeAfterShutdown: Shutdown is final; a listener handed to Serve
// afterwards is closed, not served.
func TestServeAfterShutdown(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	e.stop()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Fatal("the listener is still open")
	}
}
