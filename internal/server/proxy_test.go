package server

import (
	"bufio"
	"encoding/binary"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/testutil"
)

func TestProxyProtocol(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.ProxyFrom = "127.0.0.1/32" })
	// v1 from the trusted load balancer: the session is the client's.
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("PROXY TCP4 203.0.113.9 127.0.0.1 40000 110\r\nCAPA\r\n"))
	c := testutil.NewPOP3(t, conn)
	c.Expect("+OK POP3")
	c.Expect("+OK capability")
	c.Multi()
	testutil.Eventually(t, 5*time.Second, "condition", func() bool {
		for _, s := range e.srv.Sessions() {
			if strings.HasPrefix(s.RemoteAddr, "203.0.113.9:") {
				return true
			}
		}
		return false
	})

	// v2 (binary), IPv6 client.
	hdr := []byte("\r\n\r\n\x00\r\nQUIT\n")
	hdr = append(hdr, 0x21, 0x21) // v2 PROXY, TCP over IPv6
	hdr = binary.BigEndian.AppendUint16(hdr, 36)
	hdr = append(hdr, net.ParseIP("2001:db8::7")...)
	hdr = append(hdr, net.ParseIP("2001:db8::1")...)
	hdr = binary.BigEndian.AppendUint16(hdr, 50000)
	hdr = binary.BigEndian.AppendUint16(hdr, 110)
	conn2, _ := net.Dial("tcp", e.addr)
	defer conn2.Close()
	conn2.Write(hdr)
	c2 := testutil.NewPOP3(t, conn2)
	c2.Expect("+OK POP3")
	testutil.Eventually(t, 5*time.Second, "condition", func() bool {
		for _, s := range e.srv.Sessions() {
			if strings.HasPrefix(s.RemoteAddr, "[2001:db8::7]:") {
				return true
			}
		}
		return false
	})

	// A malformed header from the trusted source: dropped, never served.
	conn3, _ := net.Dial("tcp", e.addr)
	defer conn3.Close()
	conn3.Write([]byte("PROXY TCP4 999.1.1.1 127.0.0.1 1 2\r\nUSER alice\r\n"))
	conn3.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := bufio.NewReader(conn3).ReadString('\n'); err == nil {
		t.Fatalf("malformed PROXY header was served: %q", b)
	}
}

func TestProxyHeaderFromUntrustedSource(t *testing.T) {
	// Only 192.0.2.1 is trusted: a PROXY line from us is just a bad command.
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.ProxyFrom = "192.0.2.1" })
	c := e.dial()
	c.Err("PROXY TCP4 203.0.113.9 127.0.0.1 40000 110", "-ERR unknown command")
	for _, s := range e.srv.Sessions() {
		if strings.HasPrefix(s.RemoteAddr, "203.0.113.9") {
			t.Fatal("an untrusted client spoofed its address")
		}
	}
}

// TestProxyHealthCheckQuiet: a session behind "PROXY UNKNOWN" (the proxy's
// own connection: what nginx's auth popd and HAProxy send for their health
// checks) that does not log in is logged at debug level, so a check every
// 2 s does not fill the log; a client's session is logged as always.
func TestProxyHealthCheckQuiet(t *testing.T) {
	e := newEnv(t, []account{alice}, func(c *config.Config) { c.ProxyFrom = "127.0.0.1/32" })
	for _, header := range []string{"PROXY UNKNOWN\r\n", "PROXY TCP4 203.0.113.9 127.0.0.1 40000 110\r\n"} {
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(header))
		c := testutil.NewPOP3(t, conn)
		c.Expect("+OK POP3")
		c.OK("QUIT")
		conn.Close()
	}
	testutil.Eventually(t, 5*time.Second, "both sessions ended", func() bool {
		return strings.Count(e.logs.String(), `msg="session end"`) == 2
	})
	// Session 1 is the check, session 2 the client's.
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if !strings.Contains(l, `msg="session start"`) && !strings.Contains(l, `msg="session end"`) {
			continue
		}
		want := "level=INFO"
		if regexp.MustCompile(` session=[0-9a-z]{4}-1 `).MatchString(l) {
			want = "level=DEBUG"
		}
		if !strings.Contains(l, want) {
			t.Errorf("want %s: %s", want, l)
		}
	}
}
