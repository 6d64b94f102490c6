package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"popd/internal/server"
	"popd/internal/testutil"
	"popd/internal/testutil/nginx"
	"popd/internal/testutil/site"
)

// fleetSite is three popd nodes on 127.0.0.11-13 over one maildir root and
// users file, an auth_http popd (no POP3 listener) with the fleet file, and
// nginx's mail proxy in front, sending PROXY headers; the nodes trust
// nginx's address (127.0.0.1) for its cleartext USER/PASS although they
// have plaintext-auth = never.
type fleetSite struct {
	t      testing.TB
	bin    string
	st     *site.Site
	fleet  string
	nodes  []*fleetNode
	proxy  *nginx.Proxy
	users  []string
	certs  []string // -tls-cert, -tls-key
	popadm string
	// nodeArgs are more flags for the nodes.
	nodeArgs []string
}

type fleetNode struct {
	name, addr, sock string
	cmd              *exec.Cmd
	log              *logBuffer
}

func startFleet(t testing.TB, users, nodes int, nodeArgs ...string) *fleetSite {
	if why := nginx.Available(); why != "" {
		t.Skip(why)
	}
	f := &fleetSite{t: t, bin: buildPopd(t), nodeArgs: nodeArgs}
	var accounts []site.Account
	for i := range users {
		name := fmt.Sprintf("u%02d", i)
		f.users = append(f.users, name)
		accounts = append(accounts, site.Account{Name: name, Pass: "pw " + name, Scheme: "PLAIN"})
	}
	f.st = site.New(t, accounts)
	for _, u := range f.users {
		for i := range 3 {
			f.st.Deliver(t, u, fmt.Sprintf("Subject: %s %d\r\n\r\nmessage %d for %s\r\n", u, i, i, u))
		}
	}
	cert, key, _ := testutil.Cert(t, f.st.Dir, "popd fleet test")
	f.certs = []string{"-tls-cert", cert, "-tls-key", key}
	var fleet strings.Builder
	for i := range nodes {
		n := &fleetNode{
			name: fmt.Sprintf("pop%d", i+1),
			addr: freeAddr(t, fmt.Sprintf("127.0.0.%d", 11+i)),
			sock: filepath.Join(f.st.Dir, fmt.Sprintf("pop%d.sock", i+1)),
		}
		fmt.Fprintf(&fleet, "[[node]]\nname = %q\npop3 = %q\ncontrol = %q\nproxy = true\n\n", n.name, n.addr, n.sock)
		f.nodes = append(f.nodes, n)
	}
	f.fleet = filepath.Join(f.st.Dir, "fleet.toml")
	if err := os.WriteFile(f.fleet, []byte(fleet.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range f.nodes {
		f.startNode(n)
	}
	// nginx proves itself to the auth service with a key.
	authKey := "e2e0123456789abcdef0123456789abc"
	keyFile := filepath.Join(f.st.Dir, "auth-http.key")
	if err := os.WriteFile(keyFile, []byte(authKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	authArgs := append([]string{"-listen", "none", "-auth-http", "127.0.0.1:0", "-fleet", f.fleet,
		"-auth-http-key", keyFile,
		"-users", f.st.Cfg.Users, "-maildir", f.st.Cfg.Maildir, "-auth-failure-delay", "50ms",
		"-control", filepath.Join(f.st.Dir, "auth.sock")}, rootArgs()...)
	authAddr, _, _ := startPopdAwait(t, f.bin, regexp.MustCompile(`msg="auth_http listening" addr=(\S+)`), authArgs...)
	f.proxy = nginx.Start(t, nginx.Options{AuthHTTP: authAddr, ProxyProtocol: true,
		AuthHeader: [2]string{server.AuthHTTPKeyHeader, authKey}})
	return f
}

func (f *fleetSite) startNode(n *fleetNode) {
	args := append([]string{"-listen", n.addr, "-users", f.st.Cfg.Users, "-maildir", f.st.Cfg.Maildir,
		"-control", n.sock, "-proxy-from", "127.0.0.1", "-trusted-login-from", "127.0.0.1",
		"-lock-stale", "10s"}, append(append(f.certs, rootArgs()...), f.nodeArgs...)...)
	_, n.cmd, n.log = startPopdLog(f.t, f.bin, args...)
}

// freeAddr is a free port on ip.
func freeAddr(t testing.TB, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// session logs in as user through nginx, runs cmds (each answered +OK)
// and QUITs; it returns the error of the first step that failed.
func (f *fleetSite) session(user string, cmds ...string) error {
	conn, err := net.Dial("tcp", f.proxy.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	for _, c := range append([]string{"", "USER " + user, "PASS pw " + user}, append(cmds, "QUIT")...) {
		if c != "" {
			io.WriteString(conn, c+"\r\n")
		}
		l, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%q: %v", c, err)
		}
		if !strings.HasPrefix(l, "+OK") {
			return fmt.Errorf("%q: %s", c, strings.TrimSpace(l))
		}
		if c == "UIDL" || c == "LIST" {
			for l != ".\r\n" {
				if l, err = r.ReadString('\n'); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// popadmBin builds popadm once.
func (f *fleetSite) popadmBin() string {
	if f.popadm == "" {
		f.popadm = filepath.Join(f.t.TempDir(), "popadm")
		if out, err := exec.Command("go", "build", "-o", f.popadm, "../popadm").CombinedOutput(); err != nil {
			f.t.Fatalf("go build popadm: %v\n%s", err, out)
		}
	}
	return f.popadm
}

// openSession is a session through nginx, logged in as user and left open.
func (f *fleetSite) openSession(user string) *testutil.POP3 {
	c := testutil.DialPOP3(f.t, f.proxy.Addr)
	c.OK("USER " + user)
	c.OK("PASS pw " + user)
	return c
}

// servedBy is the node whose log has a login of user since mark (the
// lengths of the nodes' logs when it was taken).
func (f *fleetSite) servedBy(user string, mark []int) []string {
	re := regexp.MustCompile(`msg=login .*user=` + user + ` `)
	var out []string
	for i, n := range f.nodes {
		if s := n.log.String(); len(s) > mark[i] && re.MatchString(s[mark[i]:]) {
			out = append(out, n.name)
		}
	}
	return out
}

func (f *fleetSite) mark() []int {
	m := make([]int, len(f.nodes))
	for i, n := range f.nodes {
		m[i] = len(n.log.String())
	}
	return m
}

// TestFleetBehindNginx: through nginx, every user always lands on one
// node; when that node dies its users are served by the others within a
// few seconds, with no message lost or deleted twice; when it comes back,
// they go home.
func TestFleetBehindNginx(t *testing.T) {
	f := startFleet(t, 50, 3)
	home := map[string]string{}
	perNode := map[string]int{}
	for round := range 3 {
		for _, u := range f.users {
			m := f.mark()
			if err := f.session(u, "STAT", "UIDL"); err != nil {
				t.Fatalf("round %d, %s: %v", round, u, err)
			}
			var by []string
			testutil.Eventually(t, 5*time.Second, "the node logs the login of "+u, func() bool {
				by = f.servedBy(u, m)
				return len(by) > 0
			})
			if len(by) != 1 || home[u] != "" && home[u] != by[0] {
				t.Fatalf("round %d: %s served by %v, before by %s", round, u, by, home[u])
			}
			if home[u] == "" {
				perNode[by[0]]++
			}
			home[u] = by[0]
		}
	}
	t.Logf("users per node: %v", perNode)
	if len(perNode) != 3 {
		t.Fatalf("users per node: %v", perNode)
	}

	// pop2 dies (SIGKILL) in the middle of a session that marked a
	// message deleted: the deletion never happens (no QUIT), and the lock
	// it leaves, held by a dead pid on this host, is broken at once.
	dead := f.nodes[1]
	var moved []string
	for _, u := range f.users {
		if home[u] == dead.name {
			moved = append(moved, u)
		}
	}
	open := f.openSession(moved[0])
	open.OK("DELE 2")
	dead.cmd.Process.Signal(syscall.SIGKILL)
	dead.cmd.Wait()
	open.Conn.Close()
	start := time.Now()
	testutil.Eventually(t, 10*time.Second, "pop2's first user is served elsewhere", func() bool {
		return f.session(moved[0], "STAT") == nil
	})
	t.Logf("failover after %v", time.Since(start).Round(100*time.Millisecond))
	for _, u := range moved {
		m := f.mark()
		if err := f.session(u, "DELE 1"); err != nil {
			t.Fatalf("%s after pop2 died: %v", u, err)
		}
		testutil.Eventually(t, 5*time.Second, u+" served", func() bool { return len(f.servedBy(u, m)) == 1 })
		if by := f.servedBy(u, m)[0]; by == dead.name {
			t.Fatalf("%s served by the dead node", u)
		}
	}
	// Users of the other nodes did not move.
	for _, u := range f.users {
		if home[u] == dead.name {
			continue
		}
		m := f.mark()
		if err := f.session(u, "STAT"); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 5*time.Second, u+" served", func() bool { return len(f.servedBy(u, m)) == 1 })
		if by := f.servedBy(u, m)[0]; by != home[u] {
			t.Fatalf("%s moved from %s to %s when pop2 died", u, home[u], by)
		}
	}

	// pop2 comes back: its users go home.
	f.startNode(dead)
	testutil.Eventually(t, 10*time.Second, "pop2's users go home", func() bool {
		m := f.mark()
		if f.session(moved[0], "STAT") != nil {
			return false
		}
		time.Sleep(100 * time.Millisecond)
		by := f.servedBy(moved[0], m)
		return len(by) == 1 && by[0] == dead.name
	})

	// One console for the fleet: a session through nginx on every node,
	// listed with its node by popadm -fleet; a kick through it ends the
	// session on its node.
	held := map[string]*testutil.POP3{}
	for _, u := range f.users {
		if held[home[u]] == nil {
			held[home[u]] = f.openSession(u)
		}
	}
	var who []map[string]any
	testutil.Eventually(t, 5*time.Second, "who lists a session on every node", func() bool {
		out, err := exec.Command(f.popadmBin(), "-fleet", f.fleet, "who", "--json").Output()
		if err != nil {
			t.Logf("popadm who: %v", err)
			return false
		}
		who = nil
		if err := json.Unmarshal(out, &who); err != nil {
			t.Fatalf("who --json: %v\n%s", err, out)
		}
		nodes := map[any]bool{}
		for _, s := range who {
			if s["user"] != "" && s["user"] != nil {
				nodes[s["node"]] = true
			}
		}
		return len(nodes) == 3
	})
	victim := f.nodes[2].name
	var id string
	for _, s := range who {
		if s["node"] == victim && s["user"] != nil && s["user"] != "" {
			id = s["id"].(string)
		}
	}
	if out, err := exec.Command(f.popadmBin(), "-fleet", f.fleet, "kick", victim+"/"+id).CombinedOutput(); err != nil {
		t.Fatalf("popadm kick %s/%s: %v\n%s", victim, id, err, out)
	}
	if l := held[victim].Line(); !strings.Contains(l, "[SYS/TEMP]") {
		t.Errorf("kicked session got %q", l)
	}
	if !held[victim].Closed(5 * time.Second) {
		t.Error("the kicked session is still open")
	}
	for node, c := range held {
		if node != victim {
			c.OK("NOOP")
			c.OK("QUIT")
		}
	}

	// Nothing lost, nothing deleted twice: every moved user deleted one
	// message (DELE 1 + QUIT, once), the others none.
	for _, u := range f.users {
		want := 3
		if home[u] == dead.name {
			want = 2
		}
		if got := len(f.st.Files(t, u)); got != want {
			t.Errorf("%s has %d messages, want %d", u, got, want)
		}
	}
}

// BenchmarkFleet: login + STAT + QUIT sessions per second through nginx
// with 1, 2 and 3 nodes, 16 clients over 48 users. Everything runs on
// this one machine, nginx, the auth service and the nodes included: a
// scaling check of the setup, not a capacity figure.
func BenchmarkFleet(b *testing.B) {
	for _, nodes := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			// All clients come from 127.0.0.1: no per-address limit.
			f := startFleet(b, 48, nodes, "-max-connections-per-ip", "1000")
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				user := f.users[next.Add(1)%int64(len(f.users))]
				for pb.Next() {
					if err := f.session(user, "STAT"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sessions/s")
		})
	}
}
