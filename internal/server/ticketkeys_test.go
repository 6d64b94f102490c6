package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil"
)

// tina is stored {PLAIN}: these tests measure TLS, not bcrypt, which
// takes seconds under the race detector.
var tina = account{"tina", "ticket secret", "PLAIN"}

func newTicketKey(t *testing.T) [32]byte {
	var k [32]byte
	rand.Read(k[:])
	return k
}

// writeTicketKeys writes keys to path the way an admin's script should:
// mode 0600, by rename.
func writeTicketKeys(t *testing.T, path string, keys ...[32]byte) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# popd TLS session ticket keys: the first encrypts\n\n")
	for _, k := range keys {
		b.WriteString(hex.EncodeToString(k[:]) + "\n")
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// ticketEnv serves tina over implicit TLS (and STLS) with the given
// certificate and, unless ticketFile is empty, ticket keys file.
func ticketEnv(t *testing.T, certFile, keyFile, ticketFile string) *env {
	t.Helper()
	e := newEnv(t, []account{tina}, func(c *config.Config) {
		c.TLSCert, c.TLSKey, c.ListenTLS = certFile, keyFile, "127.0.0.1:0"
		c.TLSTicketKeys = ticketFile
	})
	return e
}

// dialResume connects over implicit TLS with the session cache and reads
// the greeting, by when a TLS 1.3 ticket the server sent is in the cache.
func dialResume(t *testing.T, addr string, pool *x509.CertPool, cache tls.ClientSessionCache) (*testutil.POP3, bool) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", ClientSessionCache: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := testutil.NewPOP3(t, conn)
	c.Expect("+OK")
	return c, conn.ConnectionState().DidResume
}

// loginStat logs in as tina, checks STAT and quits.
func loginStat(c *testutil.POP3) {
	c.T.Helper()
	c.OK("USER " + tina.name)
	c.OK("PASS " + tina.pass)
	if got := c.OK("STAT"); !strings.HasPrefix(got, "+OK 1 ") {
		c.T.Fatalf("STAT = %q", got)
	}
	c.OK("QUIT")
}

// fixedCache offers the first ticket it was given, every time: a client
// that still holds a ticket from before a key change.
type fixedCache struct {
	mu sync.Mutex
	cs *tls.ClientSessionState
}

func (c *fixedCache) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cs, c.cs != nil
}

func (c *fixedCache) Put(_ string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cs == nil {
		c.cs = cs
	}
}

// A client that kept its session resumes it, over implicit TLS and STLS
// alike, with Go's own ticket keys and with a key file.
func TestTLSResumption(t *testing.T) {
	for _, withFile := range []bool{false, true} {
		name := map[bool]string{false: "automatic keys", true: "key file"}[withFile]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile, pool := testCert(t, dir, "popd test")
			ticketFile := ""
			if withFile {
				ticketFile = filepath.Join(dir, "ticket-keys")
				writeTicketKeys(t, ticketFile, newTicketKey(t))
			}
			e := ticketEnv(t, certFile, keyFile, ticketFile)
			e.deliver(tina.name, "Subject: x\n\ny\n")
			cache := tls.NewLRUClientSessionCache(4)
			c, resumed := dialResume(t, e.tlsAddr, pool, cache)
			if resumed {
				t.Fatal("the first handshake resumed a session")
			}
			c.OK("QUIT")
			c, resumed = dialResume(t, e.tlsAddr, pool, cache)
			if !resumed {
				t.Fatal("the second handshake did not resume the session")
			}
			loginStat(c)

			// STLS on the plain port uses the same configuration.
			p := e.dial()
			p.OK("STLS")
			tc := tls.Client(p.Conn, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", ClientSessionCache: cache})
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc.Handshake(); err != nil {
				t.Fatal(err)
			}
			if !tc.ConnectionState().DidResume {
				t.Error("STLS did not resume the session")
			}
			tc.Close()
		})
	}
}

// Nodes sharing a key file resume each other's sessions; a node with other
// keys makes a full handshake and serves all the same.
func TestTLSTicketKeysFleet(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testCert(t, dir, "mail.example.org")
	shared, other := filepath.Join(dir, "shared-keys"), filepath.Join(dir, "other-keys")
	writeTicketKeys(t, shared, newTicketKey(t), newTicketKey(t))
	writeTicketKeys(t, other, newTicketKey(t))
	a := ticketEnv(t, certFile, keyFile, shared)
	b := ticketEnv(t, certFile, keyFile, shared)
	c := ticketEnv(t, certFile, keyFile, other)
	b.deliver(tina.name, "Subject: x\n\ny\n")
	c.deliver(tina.name, "Subject: x\n\ny\n")

	cache := tls.NewLRUClientSessionCache(4)
	p, _ := dialResume(t, a.tlsAddr, pool, cache)
	p.OK("QUIT")
	p, resumed := dialResume(t, b.tlsAddr, pool, cache)
	if !resumed {
		t.Fatal("a session from node A did not resume on node B, which has the same keys")
	}
	loginStat(p)

	cache = tls.NewLRUClientSessionCache(4)
	p, _ = dialResume(t, a.tlsAddr, pool, cache)
	p.OK("QUIT")
	p, resumed = dialResume(t, c.tlsAddr, pool, cache)
	if resumed {
		t.Fatal("a session from node A resumed on node C, which has other keys")
	}
	loginStat(p)
}

// Rotation: a new key put first encrypts new tickets while the old one,
// kept second, still decrypts; once it is dropped, its tickets no longer
// resume, and the handshake still succeeds. SIGHUP (ReloadCertificate) and
// a change of the file both reload it; a bad file keeps the old keys.
func TestTLSTicketKeyRotation(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testCert(t, dir, "popd test")
	ticketFile := filepath.Join(dir, "ticket-keys")
	k1, k2 := newTicketKey(t), newTicketKey(t)
	writeTicketKeys(t, ticketFile, k1)
	e := ticketEnv(t, certFile, keyFile, ticketFile)
	e.deliver(tina.name, "Subject: x\n\ny\n")
	log, logged := testutil.Logger(t)
	e.srv.certs.log = log // before the watcher starts

	old := &fixedCache{} // a ticket under k1
	p, _ := dialResume(t, e.tlsAddr, pool, old)
	p.OK("QUIT")

	// What SIGHUP does.
	writeTicketKeys(t, ticketFile, k2, k1)
	if err := e.srv.ReloadCertificate(); err != nil {
		t.Fatal(err)
	}
	p, resumed := dialResume(t, e.tlsAddr, pool, old)
	if !resumed {
		t.Fatal("a ticket under the old key, still listed second, did not resume")
	}
	p.OK("QUIT")
	fresh := &fixedCache{} // a ticket issued now: under k2
	p, _ = dialResume(t, e.tlsAddr, pool, fresh)
	p.OK("QUIT")

	// A bad file is not taken; the keys in force stay, and the key
	// material is never logged.
	os.WriteFile(ticketFile, []byte(hex.EncodeToString(k2[:])+"\nnot a key\n"), 0o600)
	if err := e.srv.ReloadCertificate(); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("reloading a bad key file: %v", err)
	}
	if !strings.Contains(logged.String(), "level=WARN msg=\"TLS ticket keys not reloaded; keeping the old ones\"") {
		t.Errorf("no warning for the bad file:\n%s", logged)
	}
	if p, resumed = dialResume(t, e.tlsAddr, pool, old); !resumed {
		t.Fatal("a bad key file replaced the keys in force")
	}
	p.OK("QUIT")

	// The file changes: the watcher reloads it.
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { e.srv.WatchCertificate(ctx); close(watched) }()
	defer func() { cancel(); <-watched }()
	writeTicketKeys(t, ticketFile, k2)
	testutil.Eventually(t, 5*time.Second, "the ticket under the dropped key still resumes", func() bool {
		p, resumed := dialResume(t, e.tlsAddr, pool, old)
		p.OK("QUIT")
		return !resumed
	})
	p, _ = dialResume(t, e.tlsAddr, pool, old) // a full handshake
	loginStat(p)
	if p, resumed = dialResume(t, e.tlsAddr, pool, fresh); !resumed {
		t.Fatal("a ticket issued under the new first key did not resume")
	}
	p.OK("QUIT")
	for _, k := range [][32]byte{k1, k2} {
		if s := logged.String(); strings.Contains(s, hex.EncodeToString(k[:])) {
			t.Fatal("key material in the log")
		}
	}
}

// A bad or too open key file is refused at start, saying which and why.
func TestTLSTicketKeysRefused(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := testCert(t, dir, "popd test")
	k := newTicketKey(t)
	key := hex.EncodeToString(k[:])
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	for _, tc := range []struct {
		file string
		want string
	}{
		{write("group-readable", key+"\n", 0o640), "mode 0640 lets group or others at the keys"},
		{write("world-readable", key+"\n", 0o644), "mode 0644"},
		{write("bad-line", "# keys\n"+key+"\n\n"+key[:62]+"\n", 0o600), "line 4: not a 32-byte key"},
		{write("short-base64", base64.StdEncoding.EncodeToString(k[:16])+"\n", 0o600), "line 1: not a 32-byte key"},
		{write("empty", "# nothing yet\n\n", 0o600), "no key"},
		{filepath.Join(dir, "missing"), "no such file"},
		{dir, "not a regular file"},
	} {
		cs, err := newCertStore(certFile, keyFile, testutil.Log(t))
		if err != nil {
			t.Fatal(err)
		}
		err = cs.useTicketKeys(tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: %v, want an error naming the file and saying %q", filepath.Base(tc.file), err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), key[:8]) {
			t.Errorf("%s: key material in the error: %v", filepath.Base(tc.file), err)
		}
	}
}

func TestParseTicketKeys(t *testing.T) {
	k1, k2 := newTicketKey(t), newTicketKey(t)
	h1, b2 := hex.EncodeToString(k1[:]), base64.StdEncoding.EncodeToString(k2[:])
	keys, err := parseTicketKeys([]byte("# rotated daily\r\n  " + strings.ToUpper(h1) + "  # today\r\n\r\n" + b2))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != k1 || keys[1] != k2 {
		t.Fatalf("keys = %x, want %x then %x", keys, k1, k2)
	}
	for _, bad := range []string{"", "#\n", h1 + "00\n", h1[:63] + "g\n", h1 + " " + h1 + "\n", b2[:40] + "\n"} {
		if _, err := parseTicketKeys([]byte(bad)); err == nil {
			t.Errorf("parseTicketKeys(%q) accepted it", bad)
		}
	}
}

// Real clients resume: openssl s_client, and Python's ssl.
func TestTLSResumptionOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	certFile, keyFile, _ := testCert(t, dir, "popd test")
	ticketFile := filepath.Join(dir, "ticket-keys")
	writeTicketKeys(t, ticketFile, newTicketKey(t))
	e := ticketEnv(t, certFile, keyFile, ticketFile)
	sClient := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, openssl, append([]string{"s_client", "-connect", e.tlsAddr,
			"-CAfile", certFile, "-verify_return_error"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openssl s_client %q: %v\n%s", args, err, out)
		}
		return string(out)
	}

	// -reconnect drops the connection right after the handshake, before a
	// TLS 1.3 ticket (sent after it) is read, so it resumes TLS 1.2, whose
	// ticket is part of the handshake: the first connection is New, the
	// five reconnections Reused.
	out := sClient("", "-tls1_2", "-reconnect")
	if n, r := strings.Count(out, "\nNew, TLSv1.2"), strings.Count(out, "\nReused, TLSv1.2"); n != 1 || r != 5 {
		t.Fatalf("openssl s_client -tls1_2 -reconnect: %d new, %d reused sessions; want 1 and 5:\n%s", n, r, out)
	}

	// TLS 1.3: a session that has read its ticket (until the server closes
	// the connection after QUIT: -ign_eof), saved and used again.
	sess := filepath.Join(dir, "session.pem")
	if out := sClient("QUIT\r\n", "-ign_eof", "-sess_out", sess); !strings.Contains(out, "\nNew, TLSv1.3") {
		t.Fatalf("openssl s_client -sess_out: not a new TLS 1.3 session:\n%s", out)
	}
	if out := sClient("QUIT\r\n", "-ign_eof", "-sess_in", sess); !strings.Contains(out, "\nReused, TLSv1.3") || !strings.Contains(out, "+OK") {
		t.Fatalf("openssl s_client -sess_in: the TLS 1.3 session was not reused:\n%s", out)
	}
}

const pythonResumeScript = `
import socket, ssl, sys
host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
def connect(session=None):
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=5), server_hostname=host, session=session)
    greeting = s.recv(512)  # TLS 1.3: the ticket comes after the handshake
    assert greeting.startswith(b"+OK"), greeting
    return s
first = connect()
print(first.session_reused)
session = first.session  # gone once the socket is closed
first.sendall(b"QUIT\r\n")
first.recv(512)
first.close()
second = connect(session)
print(second.session_reused, second.version())
second.sendall(b"QUIT\r\n")
second.close()
`

func TestTLSResumptionPython(t *testing.T) {
	py := need(t, "python3")
	dir := t.TempDir()
	certFile, keyFile, _ := testCert(t, dir, "popd test")
	ticketFile := filepath.Join(dir, "ticket-keys")
	writeTicketKeys(t, ticketFile, newTicketKey(t))
	e := ticketEnv(t, certFile, keyFile, ticketFile)
	out := strings.Fields(string(runPython(t, py, pythonResumeScript, e.tlsAddr, certFile)))
	if len(out) != 3 || out[0] != "False" || out[1] != "True" {
		t.Fatalf("python ssl: session_reused %q, want False then True", out)
	}
	t.Logf("resumed with %s", out[2])
}
