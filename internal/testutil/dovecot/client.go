package dovecot

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil"
)

// What a POP3 client sees; these work against any server (Dovecot or
// popd), so that a test can compare the two.

// Login connects to addr and logs in with USER and PASS.
func Login(t testing.TB, addr, user, pass string) *testutil.POP3 {
	t.Helper()
	c := testutil.DialPOP3(t, addr)
	c.OK("USER " + user)
	c.OK("PASS " + pass)
	return c
}

// Listing is a maildrop as UIDL and LIST show it, by message number.
type Listing struct {
	UIDL map[int]string
	Size map[int]int64
}

// List sends UIDL and LIST in a logged-in session.
func List(c *testutil.POP3) Listing {
	c.T.Helper()
	l := Listing{UIDL: map[int]string{}, Size: map[int]int64{}}
	c.OK("UIDL")
	for _, line := range lines(c.Multi()) {
		n, uidl, ok := strings.Cut(line, " ")
		num, err := strconv.Atoi(n)
		if !ok || err != nil {
			c.T.Fatalf("UIDL line %q", line)
		}
		l.UIDL[num] = uidl
	}
	c.OK("LIST")
	for _, line := range lines(c.Multi()) {
		n, size, ok := strings.Cut(line, " ")
		num, err := strconv.Atoi(n)
		sz, err2 := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil || err2 != nil {
			c.T.Fatalf("LIST line %q", line)
		}
		l.Size[num] = sz
	}
	return l
}

// UIDLs logs in as user, lists the maildrop (UIDL, LIST) and quits.
func UIDLs(t testing.TB, addr, user, pass string) Listing {
	t.Helper()
	c := Login(t, addr, user, pass)
	l := List(c)
	Quit(c)
	return l
}

// Retr retrieves message n in a logged-in session: the message as sent,
// byte-stuffing removed, with every CRLF (including the one before the
// final ".").
func Retr(c *testutil.POP3, n int) string {
	c.T.Helper()
	c.OK("RETR " + strconv.Itoa(n))
	return Unstuff(c.Multi())
}

// RetrAll logs in as user, retrieves every message listed, and quits.
func RetrAll(t testing.TB, addr, user, pass string) map[int]string {
	t.Helper()
	c := Login(t, addr, user, pass)
	l := List(c)
	out := make(map[int]string, len(l.Size))
	for _, n := range Numbers(l.Size) {
		out[n] = Retr(c, n)
	}
	Quit(c)
	return out
}

// Delete logs in as user, marks messages nums deleted (DELE) and QUITs,
// which must say +OK (the messages are then gone).
func Delete(t testing.TB, addr, user, pass string, nums ...int) {
	t.Helper()
	c := Login(t, addr, user, pass)
	for _, n := range nums {
		c.OK("DELE " + strconv.Itoa(n))
	}
	Quit(c)
}

// Quit sends QUIT, expects +OK and waits until the server hangs up: by
// then Dovecot has closed the mailbox (its index and dovecot-uidlist are
// written), so the next server to look at the Maildir sees its changes.
func Quit(c *testutil.POP3) {
	c.T.Helper()
	c.OK("QUIT")
	if !c.Closed(10 * time.Second) {
		c.T.Fatal("the server did not close the connection after QUIT")
	}
}

// Unstuff removes POP3 byte-stuffing from a multi-line response body.
func Unstuff(s string) string {
	ls := strings.SplitAfter(s, "\r\n")
	for i, l := range ls {
		ls[i] = strings.TrimPrefix(l, ".")
	}
	return strings.Join(ls, "")
}

// Numbers are the keys of m in order.
func Numbers[V any](m map[int]V) []int {
	var ns []int
	for n := range m {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// Diff describes how got differs from want, key by key in order, at most
// limit lines (and a count of the rest); it is empty when they are equal.
func Diff[K cmp.Ordered, V comparable](want, got map[K]V, limit int) string {
	var keys []K
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	n := 0
	for _, k := range keys {
		w, inW := want[k]
		g, inG := got[k]
		if inW && inG && w == g {
			continue
		}
		n++
		if n > limit {
			continue
		}
		switch {
		case !inG:
			fmt.Fprintf(&b, "  %v: want %q, missing\n", k, fmt.Sprint(w))
		case !inW:
			fmt.Fprintf(&b, "  %v: unexpected %q\n", k, fmt.Sprint(g))
		default:
			fmt.Fprintf(&b, "  %v: want %q, got %q\n", k, fmt.Sprint(w), fmt.Sprint(g))
		}
	}
	if n > limit {
		fmt.Fprintf(&b, "  ... and %d more differences\n", n-limit)
	}
	return b.String()
}

// lines splits a multi-line body into lines without CRLF.
func lines(body string) []string {
	body = strings.TrimSuffix(body, "\r\n")
	if body == "" {
		return nil
	}
	return strings.Split(body, "\r\n")
}
