package server

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/event"
	"popd/internal/testutil"
	"popd/internal/testutil/nginx"
)

// dialFrom connects to addr from the loopback address src (Linux routes
// all of 127/8 to lo) and returns the client, before the greeting.
func dialFrom(t *testing.T, src, addr string) *testutil.POP3 {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return testutil.NewPOP3(t, conn)
}

// plaintextOffered reports whether CAPA offers USER and SASL PLAIN.
func plaintextOffered(t *testing.T, c *testutil.POP3) (user, plain bool) {
	t.Helper()
	capa := capaOf(c)
	for _, l := range capa {
		if strings.HasPrefix(l, "SASL ") && slices.Contains(strings.Fields(l), "PLAIN") {
			plain = true
		}
	}
	return slices.Contains(capa, "USER"), plain
}

const refusedPlaintext = "-ERR [AUTH] plaintext authentication is disallowed on non-encrypted connections; use STLS"

// trustedEnv is popd with a certificate, plaintext-auth = never and
// 127.0.0.1 trusted with plaintext logins.
func trustedEnv(t *testing.T, mod func(*config.Config)) *env {
	e, _ := tlsEnv(t, func(c *config.Config) {
		c.PlaintextAuth = "never"
		c.TrustedLoginFrom = "127.0.0.1"
		if mod != nil {
			mod(c)
		}
	})
	return e
}

// With plaintext-auth = never, a trusted peer may log in with a password
// in clear and is offered USER and PLAIN; any other peer is not.
func TestTrustedLoginFrom(t *testing.T) {
	e := trustedEnv(t, nil)

	c := dialFrom(t, "127.0.0.1", e.addr)
	c.Expect("+OK")
	if user, plain := plaintextOffered(t, c); !user || !plain {
		t.Errorf("CAPA to a trusted peer: USER %v, SASL PLAIN %v; want both", user, plain)
	}
	c.OK("USER alice")
	c.OK("PASS " + alice.pass)
	c.OK("QUIT")

	u := dialFrom(t, "127.0.0.2", e.addr)
	u.Expect("+OK")
	if user, plain := plaintextOffered(t, u); user || plain {
		t.Errorf("CAPA to an untrusted peer: USER %v, SASL PLAIN %v; want neither", user, plain)
	}
	u.Err("USER alice", refusedPlaintext)
	u.Err("AUTH PLAIN "+b64("\x00alice\x00"+alice.pass), refusedPlaintext)
}

// Behind PROXY-protocol load balancers, the peer that connects is judged,
// never the client address its header claims; logs and limits still see
// the client.
func TestTrustedLoginFromBehindProxy(t *testing.T) {
	// Both send PROXY headers; only 127.0.0.1 is the mail proxy that
	// terminates TLS.
	e := trustedEnv(t, func(c *config.Config) { c.ProxyFrom = "127.0.0.1, 127.0.0.2" })
	events := e.sessionEvents()

	// An untrusted balancer relaying a client that claims a trusted address.
	u := dialFrom(t, "127.0.0.2", e.addr)
	u.Send("PROXY TCP4 127.0.0.1 127.0.0.1 40000 110")
	u.Expect("+OK")
	if user, plain := plaintextOffered(t, u); user || plain {
		t.Errorf("CAPA through an untrusted balancer: USER %v, SASL PLAIN %v; want neither", user, plain)
	}
	u.Err("USER alice", refusedPlaintext)
	if ev := testutil.NextEvent(t, events, event.SessionOpened, 5*time.Second); ev.Remote != "127.0.0.1:40000" {
		t.Errorf("session opened for %q, want the client from the header", ev.Remote)
	}

	// The trusted proxy logging in for an untrusted client.
	c := dialFrom(t, "127.0.0.1", e.addr)
	c.Send("PROXY TCP4 203.0.113.9 127.0.0.1 40001 110")
	c.Expect("+OK")
	if user, plain := plaintextOffered(t, c); !user || !plain {
		t.Errorf("CAPA through the trusted proxy: USER %v, SASL PLAIN %v; want both", user, plain)
	}
	c.OK("USER alice")
	c.OK("PASS " + alice.pass)
	if ev := testutil.NextEvent(t, events, event.Login, 5*time.Second); ev.Remote != "203.0.113.9:40001" {
		t.Errorf("login from %q, want the client from the header", ev.Remote)
	}
	found := false
	for _, s := range e.srv.Sessions() {
		found = found || (s.User == "alice" && s.RemoteAddr == "203.0.113.9:40001")
	}
	if !found {
		t.Errorf("no session of alice from the client's address: %+v", e.srv.Sessions())
	}
	c.OK("QUIT")
}

// A bad entry is a configuration error that names it; the trusted
// networks are logged when the server starts.
func TestTrustedLoginFromConfig(t *testing.T) {
	e := newEnv(t, []account{alice}, nil)
	cfg := e.cfg
	cfg.TrustedLoginFrom = "10.0.0.0/8, 10.1.2.300"
	_, err := New(cfg, Options{Users: e.users, Logger: testutil.Log(t)})
	if err == nil || !strings.Contains(err.Error(), `config: trusted-login-from: proxyproto: "10.1.2.300" is not an IP address`) {
		t.Errorf("New with a bad trusted-login-from: %v", err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `"10.1.2.300"`) {
		t.Errorf("Validate with a bad trusted-login-from: %v", err)
	}

	log, logged := testutil.Logger(t)
	cfg.TrustedLoginFrom = "10.0.0.9/8, ::ffff:192.0.2.7"
	if _, err := New(cfg, Options{Users: e.users, Logger: log}); err != nil {
		t.Fatal(err)
	}
	if want := `level=INFO msg="plaintext logins accepted from these peers whatever plaintext-auth says" trusted-login-from=10.0.0.0/8,192.0.2.7`; !strings.Contains(logged.String(), want) {
		t.Errorf("start-up log:\n%s\nwant %s", logged, want)
	}
}

// The case of issue #12, with the real nginx mail proxy: it sends a PROXY
// header and logs in with USER/PASS in clear, which popd with a
// certificate and plaintext-auth = never accepts only from a peer in
// trusted-login-from.
func TestTrustedLoginFromNginx(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprint("trusted=", trusted), func(t *testing.T) {
			e := trustedEnv(t, func(c *config.Config) {
				c.ProxyFrom = "127.0.0.1"
				if !trusted {
					c.TrustedLoginFrom = "192.0.2.1"
				}
			})
			events := e.sessionEvents()
			host, port, _ := net.SplitHostPort(e.addr)
			auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Auth-Status", "OK")
				w.Header().Set("Auth-Server", host)
				w.Header().Set("Auth-Port", port)
			}))
			defer auth.Close()
			p := nginx.Start(t, nginx.Options{AuthHTTP: strings.TrimPrefix(auth.URL, "http://"), ProxyProtocol: true})
			c := testutil.DialPOP3(t, p.Addr)
			c.OK("USER alice")
			if !trusted {
				c.Send("PASS " + alice.pass)
				if l := c.Line(); !strings.HasPrefix(l, "-ERR") {
					t.Fatalf("nginx logged in from an untrusted address: %q", l)
				}
				return
			}
			c.OK("PASS " + alice.pass)
			c.OK("STAT")
			ev := testutil.NextEvent(t, events, event.Login, 5*time.Second)
			if want := c.Conn.LocalAddr().String(); ev.Remote != want {
				t.Errorf("login from %q; want the client's address %s", ev.Remote, want)
			}
			c.OK("QUIT")
		})
	}
}
