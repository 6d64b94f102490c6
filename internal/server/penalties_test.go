package server

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// The names a source tried: the last maxNames distinct ones, newest first,
// each cut as log lines cut them, and some maxNameBytes in all.
func TestPenaltyNamesBounded(t *testing.T) {
	p := newPenalties()
	src := netip.MustParsePrefix("192.0.2.7/32")
	users := func() []string { return p.list()[0].Users }
	for i := range 20 {
		p.failAs(src, fmt.Sprintf("u%02d", i))
	}
	want := []string{"u19", "u18", "u17", "u16", "u15", "u14", "u13", "u12"}
	if got := users(); !slices.Equal(got, want) {
		t.Fatalf("users %q, want %q", got, want)
	}
	// A name tried again becomes the newest, once; no name adds none.
	p.failAs(src, "u14")
	p.fail(src)
	want = []string{"u14", "u19", "u18", "u17", "u16", "u15", "u13", "u12"}
	if got := users(); !slices.Equal(got, want) {
		t.Fatalf("after u14 again: %q, want %q", got, want)
	}
	if n := p.list()[0].Failures; n != 22 {
		t.Fatalf("%d failures, want 22", n)
	}
	// Long names: each cut, and the oldest go to keep the room bounded.
	long := strings.Repeat("x", 1000)
	p.failAs(src, long+"1")
	got := users()
	if len(got) != 1 || len(got[0]) != 255+len("…") || !strings.HasSuffix(got[0], "…") {
		t.Fatalf("a long name: %d names, the first %d bytes", len(got), len(got[0]))
	}
	for i := range 10 {
		p.failAs(src, strings.Repeat("y", 100)+fmt.Sprint(i))
	}
	size := 0
	for _, u := range users() {
		size += len(u)
	}
	if n := len(users()); n != 2 || size > maxNameBytes {
		t.Fatalf("%d names of %d bytes; want 2 within %d", n, size, maxNameBytes)
	}
	// The list hands out copies.
	users()[0] = "changed"
	if users()[0] == "changed" {
		t.Fatal("list shares the table's names")
	}
}

// An administrator names a source by an address in it, or as listed; an
// IPv6 address stands for its /48. Clearing what has no penalty, or one
// that quiet time has forgotten, says so.
func TestClearPenaltyNamesTheSource(t *testing.T) {
	p := newPenalties()
	v4 := netip.MustParsePrefix("192.0.2.7/32")
	v6 := netip.MustParsePrefix("2001:db8:1::/48")
	for _, tc := range []struct {
		arg  string
		want netip.Prefix
	}{
		{"192.0.2.7/32", v4},
		{"2001:db8:1:2::5/128", v6},
		{"2001:db8:1:ffff::/64", v6},
		{"2001:db8:1::/48", v6},
		{"::ffff:192.0.2.7/128", v4},
		{"10.1.2.0/24", netip.MustParsePrefix("10.1.2.0/24")},
	} {
		if got := key(netip.MustParsePrefix(tc.arg)); got != tc.want {
			t.Errorf("key(%s) = %s, want %s", tc.arg, got, tc.want)
		}
	}
	p.failAs(v6, "root")
	p.failAs(v6, "admin")
	was, ok := p.succeed(key(netip.MustParsePrefix("2001:db8:1:2::5/128")))
	if !ok || was.Source != "2001:db8:1::/48" || was.Failures != 2 || !slices.Equal(was.Users, []string{"admin", "root"}) {
		t.Fatalf("cleared %+v, %v", was, ok)
	}
	if _, ok := p.succeed(v6); ok {
		t.Fatal("cleared twice")
	}
	p.fail(v4)
	p.m[v4].last = time.Now().Add(-p.forget) // quiet time has passed
	if _, ok := p.succeed(v4); ok {
		t.Fatal("cleared a penalty quiet time had forgotten")
	}
}

// list is in address order, IPv4 first.
func TestPenaltyListSorted(t *testing.T) {
	p := newPenalties()
	for _, s := range []string{"2001:db8::/48", "192.0.2.10/32", "10.0.0.1/32", "192.0.2.9/32"} {
		p.fail(netip.MustParsePrefix(s))
	}
	var got []string
	for _, e := range p.list() {
		got = append(got, e.Source)
	}
	if want := []string{"10.0.0.1/32", "192.0.2.9/32", "192.0.2.10/32", "2001:db8::/48"}; !slices.Equal(got, want) {
		t.Fatalf("list order %q, want %q", got, want)
	}
}

// Issue 14, bug 9, for nginx's auth_http: a failure's penalty is told
// after the failure, in the events and in the log.
func TestAuthHTTPPenaltyFollowsItsFailure(t *testing.T) {
	a := newProxyEnv(t, proxyOpts{})
	for range 2 {
		a.login(login{user: "bob", pass: "x", ip: "192.0.2.77"})
	}
	var kinds []string
	for len(kinds) < 3 {
		select {
		case e := <-a.events:
			kinds = append(kinds, fmt.Sprintf("%s %d", e.Type, e.Count))
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far: %q", kinds)
		}
	}
	if want := []string{"login.failed 0", "login.failed 0", "penalty 2"}; !slices.Equal(kinds, want) {
		t.Errorf("events %q, want %q", kinds, want)
	}
	logs := a.log.String()
	second := strings.LastIndex(logs, `msg="auth failed" remote=192.0.2.77`)
	penalty := strings.Index(logs, `msg="login penalty" source=192.0.2.77/32 failures=2`)
	if second < 0 || penalty < second {
		t.Errorf("the penalty's line is not after the failure's:\n%s", logs)
	}
}
