package server

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/maildir"
	"popd/internal/pop3"
	"popd/internal/sasl"
	"popd/internal/testutil"
	"popd/internal/userdb"
)

// serverFirst starts a SCRAM-SHA-256 exchange as name on a new connection
// and returns the salt and iteration count of the server-first message.
// The connection is then dropped, which costs no penalty.
func serverFirst(t *testing.T, e *env, name string) (salt []byte, iterations int) {
	t.Helper()
	c := e.dial()
	defer c.Conn.Close()
	c.Send("AUTH SCRAM-SHA-256 " + b64("n,,n="+name+",r=clientnonce"))
	line := c.Expect("+ ")
	sf, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, "+ "))
	if err != nil {
		t.Fatalf("%s: server-first %q: %v", name, line, err)
	}
	attrs := strings.Split(string(sf), ",")
	if len(attrs) != 3 || !strings.HasPrefix(attrs[0], "r=clientnonce") {
		t.Fatalf("%s: server-first %q", name, sf)
	}
	salt, err = base64.StdEncoding.DecodeString(strings.TrimPrefix(attrs[1], "s="))
	if err != nil {
		t.Fatalf("%s: salt in %q: %v", name, sf, err)
	}
	iterations, err = strconv.Atoi(strings.TrimPrefix(attrs[2], "i="))
	if err != nil {
		t.Fatalf("%s: i= in %q: %v", name, sf, err)
	}
	return salt, iterations
}

// Issue 9: SCRAM-SHA-256 does not tell whether a user exists. Unknown and
// invalid names, {PLAIN}, {SCRAM-SHA-256} and bcrypt users all get a
// server-first with the same i= and a salt of the same length, the same on
// every try. (That they cost the same work is pinned in userdb, where the
// derivations can be counted: TestFileSCRAMSameWorkForEveryName.)
func TestSCRAMServerFirstAlike(t *testing.T) {
	e := authEnv(t)
	names := []string{plainUser.name, scramUser.name, bcryptUser.name, "nobody", "Pat", "x=2Cy"}
	salts := map[string]string{}
	for _, n := range names {
		salt, it := serverFirst(t, e, n)
		if it != 4096 || len(salt) != 16 {
			t.Errorf("%s: i=%d, %d-byte salt; want i=4096 and 16 bytes like everyone", n, it, len(salt))
		}
		for other, s := range salts {
			if s == string(salt) {
				t.Errorf("%s and %s have the same salt", n, other)
			}
		}
		salts[n] = string(salt)
	}
	// A users-file reload changes no salt.
	e.users.Reload()
	for _, n := range names {
		if salt, _ := serverFirst(t, e, n); string(salt) != salts[n] {
			t.Errorf("%s: the salt changed from one try to the next", n)
		}
	}
}

// penaltyOf returns the failures the server holds against 127.0.0.1.
func penaltyOf(e *env) int {
	for _, p := range e.srv.Penalties() {
		if p.Source == "127.0.0.1/32" {
			return p.Failures
		}
	}
	return 0
}

// Issue 9: a SASL exchange cancelled with "*" is a failed attempt: it earns
// the source a penalty and counts towards max-auth-failures.
func TestSASLCancelIsAFailedAttempt(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) {
		c.MaxAuthFailures = 2
		c.AuthFailureDelay.Duration = time.Millisecond
		c.AuthPenaltyMax.Duration = time.Millisecond
	})
	c := e.dial()
	c.Send("AUTH SCRAM-SHA-256 " + b64("n,,n=alice,r=abc"))
	c.Expect("+ ")
	c.Err("*", "-ERR authentication cancelled")
	if n := penaltyOf(e); n != 1 {
		t.Fatalf("after a cancelled exchange the source has %d failures, want 1", n)
	}
	c.Send("AUTH LOGIN")
	c.Expect("+ ")
	c.Send(b64("alice"))
	c.Expect("+ ")
	c.Err("*", "-ERR [AUTH] too many failed logins; disconnecting")
	if !c.Closed(2 * time.Second) {
		t.Fatal("not disconnected after two cancelled exchanges")
	}
	if n := penaltyOf(e); n != 2 {
		t.Fatalf("the source has %d failures, want 2", n)
	}
}

// errAfter sends a long response line and expects the -ERR line want,
// without putting the line in the failure message.
func errAfter(t *testing.T, c *testutil.POP3, line, want string) {
	t.Helper()
	c.Send(line)
	if got := c.Line(); got != want {
		t.Fatalf("after a %d-octet line: got %q, want %q", len(line)+2, got, want)
	}
}

// Issue 9: a SASL response up to 8 KiB decoded is read, so a long password
// logs in; a longer one gets an error that says the real limit.
func TestLongSASLResponse(t *testing.T) {
	t.Parallel()
	if pop3.MaxSASLResponse != sasl.MaxResponseLen {
		t.Fatalf("pop3 reads %d octets, sasl takes %d", pop3.MaxSASLResponse, sasl.MaxResponseLen)
	}
	long := account{"long", strings.Repeat("Long password ", 200)[:userdb.MaxPasswordLen], "PLAIN"}
	e := newEnv(t, []account{long, alice}, func(c *config.Config) { c.MaxAuthFailures = 10 })
	c := e.dial()
	c.Send("AUTH PLAIN")
	c.Expect("+ ")
	c.OK(b64("\x00long\x00" + long.pass))
	c.OK("QUIT")

	c = e.dial()
	msg := func(n int) string { return b64("\x00alice\x00" + strings.Repeat("w", n-len("\x00alice\x00"))) }
	c.Send("AUTH PLAIN")
	c.Expect("+ ")
	errAfter(t, c, msg(sasl.MaxResponseLen), "-ERR [AUTH] invalid user name or password") // read and checked
	want := fmt.Sprintf("-ERR line too long (limit is %d octets including CRLF, %d octets decoded)",
		base64.StdEncoding.EncodedLen(sasl.MaxResponseLen)+2, sasl.MaxResponseLen)
	for _, resp := range []string{msg(sasl.MaxResponseLen + 1), strings.Repeat("QUFB", 100_000)} {
		c.Send("AUTH PLAIN")
		c.Expect("+ ")
		errAfter(t, c, resp, want)
	}
	c.Send("AUTH PLAIN")
	c.Expect("+ ")
	c.OK(b64("\x00alice\x00" + alice.pass))
}

// Issue 9: LOGIN-DELAY is charged only to logins that got in: a login
// refused because the maildrop is locked does not start the delay.
func TestLoginDelayOnlyForLoginsThatGotIn(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.LoginDelay.Duration = time.Hour })
	e.deliver("alice", "Subject: x\n\ny\n")
	held, err := maildir.Open(e.maildir("alice"), maildir.Options{Owner: "another program"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	c.OK("USER alice")
	c.Err("PASS "+alice.pass, "-ERR [IN-USE] maildrop is locked by another session")
	c.Err("AUTH PLAIN "+b64("\x00alice\x00"+alice.pass), "-ERR [IN-USE] maildrop is locked by another session")
	held.Close()
	c.OK("USER alice")
	c.OK("PASS " + alice.pass)
	c.OK("QUIT")
	// The login that got in is charged.
	c = e.dial()
	c.OK("USER alice")
	c.Err("PASS "+alice.pass, "-ERR [LOGIN-DELAY] minimum time between logins has not elapsed")
}

// Issue 9: a success clears the source's penalty only when its failures
// were all for the user who got in (a user mistyping their own password),
// not when they were for other names (an attacker with one valid account
// would reset it after every few guesses).
func TestSuccessClearsOnlyItsOwnFailures(t *testing.T) {
	t.Parallel()
	bob := account{"bob", "bob's pw", "PLAIN"}
	e := newEnv(t, []account{alice, bob}, func(c *config.Config) {
		c.AuthFailureDelay.Duration = time.Millisecond
		c.AuthPenaltyMax.Duration = time.Millisecond
	})
	fail := func(user string) {
		c := e.dial()
		c.OK("USER " + user)
		c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
		c.Send("AUTH PLAIN") // a cancel names no user
		c.Expect("+ ")
		c.Err("*", "-ERR authentication cancelled")
	}
	// Own mistakes are forgiven.
	fail("alice")
	e.login(alice).OK("QUIT")
	if n := penaltyOf(e); n != 0 {
		t.Fatalf("alice's own failures not cleared by her login: %d", n)
	}
	// Guesses at other names are not.
	fail("bob")
	fail("alice")
	e.login(alice).OK("QUIT")
	if n := penaltyOf(e); n != 4 {
		t.Fatalf("after failures for bob and alice, alice's login left %d failures, want 4", n)
	}
	fail("nobody")
	e.login(bob).OK("QUIT")
	if n := penaltyOf(e); n != 6 {
		t.Fatalf("%d failures, want 6", n)
	}
	// The administrator can still clear it.
	e.srv.ClearPenalty(netip.MustParsePrefix("127.0.0.1/32"))
	if n := penaltyOf(e); n != 0 {
		t.Fatalf("%d failures after ClearPenalty", n)
	}
}

// Issue 9: with a small -auth-failure-delay, a failed login still takes the
// same time whether the name is unknown (a BLF-CRYPT check of a dummy hash),
// invalid (no check at all), a bcrypt user, or a user whose password is
// cheap to check ({PLAIN}): every failure is answered no sooner than the
// slowest password check the server has made. The test looks at the time
// the server pads each failure to, not at the clock.
func TestFailuresTakeTheSlowestCheck(t *testing.T) {
	pat := account{"pat", "pat's pw", "PLAIN"}
	e := newEnv(t, []account{alice, pat}, func(c *config.Config) {
		c.AuthFailureDelay.Duration = time.Millisecond
		c.AuthPenaltyMax.Duration = time.Millisecond
		c.MaxAuthFailures = 100
	})
	type failure struct {
		user           string
		after, slowest time.Duration
	}
	var mu sync.Mutex
	var failures []failure
	hook := func(user string, after time.Duration) {
		mu.Lock()
		failures = append(failures, failure{user, after, e.srv.be.checks.slowest()})
		mu.Unlock()
	}
	e.srv.be.onFailure.Store(&hook)
	c := e.dial()
	for _, user := range []string{"nobody", "pat", "../pat", "alice", "nobody"} {
		c.OK("USER " + user)
		c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
	}
	for _, resp := range []string{"\x00pat\x00wrong", "\x00nobody\x00wrong"} {
		c.Err("AUTH PLAIN "+b64(resp), "-ERR [AUTH] invalid user name or password")
	}
	c.Send("AUTH SCRAM-SHA-256 " + b64("n,,n=pat,r=abc"))
	c.Expect("+ ")
	c.Err("*", "-ERR authentication cancelled")

	mu.Lock()
	defer mu.Unlock()
	if len(failures) != 8 {
		t.Fatalf("%d failures seen, want 8", len(failures))
	}
	// The first failure, for an unknown name, made the first check: a
	// dummy bcrypt one, far longer than the 1 ms failure delay.
	unknown := failures[0].slowest
	if unknown <= time.Millisecond {
		t.Fatalf("an unknown name's check took %v", unknown)
	}
	for _, f := range failures {
		if f.after < unknown || f.after < f.slowest {
			t.Errorf("%q: failure answered %v after it began, sooner than the slowest check (%v; an unknown name's: %v)",
				f.user, f.after, f.slowest, unknown)
		}
	}
}

// checkTimes forgets a slow check after two windows at most.
func TestCheckTimesWindows(t *testing.T) {
	var c checkTimes
	t0 := time.Now()
	c.roll(t0)
	c.cur = 50 * time.Millisecond
	c.roll(t0.Add(checkWindow - time.Second))
	if got := max(c.cur, c.prev); got != 50*time.Millisecond {
		t.Fatalf("within the window: %v", got)
	}
	c.roll(t0.Add(checkWindow))
	if got := max(c.cur, c.prev); got != 50*time.Millisecond {
		t.Fatalf("in the next window: %v", got)
	}
	c.roll(t0.Add(2 * checkWindow))
	if got := max(c.cur, c.prev); got != 0 {
		t.Fatalf("two windows later: %v", got)
	}
	c.cur = time.Second
	c.roll(t0.Add(5 * checkWindow))
	if got := max(c.cur, c.prev); got != 0 {
		t.Fatalf("after a long quiet: %v", got)
	}
}

// The rule of clearFor, unit by unit.
func TestPenaltyClearFor(t *testing.T) {
	p := newPenalties()
	src := netip.MustParsePrefix("192.0.2.7/32")
	count := func() int {
		if l := p.list(); len(l) == 1 {
			return l[0].Failures
		}
		return 0
	}
	p.failAs(src, "alice")
	p.failAs(src, "")
	p.clearFor(src, "bob")
	if count() != 2 {
		t.Fatal("bob's login cleared alice's failures")
	}
	p.clearFor(src, "alice")
	if count() != 0 {
		t.Fatal("alice's login kept her own failures")
	}
	p.fail(src) // no name: forgiven by anyone's success
	p.clearFor(src, "bob")
	if count() != 0 {
		t.Fatal("failures that named nobody not cleared")
	}
	p.failAs(src, "alice")
	p.failAs(src, "bob")
	p.clearFor(src, "alice")
	p.clearFor(src, "bob")
	if count() != 2 {
		t.Fatal("failures for two names cleared by one of them")
	}
}
