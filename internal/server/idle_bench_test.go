package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"

	"popd/internal/config"
)

// BenchmarkIdleSessions reports the memory (Go heap in use + goroutine
// stacks, after a GC) that a logged-in session holds while it waits for
// its client, net of the TCP connection pair itself (measured against a
// server that only accepts): popd's cost per idle session. The clients
// run in this process, holding only their connection.
func BenchmarkIdleSessions(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	var users strings.Builder
	for u := range n {
		name := fmt.Sprintf("i%d", u)
		fmt.Fprintf(&users, "%s:{PLAIN}pw::::%s::\n", name, filepath.Join(dir, "home", name))
		md := filepath.Join(dir, "mail", name)
		for _, sub := range []string{"tmp", "new", "cur"} {
			os.MkdirAll(filepath.Join(md, sub), 0o700)
		}
		for i := range 5 {
			os.WriteFile(filepath.Join(md, "cur", fmt.Sprintf("%d.M%dP1.idle:2,S", 1700000000+i, i)),
				[]byte("Subject: idle\n\nhello\n"), 0o600)
		}
	}
	usersPath := filepath.Join(dir, "users")
	os.WriteFile(usersPath, []byte(users.String()), 0o644)
	cfg := config.Default()
	cfg.Users = usersPath
	cfg.Maildir = filepath.Join(dir, "mail", "%u")
	cfg.MaxConnections, cfg.MaxConnectionsPerIP = 2*n, 2*n

	inUse := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse + ms.StackInuse
	}
	// The connection pairs alone.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	before := inUse()
	var pairs []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		pairs = append(pairs, c)
	}
	pairCost := float64(inUse()-before) / n
	for _, c := range pairs {
		c.Close()
	}
	ln.Close()

	addr, _ := startBenchServer(b, cfg, false)
	for range b.N {
		before := inUse()
		conns := make([]net.Conn, 0, n)
		for u := range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			r := bufio.NewReaderSize(c, 64)
			for _, l := range []string{"", fmt.Sprintf("USER i%d", u), "PASS pw"} {
				if l != "" {
					io.WriteString(c, l+"\r\n")
				}
				if s, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(s, "+OK") {
					b.Fatalf("%q: %q %v", l, s, err)
				}
			}
			conns = append(conns, c)
		}
		after := inUse()
		if p := os.Getenv("POPD_IDLE_PROFILE"); p != "" {
			f, _ := os.Create(p)
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
			g, _ := os.Create(p + ".goroutine")
			pprof.Lookup("goroutine").WriteTo(g, 1)
			g.Close()
		}
		b.ReportMetric(float64(after-before)/n-pairCost, "B/idle-session")
		b.ReportMetric(pairCost, "B/conn-pair")
		for _, c := range conns {
			io.WriteString(c, "QUIT\r\n")
			c.Close()
		}
	}
}
