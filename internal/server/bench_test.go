package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/userdb"
)

// The benchmarks run 16 concurrent clients, each on its own maildrop (a
// maildrop is single-session by design). They serve popd in-process, or,
// with POPD_BENCH_ADDR=host:port, any other POP3 server over the same
// fixture: POPD_BENCH_DIR then names the directory the fixture is written
// to, with a users file in Dovecot's passwd-file format (PLAIN passwords, so
// the numbers measure the servers, not the password hash) and Maildirs in
// DIR/mail/USER. See README.md for running Dovecot side by side.

const (
	benchClients = 16
	benchMsgSize = 100 * 1024
	benchMsgs    = 10
	// The small-message workload: users s0..s15.
	benchSmallSize = 6 * 1024
	benchSmallMsgs = 200
)

// benchTarget writes the fixture (users b0..b15 with password "pw", each
// with benchMsgs messages of benchMsgSize octets) and returns the address
// of the server to measure.
func benchTarget(b *testing.B) string {
	addr, _ := benchTargetTLS(b, false)
	return addr
}

// benchTargetTLS is benchTarget; with useTLS it serves implicit TLS (in
// process only) and returns the client configuration for it.
func benchTargetTLS(b *testing.B, useTLS bool) (string, *tls.Config) {
	b.Helper()
	dir := os.Getenv("POPD_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	var users strings.Builder
	benchFixture(b, &users, dir, "b", benchMsgs, benchMsgSize)
	benchFixture(b, &users, dir, "s", benchSmallMsgs, benchSmallSize)
	usersPath := filepath.Join(dir, "users")
	if err := os.WriteFile(usersPath, []byte(users.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if addr := os.Getenv("POPD_BENCH_ADDR"); addr != "" && !useTLS {
		return addr, nil
	}
	cfg := config.Default()
	cfg.Users = usersPath
	cfg.Maildir = filepath.Join(dir, "mail", "%u")
	// All the load comes from 127.0.0.1, reconnecting the moment QUIT is
	// answered: the per-source limit is for the Internet, not this.
	cfg.MaxConnectionsPerIP = cfg.MaxConnections
	var clientTLS *tls.Config
	if useTLS {
		cert, key, pool := testCert(b, b.TempDir(), "bench")
		cfg.TLSCert, cfg.TLSKey = cert, key
		clientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	}
	addr, _ := startBenchServer(b, cfg, useTLS)
	return addr, clientTLS
}

// benchFixture writes, for users PREFIX0..PREFIX15 (password "pw"),
// Maildirs of n messages of size octets each (unless they have mail
// already), and their users file lines.
func benchFixture(b *testing.B, users *strings.Builder, dir, prefix string, n, size int) {
	line := strings.Repeat("x", 76) + "\n"
	body := strings.Repeat(line, size/len(line))
	for u := 0; u < benchClients; u++ {
		name := fmt.Sprintf("%s%d", prefix, u)
		fmt.Fprintf(users, "%s:{PLAIN}pw::::%s::\n", name, filepath.Join(dir, "home", name))
		md := filepath.Join(dir, "mail", name)
		for _, sub := range []string{"tmp", "new", "cur"} {
			os.MkdirAll(filepath.Join(md, sub), 0o700)
		}
		if ents, _ := os.ReadDir(filepath.Join(md, "new")); len(ents) > 0 {
			continue
		}
		if ents, _ := os.ReadDir(filepath.Join(md, "cur")); len(ents) > 0 {
			continue
		}
		for i := 0; i < n; i++ {
			msg := fmt.Sprintf("From: bench@example.org\nSubject: %d\n\n%s", i, body)
			name := fmt.Sprintf("%d.M%dP1.bench", 1700000000+i, i)
			if err := os.WriteFile(filepath.Join(md, "new", name), []byte(msg), 0o600); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// startBenchServer serves cfg in process, logging nothing, until the
// benchmark ends.
func startBenchServer(b *testing.B, cfg config.Config, useTLS bool) (string, *Server) {
	log := slog.New(slog.DiscardHandler)
	udb, err := userdb.Open(cfg.Users, log)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	// The sessions' changes are kept and taken every second, as popd
	// does for its consoles: on the login path, as in popd.
	srv, err := New(cfg, Options{Users: udb, Logger: log, TrackChanges: true})
	if err != nil {
		b.Fatal(err)
	}
	serve := srv.Serve
	if useTLS {
		serve = srv.ServeTLS
	}
	done, taken := make(chan struct{}), make(chan struct{})
	go func() { serve(ln); close(done) }()
	go func() {
		defer close(taken)
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Second):
				srv.TakeChanges()
			}
		}
	}()
	b.Cleanup(func() { srv.Shutdown(context.Background()); <-done; <-taken })
	return ln.Addr().String(), srv
}

// benchSession is one client connection in a benchmark.
type benchSession struct {
	conn net.Conn
	r    *bufio.Reader
}

func benchLogin(addr, user string) (*benchSession, error) {
	return benchLoginTLS(addr, user, nil)
}

// benchLoginTLS logs in over implicit TLS when tc is not nil.
func benchLoginTLS(addr, user string, tc *tls.Config) (*benchSession, error) {
	var conn net.Conn
	var err error
	if tc != nil {
		conn, err = tls.Dial("tcp", addr, tc)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	s := &benchSession{conn, bufio.NewReaderSize(conn, 64*1024)}
	if _, err := s.status(); err != nil {
		return nil, err
	}
	if _, err := s.cmd("USER " + user); err != nil {
		return nil, err
	}
	if _, err := s.cmd("PASS pw"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *benchSession) status() (string, error) {
	l, err := s.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(l, "+OK") {
		return "", fmt.Errorf("server said %q", strings.TrimSpace(l))
	}
	return l, nil
}

func (s *benchSession) cmd(c string) (string, error) {
	if _, err := io.WriteString(s.conn, c+"\r\n"); err != nil {
		return "", err
	}
	return s.status()
}

// drain reads a multi-line body and returns its size on the wire.
func (s *benchSession) drain() (int64, error) {
	var n int64
	for {
		l, err := s.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return n, err
		}
		n += int64(len(l))
		if string(l) == ".\r\n" {
			return n, nil
		}
	}
}

func (s *benchSession) quit() error {
	_, err := s.cmd("QUIT")
	s.conn.Close()
	return err
}

// runClients runs b.N iterations of fn over benchClients goroutines, each
// with its own user.
func runClients(b *testing.B, fn func(user string) error) { runClientsAs(b, "b", fn) }

// runClientsAs is runClients for the users PREFIX0..PREFIX15.
func runClientsAs(b *testing.B, prefix string, fn func(user string) error) {
	var next, failures atomic.Int64
	b.SetParallelism((benchClients + 1) / 2) // GOMAXPROCS is 2 here; ×8 = 16
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		user := fmt.Sprintf("%s%d", prefix, next.Add(1)%benchClients)
		for pb.Next() {
			if err := fn(user); err != nil {
				failures.Add(1)
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sessions/s")
}

// BenchmarkLoginStatQuit: whole sessions per second — connect, greeting,
// USER, PASS (locks the maildrop and scans it), STAT, QUIT.
func BenchmarkLoginStatQuit(b *testing.B) { benchLoginStatQuit(b, false) }

// BenchmarkLoginQuit: connect, greeting, USER, PASS, QUIT.
func BenchmarkLoginQuit(b *testing.B) {
	addr := benchTarget(b)
	runClients(b, func(user string) error {
		s, err := benchLogin(addr, user)
		if err != nil {
			return err
		}
		return s.quit()
	})
}

// BenchmarkTLSLoginStatQuit is the same over implicit TLS: handshake
// (ECDSA P-256, TLS 1.3) + login per second.
func BenchmarkTLSLoginStatQuit(b *testing.B) { benchLoginStatQuit(b, true) }

// BenchmarkTLSResumeLoginStatQuit is BenchmarkTLSLoginStatQuit with a
// client session cache: after the first, handshakes resume a session
// (TLS 1.3 PSK with ECDHE: no certificate sent, signed or verified).
// resumed/op is the share of handshakes that did.
func BenchmarkTLSResumeLoginStatQuit(b *testing.B) {
	addr, tc := benchTargetTLS(b, true)
	tc = tc.Clone()
	tc.ClientSessionCache = tls.NewLRUClientSessionCache(benchClients)
	var resumed atomic.Int64
	runClients(b, func(user string) error {
		s, err := benchLoginTLS(addr, user, tc)
		if err != nil {
			return err
		}
		if s.conn.(*tls.Conn).ConnectionState().DidResume {
			resumed.Add(1)
		}
		if _, err := s.cmd("STAT"); err != nil {
			return err
		}
		return s.quit()
	})
	b.ReportMetric(float64(resumed.Load())/float64(b.N), "resumed/op")
}

func benchLoginStatQuit(b *testing.B, useTLS bool) {
	addr, tc := benchTargetTLS(b, useTLS)
	runClients(b, func(user string) error {
		s, err := benchLoginTLS(addr, user, tc)
		if err != nil {
			return err
		}
		if _, err := s.cmd("STAT"); err != nil {
			return err
		}
		return s.quit()
	})
}

// BenchmarkRetr: throughput of RETR, every message of the maildrop per
// session, nothing deleted. MB/s counts message octets on the wire.
func BenchmarkRetr(b *testing.B) { benchRetr(b, false) }

// BenchmarkTLSRetr is the same over implicit TLS.
func BenchmarkTLSRetr(b *testing.B) { benchRetr(b, true) }

// BenchmarkRetrSmall: RETR of 200 messages of 6 KB per session, what
// POP3 mostly carries.
func BenchmarkRetrSmall(b *testing.B) { benchRetrN(b, false, "s", benchSmallMsgs) }

func benchRetr(b *testing.B, useTLS bool) { benchRetrN(b, useTLS, "b", benchMsgs) }

// BenchmarkRetrSmallPipelined is BenchmarkRetrSmall with the client
// sending all 200 RETRs at once (RFC 2449 PIPELINING, as mpop does): the
// server answers them with few large writes instead of one each.
func BenchmarkRetrSmallPipelined(b *testing.B) {
	addr, _ := benchTargetTLS(b, false)
	var cmds strings.Builder
	for i := 1; i <= benchSmallMsgs; i++ {
		fmt.Fprintf(&cmds, "RETR %d\r\n", i)
	}
	var total atomic.Int64
	start := time.Now()
	runClientsAs(b, "s", func(user string) error {
		s, err := benchLogin(addr, user)
		if err != nil {
			return err
		}
		errc := make(chan error, 1)
		go func() { _, err := io.WriteString(s.conn, cmds.String()); errc <- err }()
		for range benchSmallMsgs {
			if _, err := s.status(); err != nil {
				return err
			}
			n, err := s.drain()
			if err != nil {
				return err
			}
			total.Add(n)
		}
		if err := <-errc; err != nil {
			return err
		}
		return s.quit()
	})
	b.ReportMetric(float64(total.Load())/1e6/time.Since(start).Seconds(), "MB/s")
}

func benchRetrN(b *testing.B, useTLS bool, prefix string, n int) {
	addr, tc := benchTargetTLS(b, useTLS)
	var total atomic.Int64
	start := time.Now()
	runClientsAs(b, prefix, func(user string) error {
		s, err := benchLoginTLS(addr, user, tc)
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			if _, err := s.cmd(fmt.Sprintf("RETR %d", i)); err != nil {
				return err
			}
			n, err := s.drain()
			if err != nil {
				return err
			}
			total.Add(n)
		}
		return s.quit()
	})
	b.ReportMetric(float64(total.Load())/1e6/time.Since(start).Seconds(), "MB/s")
}

// BenchmarkBigMaildrop: a 100,000-message maildrop (2 KB messages), one
// session at a time: login, UIDL (or STAT) of everything, then the client
// drops the connection, so the maildrop stays as it was (a QUIT would move
// all of new/ to cur/, once). "first" removes the size cache before each
// session; "cached" keeps it. POPD_BENCH_BIG names a directory to keep the
// fixture in between runs (it takes a few seconds to make).
func BenchmarkBigMaildrop(b *testing.B) {
	dir := os.Getenv("POPD_BENCH_BIG")
	if dir == "" {
		dir = b.TempDir()
	}
	md := filepath.Join(dir, "mail", "big")
	const n = 100_000
	if ents, _ := os.ReadDir(filepath.Join(md, "new")); len(ents) < n {
		for _, sub := range []string{"tmp", "new", "cur"} {
			os.MkdirAll(filepath.Join(md, sub), 0o700)
		}
		body := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 30)
		for i := 0; i < n; i++ {
			msg := fmt.Sprintf("From: sender%d@example.org\nTo: big@example.org\nSubject: message %d\nMessage-ID: <%d@example.org>\n\n%s", i, i, i, body)
			name := fmt.Sprintf("%d.M%dP%d.bench", 1600000000+i, i%1000000, i)
			if err := os.WriteFile(filepath.Join(md, "new", name), []byte(msg), 0o600); err != nil {
				b.Fatal(err)
			}
		}
	}
	users := filepath.Join(dir, "users")
	os.WriteFile(users, []byte("big:{PLAIN}pw\n"), 0o600)
	cfg := config.Default()
	cfg.Users = users
	cfg.Maildir = filepath.Join(dir, "mail", "%u")
	addr, srv := startBenchServer(b, cfg, false)

	session := func(b *testing.B, cmd string, multi bool) {
		s, err := benchLogin(addr, "big")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.cmd(cmd); err != nil {
			b.Fatal(err)
		}
		if multi {
			if _, err := s.drain(); err != nil {
				b.Fatal(err)
			}
		}
		s.conn.Close()
		for len(srv.Sessions()) > 0 { // the lock is released
			time.Sleep(time.Millisecond)
		}
	}
	for _, bc := range []struct {
		name, cmd string
		multi     bool
		cache     bool
	}{
		{"uidl-first", "UIDL", true, false},
		{"uidl-cached", "UIDL", true, true},
		{"stat-first", "STAT", false, false},
		{"stat-cached", "STAT", false, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			session(b, "STAT", false) // make the cache
			for b.Loop() {
				if !bc.cache {
					b.StopTimer()
					os.Remove(filepath.Join(md, "popd-sizes"))
					b.StartTimer()
				}
				session(b, bc.cmd, bc.multi)
			}
		})
	}
}
