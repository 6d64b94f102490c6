package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/testutil/site"
)

// TestTwoNodesNoAffinity is the HAProxy-like setup: two popd processes
// serve one maildir with no user affinity, so the same user logs in to
// both at once. The maildrop lock is then the only guard: at any moment
// one session holds the maildrop, the other is told [IN-USE], no message
// is deleted twice (two sessions both confirming the deletion of one
// UIDL) and none is lost.
func TestTwoNodesNoAffinity(t *testing.T) {
	bin := buildPopd(t)
	st := site.New(t, []site.Account{{Name: "alice", Pass: "secret", Scheme: "PLAIN"}})
	const messages = 60
	for i := range messages {
		st.Deliver(t, "alice", fmt.Sprintf("Subject: %d\r\n\r\nmessage %d\r\n", i, i))
	}
	var addrs []string
	for i := range 2 {
		addr, _ := startPopd(t, bin, siteArgs(st, filepath.Join(st.Dir, fmt.Sprintf("node%d.sock", i)))...)
		addrs = append(addrs, addr)
	}

	var mu sync.Mutex
	deleted := map[string]int{} // UIDL -> QUITs that confirmed its deletion
	inUse, sessions := 0, 0
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 30 {
				time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
				uidl, ok, err := noAffinitySession(addrs[rng.IntN(2)], rng)
				mu.Lock()
				switch {
				case err != nil:
					t.Error(err)
				case !ok:
					inUse++
				default:
					sessions++
					if uidl != "" {
						deleted[uidl]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for uidl, n := range deleted {
		if n > 1 {
			t.Errorf("message %s: deletion confirmed by %d sessions", uidl, n)
		}
	}
	left := len(st.Files(t, "alice"))
	if left+len(deleted) != messages {
		t.Errorf("%d messages left + %d deleted, want %d in all", left, len(deleted), messages)
	}
	if sessions == 0 || inUse == 0 {
		t.Errorf("%d sessions, %d refused as in use: the two nodes did not meet", sessions, inUse)
	}
	t.Logf("%d sessions, %d [IN-USE], %d deleted", sessions, inUse, len(deleted))
}

// noAffinitySession logs in as alice at addr; when the maildrop is in use
// it reports ok false. Otherwise it deletes a random message (most
// times), and returns its UIDL when QUIT confirmed the deletion.
func noAffinitySession(addr string, rng *rand.Rand) (uidl string, ok bool, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return "", false, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	say := func(cmd string) (string, error) {
		if cmd != "" {
			io.WriteString(conn, cmd+"\r\n")
		}
		l, err := r.ReadString('\n')
		return strings.TrimRight(l, "\r\n"), err
	}
	if _, err := say(""); err != nil {
		return "", false, err
	}
	if _, err := say("USER alice"); err != nil {
		return "", false, err
	}
	l, err := say("PASS secret")
	switch {
	case err != nil:
		return "", false, err
	case strings.HasPrefix(l, "-ERR [IN-USE]"):
		return "", false, nil
	case !strings.HasPrefix(l, "+OK"):
		return "", false, fmt.Errorf("PASS: %q", l)
	}
	var n int
	l, _ = say("STAT")
	fmt.Sscanf(l, "+OK %d", &n)
	if n > 0 && rng.IntN(4) > 0 {
		i := 1 + rng.IntN(n)
		if l, _ = say(fmt.Sprintf("UIDL %d", i)); !strings.HasPrefix(l, "+OK") {
			return "", true, fmt.Errorf("UIDL %d: %q", i, l)
		}
		uidl = strings.Fields(l)[2]
		if l, _ = say(fmt.Sprintf("DELE %d", i)); !strings.HasPrefix(l, "+OK") {
			return "", true, fmt.Errorf("DELE %d: %q", i, l)
		}
	}
	time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond) // hold it a while
	if l, err = say("QUIT"); err != nil || !strings.HasPrefix(l, "+OK") {
		return "", true, fmt.Errorf("QUIT: %q %v", l, err)
	}
	return uidl, true, nil
}
