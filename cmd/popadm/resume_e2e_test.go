package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"popd/internal/control"
	"popd/internal/testutil"
)

// demoPopd is popd -demo, the real binary, running in dir.
type demoPopd struct {
	t    *testing.T
	bin  string
	dir  string
	cmd  *exec.Cmd
	addr string // POP3
}

func buildBin(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	if b, err := exec.Command("go", "build", "-o", out, "popd/cmd/"+name).CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	return out
}

// start runs popd -demo in its directory and waits for it to listen.
func (p *demoPopd) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, "-demo", "-listen", "127.0.0.1:0")
	cmd.Dir = p.dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.t.Log("popd: " + sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	select {
	case p.addr = <-addrc:
	case <-time.After(20 * time.Second):
		p.t.Fatal("popd did not start")
	}
	p.cmd = cmd
}

// stop ends popd with sig and waits for it to exit.
func (p *demoPopd) stop(sig syscall.Signal) {
	p.t.Helper()
	p.cmd.Process.Signal(sig)
	p.cmd.Wait()
}

func (p *demoPopd) socket() string { return filepath.Join(p.dir, "popd-demo", "control.sock") }

// login opens a POP3 session of the demo user.
func (p *demoPopd) login() *testutil.POP3 {
	p.t.Helper()
	c := testutil.DialPOP3(p.t, p.addr)
	c.OK("USER demo")
	c.OK("PASS demo")
	return c
}

// loginLine is how a login event starts in the Events view.
const loginLine = "login          #"

// onScreen counts the lines of s that match re.
func onScreen(s string, re *regexp.Regexp) int { return len(re.FindAllStringIndex(s, -1)) }

// TestDashboardRestartEndToEnd: popd restarts under the real dashboard.
// A crash (SIGKILL): the Events view says popd restarted and that events
// may not have been seen. A clean stop (SIGTERM) with a session open: the
// session's end and popd.stopped reach the console before the socket
// closes (bug 3), and after the restart line nothing is said missing.
func TestDashboardRestartEndToEnd(t *testing.T) {
	dir := t.TempDir()
	popd := &demoPopd{t: t, bin: buildBin(t, dir, "popd"), dir: dir}
	popadm := buildBin(t, dir, "popadm")
	popd.start()

	p := startPane(t, dir, 120, 40, popadm)
	p.waitText("the dashboard", "Sessions")
	p.keys("4")
	c := popd.login()
	c.OK("QUIT")
	p.waitText("the login event", loginLine)

	restarted := regexp.MustCompile(`── popd restarted \d\d:\d\d:\d\d \(down \d+s\) ──`)
	notSeen := regexp.MustCompile(`── events not seen \(popd stopped\) ──`)

	// A crash, and a new run.
	popd.stop(syscall.SIGKILL)
	p.waitText("the console to notice", "reconnecting")
	popd.start()
	p.waitFor("the restart line and the not-seen marker", func(s string) bool {
		return onScreen(s, restarted) == 1 && onScreen(s, notSeen) == 1
	})

	// A clean stop with a session open, and a new run.
	c = popd.login()
	p.waitFor("the second login", func(s string) bool { return strings.Count(s, loginLine) == 2 })
	exited := make(chan struct{})
	go func() { popd.stop(syscall.SIGTERM); close(exited) }()
	c.Expect("-ERR [SYS/TEMP] shutting down")
	p.waitFor("the session's end and popd.stopped", func(s string) bool {
		return strings.Contains(s, "session.closed") && strings.Contains(s, "popd.stopped   (shutting down)")
	})
	<-exited
	popd.start()
	p.waitFor("the second restart line, nothing said missing", func(s string) bool {
		return onScreen(s, restarted) == 2 && onScreen(s, notSeen) == 1
	})
	t.Logf("the screen:\n%s", p.screen())
	p.keys("q")
}

// ctlProxy stands between the dashboard and popd's control socket, so
// that the test can cut the dashboard's connections to a popd that goes
// on running, and keep it from reconnecting for a while.
type ctlProxy struct {
	t            *testing.T
	path, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
	wg           sync.WaitGroup
}

func (x *ctlProxy) listen() {
	x.t.Helper()
	ln, err := net.Listen("unix", x.path)
	if err != nil {
		x.t.Fatal(err)
	}
	x.mu.Lock()
	x.ln = ln
	x.mu.Unlock()
	x.wg.Go(func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("unix", x.target)
			if err != nil {
				down.Close()
				continue
			}
			x.mu.Lock()
			x.conns = append(x.conns, down, up)
			x.mu.Unlock()
			x.wg.Go(func() { io.Copy(up, down); up.Close() })
			x.wg.Go(func() { io.Copy(down, up); down.Close() })
		}
	})
}

// cut closes the listener and every connection through it.
func (x *ctlProxy) cut() {
	x.mu.Lock()
	x.ln.Close()
	for _, c := range x.conns {
		c.Close()
	}
	x.conns = nil
	x.mu.Unlock()
	x.wg.Wait()
}

// TestDashboardResumeEndToEnd: the dashboard's connection to popd breaks
// while popd goes on and changes things; when the dashboard is back, the
// Events view has every event it missed, and says nothing is missing.
func TestDashboardResumeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	popd := &demoPopd{t: t, bin: buildBin(t, dir, "popd"), dir: dir}
	popadm := buildBin(t, dir, "popadm")
	popd.start()
	x := &ctlProxy{t: t, path: filepath.Join(dir, "proxy.sock"), target: popd.socket()}
	x.listen()
	t.Cleanup(x.cut)

	p := startPane(t, dir, 120, 40, popadm, "-control", x.path)
	p.waitText("the dashboard", "Sessions")
	p.keys("4")
	c := popd.login()
	c.OK("QUIT")
	p.waitText("the login event", loginLine)

	// The dashboard's connections are cut, and it cannot reconnect.
	x.cut()
	p.waitText("the console to notice", "reconnecting")
	ctl, err := control.Dial(context.Background(), popd.socket())
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	for _, name := range []string{"gap1", "gap2", "gap3"} {
		if err := ctl.AddUser(context.Background(), name, "pw-"+name); err != nil {
			t.Fatal(err)
		}
	}
	x.listen()
	p.waitFor("the events it missed", func(s string) bool {
		return strings.Contains(s, "user.changed   gap1 (added)") && strings.Contains(s, "user.changed   gap2 (added)") &&
			strings.Contains(s, "user.changed   gap3 (added)") && strings.Contains(s, "● live")
	})
	if s := p.screen(); strings.Contains(s, "not seen") || strings.Contains(s, "restarted") {
		t.Fatalf("a gap where there was none:\n%s", s)
	}
	p.keys("q")
}
