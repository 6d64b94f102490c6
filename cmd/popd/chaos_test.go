package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil/site"
)

// TestChaosKill kills popd with SIGKILL at random points of UPDATE (QUIT
// with deletions and moves new/ -> cur/) and of the sizes cache's
// writes (LIST after new deliveries), in a loop for about 20 seconds, and
// checks after every kill that no message was lost, duplicated or changed:
// every message stays until a QUIT that deleted it was answered +OK (one
// whose answer the kill swallowed may go either way), each is in exactly
// one file, and its bytes are the ones delivered. At the end a clean
// session must list and send every message exactly.
func TestChaosKill(t *testing.T) {
	bin := buildPopd(t)
	st := site.New(t, []site.Account{{Name: "alice", Pass: "secret", Scheme: "SHA512-CRYPT"}})
	md := st.Maildir("alice")
	args := siteArgs(st, filepath.Join(st.Dir, "control.sock"))
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 9))

	want := map[string]string{} // base name -> the bytes delivered
	gone := map[string]bool{}   // deleted by a QUIT answered +OK
	deliver := func(n int) {
		for range n {
			var b strings.Builder
			id := len(want) + len(gone)
			fmt.Fprintf(&b, "Message-ID: <%d@chaos>\r\nSubject: message %d\r\n\r\n", id, id)
			for l := range rng.IntN(300) {
				if l%7 == 3 {
					b.WriteString(".a line that starts with a dot\r\n")
				}
				fmt.Fprintf(&b, "line %d of message %d %s\r\n", l, id, strings.Repeat("x", rng.IntN(70)))
			}
			name := st.Deliver(t, "alice", b.String())
			want[name] = b.String()
		}
	}
	deliver(200)

	// check compares the maildir with what it must hold.
	check := func(iter int, maybe map[string]bool) {
		t.Helper()
		found := map[string]int{}
		for _, sub := range []string{"new", "cur"} {
			ents, err := os.ReadDir(filepath.Join(md, sub))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				base, _, _ := strings.Cut(e.Name(), ":")
				found[base]++
				body, err := os.ReadFile(filepath.Join(md, sub, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if w, ok := want[base]; !ok {
					t.Fatalf("iteration %d: unknown file %s/%s (deleted ones came back?)", iter, sub, e.Name())
				} else if string(body) != w {
					t.Fatalf("iteration %d: %s/%s changed", iter, sub, e.Name())
				}
			}
		}
		for base := range want {
			switch n := found[base]; {
			case n > 1:
				t.Fatalf("iteration %d: %s is in %d files", iter, base, n)
			case n == 0 && maybe[base]:
				delete(want, base) // its QUIT went through before the kill
				gone[base] = true
			case n == 0:
				t.Fatalf("iteration %d: %s was lost", iter, base)
			}
		}
	}

	deadline := time.Now().Add(20 * time.Second)
	iter, kills, inQuit := 0, 0, 0
	for ; time.Now().Before(deadline); iter++ {
		addr, cmd, _ := startPopdLog(t, bin, args...)
		deliver(max(0, 300-len(want)) + rng.IntN(20)) // a big UPDATE, new sizes to cache
		c := dialChaos(t, addr)
		c.say("USER alice", "+OK")
		c.say("PASS secret", "+OK maildrop locked and ready")
		uids := c.multi("UIDL")
		maybe := map[string]bool{}
		switch rng.IntN(3) {
		case 0, 1: // UPDATE
			for _, l := range uids {
				n, uid, _ := strings.Cut(l, " ")
				if rng.IntN(4) == 0 {
					c.say("DELE "+n, "+OK")
					maybe[uid] = true
				}
			}
			c.send("QUIT")
		default: // a sizes cache write, or RETRs
			c.send("LIST")
			if rng.IntN(2) == 0 {
				c.send("RETR 1")
			}
		}
		time.Sleep(time.Duration(rng.IntN(8000)) * time.Microsecond)
		cmd.Process.Kill()
		cmd.Wait()
		kills++
		// Did the QUIT's +OK arrive before the kill?
		rest, _ := io.ReadAll(c.r)
		c.conn.Close()
		check(iter, maybe)
		if len(maybe) > 0 && !strings.Contains(string(rest), "+OK bye") {
			inQuit++
		}
		if strings.Contains(string(rest), "+OK bye") {
			for uid := range maybe {
				if _, still := want[uid]; still {
					t.Fatalf("iteration %d: QUIT said +OK but %s is still there", iter, uid)
				}
			}
		}
	}
	t.Logf("%d iterations, %d kills (%d before QUIT was answered); %d messages left, %d deleted",
		iter, kills, inQuit, len(want), len(gone))

	// A clean session lists and sends every message exactly.
	addr, _, _ := startPopdLog(t, bin, args...)
	c := dialChaos(t, addr)
	c.say("USER alice", "+OK")
	c.say("PASS secret", "+OK maildrop locked and ready, "+strconv.Itoa(len(want))+" messages")
	uids := c.multi("UIDL")
	sizes := c.multi("LIST")
	if len(uids) != len(want) || len(sizes) != len(want) {
		t.Fatalf("UIDL %d, LIST %d lines, want %d", len(uids), len(sizes), len(want))
	}
	for i, l := range uids {
		n, uid, _ := strings.Cut(l, " ")
		_, size, _ := strings.Cut(sizes[i], " ")
		body := strings.Join(c.multi("RETR "+n), "\r\n") + "\r\n"
		body = strings.ReplaceAll("\n"+body, "\n..", "\n.")[1:]
		if body != want[uid] || size != strconv.Itoa(len(want[uid])) {
			t.Fatalf("message %s (%s): LIST %s, RETR %d octets, content equal %v", n, uid, size, len(body), body == want[uid])
		}
	}
	c.say("QUIT", "+OK")
}

type chaosClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialChaos(t *testing.T, addr string) *chaosClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &chaosClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.line("+OK")
	return c
}

func (c *chaosClient) send(line string) { io.WriteString(c.conn, line+"\r\n") }

func (c *chaosClient) line(prefix string) string {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, prefix) {
		c.t.Fatalf("got %q, %v; want %q", l, err, prefix)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (c *chaosClient) say(cmd, prefix string) string {
	c.t.Helper()
	c.send(cmd)
	return c.line(prefix)
}

// multi sends cmd and returns the lines of its multi-line answer.
func (c *chaosClient) multi(cmd string) []string {
	c.t.Helper()
	c.say(cmd, "+OK")
	var lines []string
	for {
		l := c.line("")
		if l == "." {
			return lines
		}
		lines = append(lines, l)
	}
}
