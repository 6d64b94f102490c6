package server

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil"
)

func TestSourceGrouping(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:110", "192.0.2.7/32"},
		{"[2001:db8:1:2:3::4]:110", "2001:db8:1::/48"},
		{"[2001:db8:1:ffff::9]:995", "2001:db8:1::/48"},
		{"[::ffff:192.0.2.7]:110", "192.0.2.7/32"},
	} {
		a, _ := net.ResolveTCPAddr("tcp", tc.addr)
		if got := source(a).String(); got != tc.want {
			t.Errorf("source(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

func TestPenaltyGrowsAndResets(t *testing.T) {
	p := newPenalties()
	p.setLimits(100*time.Millisecond, 1*time.Second)
	src := netip.MustParsePrefix("192.0.2.7/32")
	other := netip.MustParsePrefix("198.51.100.1/32")
	var got []time.Duration
	for i := 0; i < 6; i++ {
		got = append(got, p.delay(src))
		if _, next := p.fail(src); next != p.delay(src) {
			t.Fatalf("fail says the next delay is %v, delay says %v", next, p.delay(src))
		}
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms", got, want)
		}
	}
	if d := p.delay(other); d != 100*time.Millisecond {
		t.Fatalf("another source is penalised: %v", d)
	}
	if l := p.list(); len(l) != 1 || l[0].Failures != 6 || l[0].Delay != time.Second {
		t.Fatalf("list = %+v", l)
	}
	p.succeed(src)
	if d := p.delay(src); d != 100*time.Millisecond {
		t.Fatalf("after a success: %v", d)
	}
	// Bounded: a flood of sources never grows the table past its limit.
	p.limit = 100
	for i := 0; i < 1000; i++ {
		p.fail(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 32))
	}
	if n := len(p.m); n > 100 {
		t.Fatalf("penalty table grew to %d", n)
	}
}

func TestFailedLoginsSlowDownAndDisconnect(t *testing.T) {
	// {PLAIN}: verifying takes no time, so only the penalty is measured.
	alice := account{"alice", "pw", "PLAIN"}
	e := newEnv(t, []account{alice}, func(c *config.Config) {
		c.AuthFailureDelay.Duration = 200 * time.Millisecond
		c.AuthPenaltyMax.Duration = 2 * time.Second
		c.MaxAuthFailures = 3
	})
	c := e.dial()
	var took []time.Duration
	for i := 0; i < 2; i++ {
		c.OK("USER alice")
		start := time.Now()
		c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
		took = append(took, time.Since(start))
	}
	c.OK("USER alice")
	start := time.Now()
	c.Err("PASS wrong", "-ERR [AUTH] too many failed logins; disconnecting")
	took = append(took, time.Since(start))
	if !c.Closed(2 * time.Second) {
		t.Fatal("not disconnected after 3 failures")
	}
	if took[0] < 200*time.Millisecond || took[1] < 400*time.Millisecond || took[2] < 800*time.Millisecond {
		t.Fatalf("failure delays %v; want at least 200ms, 400ms, 800ms", took)
	}
	// Meanwhile another client's good login is not held up, and resets
	// the source's penalty (same 127.0.0.1 source here).
	start = time.Now()
	e.login(alice).OK("QUIT")
	if d := time.Since(start); d >= 800*time.Millisecond {
		t.Errorf("a good login took %v: it was given the penalty", d)
	}
	c = e.dial()
	c.OK("USER alice")
	start = time.Now()
	c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
	if d := time.Since(start); d >= 400*time.Millisecond {
		t.Errorf("penalty not reset by a good login: %v", d)
	}
}

func TestConnectionLimits(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.MaxConnectionsPerIP = 2 })
	e.dial()
	e.dial()
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := testutil.NewPOP3(t, conn)
	c.Expect("-ERR [SYS/TEMP] too many connections from your address")
	if !c.Closed(2 * time.Second) {
		t.Fatal("over-limit connection left open")
	}

	e2 := newEnv(t, []account{alice}, func(c *config.Config) { c.MaxConnections = 1 })
	e2.dial()
	conn2, _ := net.Dial("tcp", e2.addr)
	defer conn2.Close()
	c2 := testutil.NewPOP3(t, conn2)
	c2.Expect("-ERR [SYS/TEMP] too many connections")
}

func TestLoginTimeout(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.LoginTimeout.Duration = 1 * time.Second })
	c := e.dial()
	// Busy but never logging in: still cut off.
	for i := 0; i < 3; i++ {
		c.OK("CAPA")
		c.Multi()
		time.Sleep(300 * time.Millisecond)
	}
	c.Expect("-ERR login timed out")
	if !c.Closed(2 * time.Second) {
		t.Fatal("not closed")
	}
	// A logged-in session is not bound by it.
	c = e.login(alice)
	time.Sleep(1200 * time.Millisecond)
	c.OK("NOOP")
}

func TestLoginDelay(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.LoginDelay.Duration = time.Hour })
	c := e.dial()
	if !containsLine(capaOf(c), "LOGIN-DELAY 3600") {
		t.Fatal("CAPA does not announce LOGIN-DELAY 3600")
	}
	c.OK("USER alice")
	c.OK("PASS " + alice.pass)
	c.OK("QUIT")
	c = e.dial()
	c.OK("USER alice")
	c.Err("PASS "+alice.pass, "-ERR [LOGIN-DELAY] minimum time between logins has not elapsed")
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestPrivilegeDrop runs the real popd as root with -user nobody: after
// binding it must run as nobody. It needs root and the built binary.
func TestPrivilegeDrop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "popd")
	if out, err := exec.Command("go", "build", "-o", bin, "popd/cmd/popd").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	users := filepath.Join(dir, "users")
	os.WriteFile(users, []byte("alice:{PLAIN}pw\n"), 0o644)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-users", users, "-listen", addr, "-maildir", filepath.Join(dir, "%u"), "-user", "nobody",
		"-control", filepath.Join(dir, "control.sock"))
	out := &testutil.Buffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	testutil.Eventually(t, 5*time.Second, "condition", func() bool { return strings.Contains(out.String(), "dropped privileges") })
	status, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "status"))
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "Uid:") && strings.Contains(l, "\t0\t") {
			t.Fatalf("still root after -user nobody: %q", l)
		}
	}
	// And as root without -user it refuses to serve.
	b, err := exec.Command(bin, "-users", users, "-listen", "127.0.0.1:0", "-control", filepath.Join(dir, "c2.sock")).CombinedOutput()
	if err == nil || !strings.Contains(string(b), "refusing to serve mail as root") {
		t.Fatalf("root without -user: %v %s", err, b)
	}
}
