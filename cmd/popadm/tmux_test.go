package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/testutil"
)

// pane is a program running in a tmux session of its own, for the
// dashboard's end-to-end tests.
type pane struct {
	t       *testing.T
	tmux    string
	session string
}

var paneSeq atomic.Int64

// startPane runs argv in a new tmux session of width×height, in dir ("" for
// the test's), until the test ends. tmux is required in CI, else the test
// is skipped without it.
func startPane(t *testing.T, dir string, width, height int, argv ...string) *pane {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed; .ci/run should have installed it")
		}
		t.Skip("tmux not installed")
	}
	p := &pane{t: t, tmux: tmux, session: fmt.Sprintf("popd-e2e-%d-%d", os.Getpid(), paneSeq.Add(1))}
	args := []string{"new-session", "-d", "-s", p.session, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height)}
	if dir != "" {
		args = append(args, "-c", dir)
	}
	p.run(append(append(args, "env", "TERM=xterm-256color"), argv...)...)
	t.Cleanup(func() { exec.Command(tmux, "kill-session", "-t", p.session).Run() })
	return p
}

func (p *pane) run(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, args...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// keys types keys (tmux key names: "K", "Tab", "Enter").
func (p *pane) keys(keys ...string) {
	p.t.Helper()
	for _, k := range keys {
		p.run("send-keys", "-t", p.session, k)
	}
}

// screen is what the pane shows.
func (p *pane) screen() string { return p.run("capture-pane", "-p", "-t", p.session) }

// waitFor waits until ok(screen) (15 s at most), showing the screen if not.
func (p *pane) waitFor(what string, ok func(screen string) bool) {
	p.t.Helper()
	var s string
	defer func() {
		if p.t.Failed() {
			p.t.Logf("the screen:\n%s", s)
		}
	}()
	testutil.Eventually(p.t, 15*time.Second, "waiting for "+what, func() bool { s = p.screen(); return ok(s) })
}

// waitText waits for text on the screen.
func (p *pane) waitText(what, text string) {
	p.t.Helper()
	p.waitFor(what, func(s string) bool { return strings.Contains(s, text) })
}
