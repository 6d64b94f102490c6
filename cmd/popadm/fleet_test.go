package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"popd/internal/testutil"
	"popd/internal/testutil/fleettest"
	"popd/internal/testutil/site"
	"popd/internal/userdb"
)

// testFleet is several real popds (daemon.Run, as popd runs it) in this
// process, each with its own POP3 port on 127.0.0.1 and its own control
// socket, serving one site — one users file, one mail root — as nodes
// share them over NFS; and the fleet file that names them.
type testFleet struct {
	*site.Site
	t     *testing.T
	nodes []*testNode
	file  string
}

type testNode struct {
	name, addr, control string
	stop                func() error // ends the node; the test's end calls it too
}

var fleetAccounts = []site.Account{
	{Name: "alice", Pass: "alice pw", Scheme: "PLAIN"},
	{Name: "bob", Pass: "bob pw", Scheme: "PLAIN"},
	{Name: "carol", Pass: "carol pw", Scheme: "PLAIN"},
}

// startFleet runs a node for each name (fleettest) and writes the fleet
// file.
func startFleet(t *testing.T, names ...string) *testFleet {
	t.Helper()
	f := &testFleet{Site: site.New(t, fleetAccounts), t: t}
	for _, a := range fleetAccounts {
		f.Deliver(t, a.Name, "Subject: hello\r\n\r\nhi\r\n")
	}
	fl := fleettest.Start(t, f.Site, names...)
	for _, n := range fl.Nodes {
		f.nodes = append(f.nodes, &testNode{name: n.Name, addr: n.Addr, control: n.Control, stop: n.Stop})
	}
	f.file = fl.File
	return f
}

// login opens a POP3 session of a on node i.
func (f *testFleet) login(i int, a site.Account) *testutil.POP3 {
	f.t.Helper()
	c := testutil.DialPOP3(f.t, f.nodes[i].addr)
	c.OK("USER " + a.Name)
	c.OK("PASS " + a.Pass)
	return c
}

// run runs popadm on the fleet.
func (f *testFleet) run(args ...string) result {
	f.t.Helper()
	return run(f.t, append([]string{"-fleet", f.file}, args...)...)
}

// objects decodes a JSON array of objects.
func objects(t *testing.T, out string) []map[string]any {
	t.Helper()
	var v []map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	return v
}

// sessionID is the ID of user's session on node, from who --json.
func sessionID(t *testing.T, who []map[string]any, node, user string) string {
	t.Helper()
	for _, s := range who {
		if s["node"] == node && s["user"] == user {
			return s["id"].(string)
		}
	}
	t.Fatalf("no session of %s on %s in %v", user, node, who)
	return ""
}

func TestFleetListings(t *testing.T) {
	f := startFleet(t, "pop1", "pop2", "pop3")
	alice := f.login(0, fleetAccounts[0])
	f.login(1, fleetAccounts[1])
	testutil.DialPOP3(t, f.nodes[2].addr) // not logged in

	r := f.run("who", "--json")
	r.want(t, 0, `^\[\n  \{\n    "node": "pop1",\n    "id": `) // "node" comes first
	who := objects(t, r.stdout)
	if len(who) != 3 {
		t.Fatalf("who --json: %d sessions:\n%s", len(who), r.stdout)
	}
	sessionID(t, who, "pop1", "alice")
	sessionID(t, who, "pop2", "bob")
	if who[2]["node"] != "pop3" || who[2]["state"] != "authorization" {
		t.Errorf("pop3's session: %v", who[2])
	}
	r = f.run("who")
	r.want(t, 0, `(?m)^NODE +ID +USER +CLIENT +TLS +STATE .*\npop1 +[0-9a-z]{4}-\d+ +alice +127\.0\.0\.1:\d+ +no +transaction .*\npop2 +[0-9a-z]{4}-\d+ +bob .*\npop3 +[0-9a-z]{4}-\d+ +- .*authorization`)

	// The lock files are in the shared maildirs: every node lists them,
	// and the node whose session holds one says which session.
	locks := objects(t, f.run("locks", "--json").stdout)
	held := map[string]string{}
	for _, l := range locks {
		if l["session"] != nil {
			held[l["user"].(string)] = l["node"].(string)
		}
	}
	if len(locks) != 6 || held["alice"] != "pop1" || held["bob"] != "pop2" {
		t.Errorf("locks --json: %v", locks)
	}
	f.run("locks").want(t, 0, `(?m)^NODE +USER +HOLDER .*\npop1 +alice +session [0-9a-z]{4}-\d+ `)

	r = f.run("stats")
	r.want(t, 0, `^NODE +STATUS +VERSION +UPTIME +SESSIONS +LOGINS +FAILED LOGINS +SENT\npop1 +up +\S+ +\S+ +1 +1 \(`)
	if r.stderr != "" {
		t.Errorf("stderr %q", r.stderr)
	}
	st := objects(t, f.run("stats", "--json").stdout)
	if len(st) != 3 || st[1]["node"] != "pop2" || st[1]["up"] != true || st[1]["sessions"] != 1.0 {
		t.Errorf("stats --json: %v", st)
	}
	f.run("penalties", "--json").want(t, 0, `^\[\]\n$`)
	f.run("penalties").want(t, 0, `^no penalties\n$`)

	// The users file is shared: one list, with the last login seen on
	// any node.
	alice.OK("QUIT")
	users := objects(t, f.run("user", "list", "--json").stdout)
	if len(users) != 3 || users[0]["name"] != "alice" || users[0]["last_login"] == nil || users[1]["last_login"] == nil || users[2]["last_login"] != nil {
		t.Errorf("user list --json: %v", users)
	}
	f.run("user", "list").want(t, 0, `(?m)^NAME +SCHEME +STATUS .*\nalice +PLAIN +enabled .* ago$`)
}

func TestFleetKick(t *testing.T) {
	f := startFleet(t, "pop1", "pop2")
	alice := f.login(0, fleetAccounts[0])
	bob := f.login(1, fleetAccounts[1])
	who := objects(t, f.run("who", "--json").stdout)
	aliceID, bobID := sessionID(t, who, "pop1", "alice"), sessionID(t, who, "pop2", "bob")
	if aliceID != bobID {
		t.Fatalf("session IDs %s and %s: want the same on both nodes", aliceID, bobID)
	}

	// The same ID on two nodes: refused, naming both.
	r := f.run("kick", bobID)
	r.want(t, 1, "^$")
	want := fmt.Sprintf("popadm: session %s is on several nodes: pop1/%s (alice from 127.0.0.1:", bobID, bobID)
	if !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "pop2/"+bobID+" (bob from ") {
		t.Errorf("ambiguous kick: %q", r.stderr)
	}

	f.run("kick", "pop2/"+bobID).want(t, 0, "^kicked session pop2/"+bobID+"\n$")
	bob.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !bob.Closed(5 * time.Second) {
		t.Error("bob's session on pop2 is still open")
	}
	alice.OK("NOOP")

	// Now the bare ID is pop1's only.
	f.run("kick", aliceID).want(t, 0, "^kicked session pop1/"+aliceID+"\n$")
	alice.Expect("-ERR [SYS/TEMP]")

	r = f.run("kick", "pop9/1")
	if r.code != 1 || !strings.Contains(r.stderr, `no node "pop9" in `+f.file+" (nodes: pop1, pop2)") {
		t.Errorf("unknown node: %d %q", r.code, r.stderr)
	}
	r = f.run("kick", "99")
	if r.code != 1 || r.stderr != "popadm: no session 99 on any node\n" {
		t.Errorf("no such session: %d %q", r.code, r.stderr)
	}
	r = f.run("kick", "pop1/99")
	if r.code != 1 || r.stderr != "popadm: node pop1: no session 99\n" {
		t.Errorf("no such session on pop1: %d %q", r.code, r.stderr)
	}

	f.login(0, fleetAccounts[2])
	f.login(1, fleetAccounts[0])
	f.run("kick", "--user", "carol").want(t, 0, "^pop1: kicked 1 session of carol\npop2: kicked 0 sessions of carol\n$")
}

func TestFleetUnlock(t *testing.T) {
	f := startFleet(t, "pop1", "pop2", "pop3")
	bob := f.login(1, fleetAccounts[1])
	f.run("unlock", "bob").want(t, 0, "^unlocked the maildrop of bob on pop2\n$")
	bob.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	if !bob.Closed(5 * time.Second) {
		t.Error("bob's session is still open")
	}
	r := f.run("unlock", "bob")
	if r.code != 1 || r.stderr != "popadm: the maildrop of \"bob\" is not locked\n" {
		t.Errorf("unlock again: %d %q", r.code, r.stderr)
	}
	f.login(2, fleetAccounts[1]) // the maildrop is free again
}

// The user commands go once through the first node (the users file is
// shared); deleting a user ends their sessions on every node.
func TestFleetUsers(t *testing.T) {
	f := startFleet(t, "pop1", "pop2")
	carol := f.login(1, fleetAccounts[2])
	popadm(t, t.Context(), "dave pw\n", nil, "-fleet", f.file, "user", "add", "dave", "--password-stdin").
		want(t, 0, "^added user dave \\(through node pop1\\)\n$")
	f.run("user", "disable", "dave").want(t, 0, "^disabled user dave \\(through node pop1\\)\n$")
	f.run("user", "enable", "dave").want(t, 0, "^enabled user dave \\(through node pop1\\)\n$")
	f.run("user", "del", "carol").want(t, 0, "^pop2: kicked 1 session of carol\ndeleted user carol \\(their mail is kept\\) \\(through node pop1\\)\n$")
	carol.Expect("-ERR [SYS/TEMP] session ended by the administrator")
}

// A node that is down is said on standard error and shown as down, the
// others answer, and the exit status is 3; with every node down, 1.
func TestFleetNodeDown(t *testing.T) {
	f := startFleet(t, "pop1", "pop2", "pop3")
	f.login(0, fleetAccounts[0])
	if err := f.nodes[1].stop(); err != nil {
		t.Fatal(err)
	}
	downLine := regexp.MustCompile(`^popadm: node pop2: popd is not running\? (no control socket at|nothing answers on) ` + regexp.QuoteMeta(f.nodes[1].control) + "\n$")

	r := f.run("stats")
	r.want(t, 3, `(?m)^NODE +STATUS .*\npop1 +up +.*\npop2 +down +- +- +- +- +- +-\npop3 +up `)
	if !downLine.MatchString(r.stderr) {
		t.Errorf("stderr %q", r.stderr)
	}
	st := objects(t, f.run("stats", "--json").stdout)
	if len(st) != 3 || st[1]["node"] != "pop2" || st[1]["up"] != false || !strings.Contains(st[1]["error"].(string), "popd is not running") || st[2]["up"] != true {
		t.Errorf("stats --json: %v", st)
	}
	r = f.run("who", "--json")
	r.want(t, 3, "")
	if who := objects(t, r.stdout); len(who) != 1 || who[0]["node"] != "pop1" {
		t.Errorf("who --json: %v", who)
	}
	if !downLine.MatchString(r.stderr) {
		t.Errorf("stderr %q", r.stderr)
	}
	// A bare ID is not enough when a node that might have it is down.
	r = f.run("kick", sessionID(t, objects(t, r.stdout), "pop1", "alice"))
	if r.code != 1 || !strings.Contains(r.stderr, "but pop2 did not answer and may have one too; say pop1/") {
		t.Errorf("kick with pop2 down: %d %q", r.code, r.stderr)
	}

	// A user change goes through the first node that answers.
	if err := f.nodes[0].stop(); err != nil {
		t.Fatal(err)
	}
	r = popadm(t, t.Context(), "dave pw\n", nil, "-fleet", f.file, "user", "add", "dave", "--password-stdin")
	r.want(t, 3, "^added user dave \\(through node pop3\\)\n$")
	if !strings.Contains(r.stderr, "popadm: node pop1: ") || !strings.Contains(r.stderr, "popadm: node pop2: ") {
		t.Errorf("stderr %q", r.stderr)
	}
	users, err := userdb.Open(f.Cfg.Users, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Verify("dave", "dave pw"); err != nil {
		t.Errorf("dave: %v", err)
	}

	if err := f.nodes[2].stop(); err != nil {
		t.Fatal(err)
	}
	r = f.run("who")
	r.want(t, 1, "^$")
	if !strings.HasSuffix(r.stderr, "popadm: node pop3: popd is not running? no control socket at "+f.nodes[2].control+"\npopadm: no node of the fleet answered\n") {
		t.Errorf("every node down: %q", r.stderr)
	}
	f.run("stats").want(t, 1, "pop3 +down")
}

// A node that takes a connection but says nothing is down after its 2 s.
func TestFleetNodeHangs(t *testing.T) {
	f := startFleet(t, "pop1")
	mute := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", mute)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	defer func() { l.Close(); <-accepted }()
	go func() { // takes connections and says nothing
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	file, err := os.OpenFile(f.file, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = fmt.Fprintf(file, "[[node]]\nname = \"pop2\"\npop3 = \"127.0.0.1:1\"\ncontrol = %q\n", mute)
		file.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := f.run("stats")
	r.want(t, 3, `(?m)^pop1 +up .*\npop2 +down `)
	if !regexp.MustCompile(`^popadm: node pop2: (no answer in time|` + regexp.QuoteMeta(mute) + `: no hello from popd in time)\n$`).MatchString(r.stderr) {
		t.Errorf("stderr %q", r.stderr)
	}
	if d := time.Since(start); d < nodeTimeout || d > nodeTimeout+3*time.Second {
		t.Errorf("took %v; a node has %v", d, nodeTimeout)
	}
}

func TestFleetEvents(t *testing.T) {
	for _, asJSON := range []bool{true, false} {
		f := startFleet(t, "pop1", "pop2")
		ctx, cancel := context.WithCancel(t.Context())
		var out, errOut testutil.Buffer
		e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
		args := []string{"-fleet", f.file, "events"}
		if asJSON {
			args = append(args, "--json")
		}
		done := make(chan int)
		go func() { done <- e.run(args) }()

		// Once subscribed, logins on both nodes come out, each with its
		// node.
		login1, login2 := `"node":"pop1","type":"login"`, `"node":"pop2","type":"login"`
		if !asJSON {
			login1, login2 = "pop1  ", "pop2  "
		}
		testutil.Eventually(t, 10*time.Second, "no login events from both nodes", func() bool {
			if s := out.String(); strings.Contains(s, login1) && strings.Contains(s, login2) {
				return true
			}
			f.login(0, fleetAccounts[0]).OK("QUIT")
			f.login(1, fleetAccounts[1]).OK("QUIT")
			return false
		})
		if !asJSON {
			if !regexp.MustCompile(`(?m)^pop2  \d\d:\d\d:\d\d  login +user=bob session=[0-9a-z]{4}-\d+ remote=127\.0\.0\.1:\d+`).MatchString(out.String()) {
				t.Errorf("event lines:\n%s", out.String())
			}
			// A node that goes away is said, and the others go on.
			f.nodes[1].stop()
			testutil.Eventually(t, 10*time.Second, "pop2's end not said", func() bool {
				return errOut.String() == "popadm: node pop2: popd closed the connection\n"
			})
		}
		cancel()
		code := <-done
		if want := map[bool]int{true: 0, false: 3}[asJSON]; code != want {
			t.Errorf("exit %d, want %d: %s", code, want, errOut.String())
		}
		for line := range strings.Lines(out.String()) {
			if !asJSON {
				break
			}
			var ev struct{ Node, Type string }
			if err := json.Unmarshal([]byte(line), &ev); err != nil || (ev.Node != "pop1" && ev.Node != "pop2") || ev.Type == "" {
				t.Errorf("event %q: %v", line, err)
			}
		}
	}
}

func TestFleetUsage(t *testing.T) {
	f := startFleet(t, "pop1")
	t.Setenv("POPD_CONTROL", filepath.Join(t.TempDir(), "none.sock"))

	r := run(t, "-fleet", f.file, "-control", f.nodes[0].control, "who")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "popadm: -control and -fleet exclude each other\n") {
		t.Errorf("-fleet and -control: %d %q", r.code, r.stderr)
	}
	r = run(t, "-fleet", filepath.Join(t.TempDir(), "none.toml"), "who")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "popadm: fleet: ") {
		t.Errorf("no fleet file: %d %q", r.code, r.stderr)
	}
	run(t, "who", "-fleet", f.file).want(t, 0, "^no sessions\n$") // after the command too

	// $POPADM_FLEET is the default; -control wins over it.
	t.Setenv("POPADM_FLEET", f.file)
	run(t, "stats").want(t, 0, `^NODE +STATUS`)
	run(t, "-control", f.nodes[0].control, "stats").want(t, 0, `^version +`)
	r = run(t, "kick", "pop1/")
	if r.code != 2 || !strings.Contains(r.stderr, "NODE/ID without the ID") {
		t.Errorf("kick pop1/: %d %q", r.code, r.stderr)
	}
	// The dashboard runs on the fleet too (internal/tui tests it): what is
	// wrong with the fleet is said before it takes the screen.
	dashboard := func(args ...string) (int, string) {
		var stderr strings.Builder
		e := &env{ctx: t.Context(), stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &stderr, terminal: true}
		return e.run(args), stderr.String()
	}
	if code, stderr := dashboard("-fleet", f.file, "-control", f.nodes[0].control); code != 2 || !strings.HasPrefix(stderr, "popadm: -control and -fleet exclude each other\n") {
		t.Errorf("dashboard with -fleet and -control: %d %q", code, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[[node]]\nname = \"pop1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POPADM_FLEET", bad)
	if code, stderr := dashboard(); code != 1 || !strings.HasPrefix(stderr, "popadm: fleet: "+bad+": ") {
		t.Errorf("dashboard on a broken $POPADM_FLEET: %d %q", code, stderr)
	}
	help := run(t, "-h").stdout
	for _, want := range []string{"-fleet FILE (default: $POPADM_FLEET", "dial-stdio PATH", "3 when some\nnode"} {
		if !strings.Contains(help, want) {
			t.Errorf("no %q in the help", want)
		}
	}
}

// dial-stdio joins standard input and output to the control socket.
func TestDialStdio(t *testing.T) {
	_, path := start(t)
	in := `{"hello":"popd-control","version":1}` + "\n" + `{"id":1,"method":"stats"}` + "\n"
	r := popadm(t, t.Context(), in, nil, "dial-stdio", path)
	r.want(t, 0, `^\{"hello":"popd-control","version":1,.*"role":"admin"\}\n\{"id":1,"result":\{"version":`)

	missing := filepath.Join(t.TempDir(), "control.sock")
	r = run(t, "dial-stdio", missing)
	if r.code != 1 || r.stderr != "popadm: popd is not running? no control socket at "+missing+"\n" {
		t.Errorf("no socket: %d %q", r.code, r.stderr)
	}
	run(t, "dial-stdio").want(t, 2, "^$")
}

// buildPopadm compiles popadm, for the far side of ssh.
func buildPopadm(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", dir, "popd/cmd/popadm").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// TestFleetSSH runs the ssh:// transport with a stand-in for ssh
// ($POPADM_SSH): a shell script that records its arguments, skips the
// options and the destination, and runs the remote command line with sh
// as sshd would — "popadm dial-stdio PATH", the real popadm built for the
// test. sshd itself is not involved (TestFleetRealSSHD is); this checks
// the command line, the bridge, and the Client over a process's pipes.
func TestFleetSSH(t *testing.T) {
	bin := buildPopadm(t)
	script := filepath.Join(bin, "fake-ssh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
printf '%s\n' "$*" >> "$(dirname "$0")/ssh.log"
while [ "$1" != "--" ]; do shift; done
shift 2
exec /bin/sh -c "$*"
`), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POPADM_SSH", script)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	f := startFleet(t, "pop1", "pop2")
	missing := filepath.Join(t.TempDir(), "gone.sock")
	fleetFile := fmt.Sprintf(`
[[node]]
name = "pop1"
pop3 = %q
control = %q

[[node]]
name = "pop2"
pop3 = %q
control = "ssh://admin@pop2.example:2222%s"

[[node]]
name = "pop3"
pop3 = "127.0.0.1:1"
control = "ssh://pop3.example%s"
`, f.nodes[0].addr, f.nodes[0].control, f.nodes[1].addr, f.nodes[1].control, missing)
	f.file = filepath.Join(t.TempDir(), "fleet.toml")
	if err := os.WriteFile(f.file, []byte(fleetFile), 0o644); err != nil {
		t.Fatal(err)
	}

	bob := f.login(1, fleetAccounts[1])
	r := f.run("who", "--json")
	r.want(t, 3, "")
	id := sessionID(t, objects(t, r.stdout), "pop2", "bob")
	// What the far popadm said comes back as the node's error.
	if r.stderr != "popadm: node pop3: ssh://pop3.example"+missing+": popadm: popd is not running? no control socket at "+missing+"\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	log, _ := os.ReadFile(filepath.Join(bin, "ssh.log"))
	if want := "-T -o BatchMode=yes -p 2222 -- admin@pop2.example popadm dial-stdio " + f.nodes[1].control + "\n"; !strings.Contains(string(log), want) {
		t.Errorf("ssh ran with:\n%s\nwant %q", log, want)
	}

	f.run("kick", "pop2/"+id).want(t, 0, "^kicked session pop2/"+id+"\n$")
	bob.Expect("-ERR [SYS/TEMP] session ended by the administrator")

	// Events need a second connection: a second ssh.
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut testutil.Buffer
	e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	done := make(chan int)
	go func() { done <- e.run([]string{"-fleet", f.file, "events", "--json"}) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("events: %s\nstderr: %s", out.String(), errOut.String())
		}
	})
	testutil.Eventually(t, 10*time.Second, "no login event over ssh", func() bool {
		if strings.Contains(out.String(), `"node":"pop2","type":"login"`) {
			return true
		}
		f.login(1, fleetAccounts[1]).OK("QUIT")
		return false
	})
	cancel()
	if code := <-done; code != 3 {
		t.Errorf("events: exit %d: %s", code, errOut.String())
	}
}

// TestFleetRealSSHD runs the ssh:// transport through a real sshd on
// loopback: its own host key, authorized_keys and configuration in a
// temporary directory, on a free port, run in the foreground (-D -e)
// until the test ends. The ssh client is the real one, given the test's
// key and known_hosts by a wrapper ($POPADM_SSH); the far popadm is the
// one built for the test, put on the session's PATH by sshd's SetEnv.
func TestFleetRealSSHD(t *testing.T) {
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("no " + sshd + " (Debian: openssh-server): ssh:// is tested with a stand-in for ssh only (TestFleetSSH)")
	}
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh client (Debian: openssh-client)")
	}
	if os.Geteuid() == 0 {
		if _, err := os.Stat("/run/sshd"); err != nil {
			t.Skip("sshd run as root needs its privilege separation directory /run/sshd (mkdir -m 755 /run/sshd)")
		}
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	bin := buildPopadm(t)
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	for _, k := range []string{"host_key", "client_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", k, "-f", file(k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	copyFile := func(from, to string) []byte {
		b, err := os.ReadFile(from)
		if err == nil {
			err = os.WriteFile(to, b, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	copyFile(file("client_key.pub"), file("authorized_keys"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	config := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile none
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers %s
SetEnv PATH=%s:/usr/local/bin:/usr/bin:/bin
LogLevel VERBOSE
`, port, file("host_key"), file("authorized_keys"), me.Username, bin)
	if err := os.WriteFile(file("sshd_config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	d := exec.Command(sshd, "-D", "-e", "-f", file("sshd_config"))
	var sshdLog testutil.Buffer
	d.Stdout, d.Stderr = &sshdLog, &sshdLog
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Kill()
		d.Wait()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", sshdLog.String())
		}
	})
	testutil.Eventually(t, 10*time.Second, "sshd does not listen", func() bool {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	hostKey := copyFile(file("host_key.pub"), file("host_key.pub.copy"))
	known := fmt.Sprintf("[127.0.0.1]:%d %s", port, hostKey)
	if err := os.WriteFile(file("known_hosts"), []byte(known), 0o600); err != nil {
		t.Fatal(err)
	}
	wrapper := file("ssh")
	if err := os.WriteFile(wrapper, fmt.Appendf(nil, `#!/bin/sh
exec %s -F none -i %s -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes "$@"
`, ssh, file("client_key"), file("known_hosts")), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POPADM_SSH", wrapper)

	f := startFleet(t, "pop1", "pop2")
	fleetFile := fmt.Sprintf(`
[[node]]
name = "pop1"
pop3 = %q
control = %q

[[node]]
name = "pop2"
pop3 = %q
control = "ssh://%s@127.0.0.1:%d%s"
`, f.nodes[0].addr, f.nodes[0].control, f.nodes[1].addr, me.Username, port, f.nodes[1].control)
	f.file = file("fleet.toml")
	if err := os.WriteFile(f.file, []byte(fleetFile), 0o644); err != nil {
		t.Fatal(err)
	}

	bob := f.login(1, fleetAccounts[1])
	r := f.run("who", "--json")
	r.want(t, 0, "")
	id := sessionID(t, objects(t, r.stdout), "pop2", "bob")
	f.run("kick", "pop2/"+id).want(t, 0, "^kicked session pop2/"+id+"\n$")
	bob.Expect("-ERR [SYS/TEMP] session ended by the administrator")
	f.run("stats").want(t, 0, `(?m)^pop2 +up `)
	if !strings.Contains(sshdLog.String(), "Accepted publickey for "+me.Username) {
		t.Errorf("sshd did not log the logins:\n%s", sshdLog.String())
	}
}
