package daemon

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
)

// selfSigned writes a throwaway certificate for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	certFile, keyFile, _ = testutil.Cert(t, dir, "popd test")
	return certFile, keyFile
}

// Run puts the tls-ticket-keys file in force: two popd sharing it resume
// each other's sessions; a file others can read stops popd at start.
func TestRunTicketKeys(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	var k [32]byte
	rand.Read(k[:])
	ticketFile := filepath.Join(dir, "ticket-keys")
	os.WriteFile(ticketFile, []byte(hex.EncodeToString(k[:])+"\n"), 0o600)
	tina := account{Name: "tina", Pass: "pw", Scheme: "PLAIN"}
	withKeys := func(c *config.Config) {
		c.TLSCert, c.TLSKey, c.TLSTicketKeys = certFile, keyFile, ticketFile
	}

	os.Chmod(ticketFile, 0o644)
	cfg := site.New(t, nil).Cfg
	cfg.Control, cfg.AllowRoot = filepath.Join(t.TempDir(), "control.sock"), true
	withKeys(&cfg)
	// Done already: were the file taken, Run would return nil at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Run(ctx, cfg, Options{Logger: testutil.Log(t)})
	if err == nil || !strings.Contains(err.Error(), ticketFile) || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("Run with a world-readable ticket keys file: %v", err)
	}
	os.Chmod(ticketFile, 0o600)

	a := newEnv(t, []account{tina}, withKeys)
	b := newEnv(t, []account{tina}, withKeys)
	// The cache is keyed by ServerName: the same for both, as for a fleet
	// behind one name.
	cache := tls.NewLRUClientSessionCache(4)
	stls := func(e *env) bool {
		c := e.dial()
		c.OK("STLS")
		tc := tls.Client(c.Conn, &tls.Config{InsecureSkipVerify: true, ServerName: "127.0.0.1", ClientSessionCache: cache})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		c.Conn, c.R = tc, bufio.NewReader(tc)
		c.OK("USER tina") // read: the TLS 1.3 ticket is in the cache
		c.OK("PASS pw")
		c.OK("QUIT")
		return tc.ConnectionState().DidResume
	}
	stls(a)
	if !stls(b) {
		t.Fatal("a session from one popd did not resume on another with the same ticket keys")
	}
}
