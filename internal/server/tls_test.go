package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil"
)

// testCert writes a fresh self-signed certificate for 127.0.0.1 and
// localhost into dir and returns the file names and a pool trusting it.
func testCert(t testing.TB, dir, cn string) (certFile, keyFile string, pool *x509.CertPool) {
	return testutil.Cert(t, dir, cn)
}

// tlsEnv is an env with a certificate, STLS and an implicit-TLS listener.
func tlsEnv(t *testing.T, mod func(*config.Config)) (*env, *x509.CertPool) {
	dir := t.TempDir()
	cert, key, pool := testCert(t, dir, "popd test")
	e := newEnv(t, []account{alice}, func(c *config.Config) {
		c.TLSCert, c.TLSKey = cert, key
		c.ListenTLS = "127.0.0.1:0"
		if mod != nil {
			mod(c)
		}
	})
	return e, pool
}

// starttls upgrades c after a +OK to STLS.
func starttls(c *testutil.POP3, pool *x509.CertPool) *tls.ConnectionState {
	c.T.Helper()
	tc := tls.Client(c.Conn, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.T.Fatalf("TLS handshake: %v", err)
	}
	c.Conn = tc
	c.R = bufio.NewReader(tc)
	st := tc.ConnectionState()
	return &st
}

func capaOf(c *testutil.POP3) []string {
	c.T.Helper()
	c.OK("CAPA")
	return strings.Split(strings.TrimSuffix(c.Multi(), "\r\n"), "\r\n")
}

func TestSTLS(t *testing.T) {
	e, pool := tlsEnv(t, nil)
	e.deliver("alice", "Subject: secret\n\nover TLS\n")
	c := e.dial()
	capa := capaOf(c)
	if !slices.Contains(capa, "STLS") || slices.Contains(capa, "USER") {
		t.Fatalf("CAPA before TLS: %q; want STLS and no USER", capa)
	}
	for _, m := range capa {
		if strings.HasPrefix(m, "SASL") && (strings.Contains(m, "PLAIN") || strings.Contains(m, "LOGIN")) {
			t.Fatalf("CAPA before TLS offers a plaintext mechanism: %q", m)
		}
	}
	// Plaintext passwords are refused before TLS, saying why.
	c.Err("USER alice", "-ERR [AUTH] plaintext authentication is disallowed on non-encrypted connections; use STLS")
	c.Err("PASS x", "-ERR send USER first")
	c.OK("STLS")
	st := starttls(c, pool)
	if st.Version < tls.VersionTLS12 {
		t.Fatalf("TLS version %x", st.Version)
	}
	capa = capaOf(c)
	if slices.Contains(capa, "STLS") || !slices.Contains(capa, "USER") {
		t.Fatalf("CAPA after TLS: %q; want USER and no STLS", capa)
	}
	c.Err("STLS", "-ERR TLS is already active")
	c.OK("USER alice")
	c.OK("PASS " + alice.pass)
	c.Err("STLS", "-ERR command not valid in this state")
	c.OK("RETR 1")
	if got := c.Multi(); got != "Subject: secret\r\n\r\nover TLS\r\n" {
		t.Fatalf("RETR over TLS: %q", got)
	}
	var tlsSeen bool
	for _, s := range e.srv.Sessions() {
		tlsSeen = tlsSeen || (s.User == "alice" && s.TLS)
	}
	if !tlsSeen {
		t.Error("the registry does not show the session as TLS")
	}
	c.OK("QUIT")
}

// TestSTLSInjection: commands sent in the same packet as STLS must never
// run inside TLS (CVE-2011-0411; Courier CVE-2021-38084).
func TestSTLSInjection(t *testing.T) {
	e, pool := tlsEnv(t, func(c *config.Config) { c.PlaintextAuth = "always" })
	c := e.dial()
	if _, err := c.Conn.Write([]byte("STLS\r\nCAPA\r\nUSER alice\r\n")); err != nil {
		t.Fatal(err)
	}
	c.Expect("+OK begin TLS")
	starttls(c, pool)
	// The first answer inside TLS must be to our NOOP, not to the
	// injected CAPA; and the injected USER was never run.
	c.Err("NOOP", "-ERR command not valid in this state")
	c.Err("PASS "+alice.pass, "-ERR send USER first")
}

func TestImplicitTLS(t *testing.T) {
	e, pool := tlsEnv(t, nil)
	e.deliver("alice", "Subject: x\n\ny\n")
	conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	c := testutil.NewPOP3(t, conn)
	defer conn.Close()
	c.Expect("+OK")
	if slices.Contains(capaOf(c), "STLS") {
		t.Error("STLS offered on an implicit-TLS connection")
	}
	c.OK("USER alice")
	c.OK("PASS " + alice.pass)
	if got := c.OK("STAT"); !strings.HasPrefix(got, "+OK 1 ") {
		t.Fatalf("STAT = %q", got)
	}
	c.OK("QUIT")
}

func TestTLSHandshakeStall(t *testing.T) {
	e, _ := tlsEnv(t, func(c *config.Config) { c.HandshakeTimeout.Duration = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", e.tlsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Say nothing: the server gives up and frees the connection.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
		t.Fatalf("stalled handshake not closed by the server: %v", err)
	}
}

func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool1 := testCert(t, dir, "first")
	e := newEnv(t, []account{alice}, func(c *config.Config) {
		c.TLSCert, c.TLSKey, c.ListenTLS = cert, key, "127.0.0.1:0"
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched := make(chan struct{})
	go func() { e.srv.WatchCertificate(ctx); close(watched) }()
	defer func() { cancel(); <-watched }()
	time.Sleep(100 * time.Millisecond) // the watch is set up
	// A session open before the change keeps working.
	old, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{RootCAs: pool1, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oc := testutil.NewPOP3(t, old)
	oc.Expect("+OK")

	_, _, pool2 := testCert(t, dir, "second")
	testutil.Eventually(t, 5*time.Second, "condition", func() bool {
		conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{RootCAs: pool2, ServerName: "127.0.0.1"})
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
	capaOf(oc) // the session from before the change still works
}
