// Package fleettest runs a fleet of real popd nodes (daemon.Run, as popd
// runs it) in the test's process: each with its own POP3 port on
// 127.0.0.1 and its own control socket, all serving one site — one users
// file, one mail root — as nodes share them over NFS; and it writes the
// fleet file that names them.
package fleettest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/daemon"
	"popd/internal/event"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
)

// Node is a running popd of a test fleet.
type Node struct {
	Name    string
	Addr    string // POP3, 127.0.0.1:port
	Control string // the control socket
	// Stop ends the node and returns daemon.Run's error; the end of the
	// test calls it too. Sessions still open delay it (daemon.ShutdownGrace).
	Stop func() error
}

// Fleet is nodes serving one site, and the fleet file that names them.
type Fleet struct {
	*site.Site
	Nodes []*Node
	File  string
}

// Start runs a node of s for each name and writes the fleet file.
func Start(t testing.TB, s *site.Site, names ...string) *Fleet {
	t.Helper()
	f := &Fleet{Site: s}
	var file strings.Builder
	// The nodes start together, as a fleet started at once does: their
	// session ids have the same tag, so that one id may be on two nodes.
	tag := event.NewBoot().Tag
	for _, name := range names {
		boot := event.NewBoot()
		boot.ID, boot.Tag = tag+boot.ID[len(tag):], tag
		n := startNode(t, s, name, boot)
		f.Nodes = append(f.Nodes, n)
		fmt.Fprintf(&file, "[[node]]\nname = %q\npop3 = %q\ncontrol = %q\n\n", n.Name, n.Addr, n.Control)
	}
	f.File = filepath.Join(t.TempDir(), "fleet.toml")
	if err := os.WriteFile(f.File, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// StartNode runs one node of s, logging to t.Log with "node=NAME".
func StartNode(t testing.TB, s *site.Site, name string) *Node {
	t.Helper()
	return startNode(t, s, name, event.Boot{})
}

// startNode is StartNode for a run of popd given (zero: a new one).
func startNode(t testing.TB, s *site.Site, name string, boot event.Boot) *Node {
	t.Helper()
	// A short directory: socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "popd-node-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := s.Cfg
	n := &Node{Name: name, Control: filepath.Join(dir, name+".sock")}
	cfg.Control = n.Control
	cfg.AllowRoot = true // CI runs as root
	log, _ := testutil.Logger(t)
	log = log.With("node", name)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, cfg, daemon.Options{
			Logger: log,
			Source: func() (config.Config, error) { return cfg, nil },
			Ready:  func(plain, _ net.Addr) { ready <- plain },
			Boot:   boot,
		})
	}()
	select {
	case a := <-ready:
		n.Addr = a.String()
	case err := <-done:
		cancel()
		t.Fatalf("%s did not start: %v", name, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("%s did not start within 10s", name)
	}
	n.Stop = sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
	return n
}

// Login opens a POP3 session of a on node n.
func Login(t testing.TB, n *Node, a site.Account) *testutil.POP3 {
	t.Helper()
	c := testutil.DialPOP3(t, n.Addr)
	c.OK("USER " + a.Name)
	c.OK("PASS " + a.Pass)
	return c
}
