package daemon

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
)

// env is a whole popd, as Run wires it, on a loopback port with its
// control socket in a temporary directory.
type env struct {
	*site.Site
	t           testing.TB
	addr        string
	controlPath string
	// next is what the configuration source returns on a reload.
	next atomic.Pointer[config.Config]
	log  *testutil.Buffer // everything popd logged
	// stop ends Run and returns its error; the test's end calls it too.
	stop func() error
}

type account = site.Account

var alice = account{Name: "alice", Pass: "correct horse"}

// newEnv runs popd for the given accounts until the test ends. mod, if not
// nil, adjusts the configuration.
func newEnv(t testing.TB, accounts []account, mod func(*config.Config)) *env {
	t.Helper()
	e := &env{Site: site.New(t, accounts), t: t}
	e.controlPath = filepath.Join(t.TempDir(), "ctl", "control.sock")
	e.Cfg.Control = e.controlPath
	e.Cfg.AllowRoot = true // CI runs as root
	if mod != nil {
		mod(&e.Cfg)
	}
	cfg := e.Cfg
	e.next.Store(&cfg)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	log, buf := testutil.Logger(t)
	e.log = buf
	go func() {
		done <- Run(ctx, e.Cfg, Options{
			Logger: log,
			Source: func() (config.Config, error) { return *e.next.Load(), nil },
			Ready:  func(plain, _ net.Addr) { ready <- plain },
		})
	}()
	select {
	case a := <-ready:
		e.addr = a.String()
	case err := <-done:
		t.Fatalf("popd did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("popd did not start within 10s")
	}
	e.stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("popd: %v", err)
		}
	})
	return e
}

// control connects to the control socket.
func (e *env) control() *control.Client {
	e.t.Helper()
	c, err := control.Dial(context.Background(), e.controlPath)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) dial() *testutil.POP3 { return testutil.DialPOP3(e.t, e.addr) }

func (e *env) login(a account) *testutil.POP3 {
	e.t.Helper()
	c := e.dial()
	c.OK("USER " + a.Name)
	c.OK("PASS " + a.Pass)
	return c
}

func (e *env) deliver(name, content string) string { return e.Deliver(e.t, name, content) }
func (e *env) files(name string) []string          { return e.Files(e.t, name) }

// capa lists the capabilities a new session is offered.
func capa(c *testutil.POP3) []string {
	c.T.Helper()
	c.OK("CAPA")
	return strings.Split(strings.TrimSuffix(c.Multi(), "\r\n"), "\r\n")
}

func containsLine(lines []string, l string) bool { return slices.Contains(lines, l) }
