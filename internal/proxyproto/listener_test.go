package proxyproto_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/proxyproto"
)

// errLog collects what a Listener reports through OnError.
type errLog struct {
	t    *testing.T
	mu   sync.Mutex
	errs []error
}

func (e *errLog) onError(remote net.Addr, err error) {
	e.t.Logf("OnError(%v, %v)", remote, err)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
}

func (e *errLog) get() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// listen starts a Listener on loopback trusting the given networks.
func listen(t *testing.T, trusted string, timeout time.Duration) (*proxyproto.Listener, *errLog) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	prefixes, err := proxyproto.ParseCIDRs(trusted)
	if err != nil {
		t.Fatal(err)
	}
	log := &errLog{t: t}
	l := &proxyproto.Listener{Listener: inner, TrustedFrom: prefixes, HeaderTimeout: timeout, OnError: log.onError}
	t.Cleanup(func() { l.Close() })
	return l, log
}

// connect dials l, sends send, and accepts the connection.
func connect(t *testing.T, l net.Listener, send string) (client, server net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if send != "" {
		if _, err := io.WriteString(client, send); err != nil {
			t.Fatal(err)
		}
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

// TestHeaders sends each kind of header, with a POP3 command in the same
// write, and checks the address the server sees, that the command is
// intact, and that the server can answer.
func TestHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header string
		remote string // "" for the proxy's own address
	}{
		{"v1 TCP4", "PROXY TCP4 203.0.113.9 10.0.0.1 40000 110\r\n", "203.0.113.9:40000"},
		{"v1 TCP6", "PROXY TCP6 2001:db8::9 2001:db8::1 40000 110\r\n", "[2001:db8::9]:40000"},
		{"v1 UNKNOWN", "PROXY UNKNOWN\r\n", ""},
		{"v2 PROXY IPv4 TLVs", string(v2(0x21, 0x11, inet4("198.51.100.7", "10.0.0.1", 51000, 995),
			tlv(0x01, []byte("pop3")), tlv(0x20, []byte{1, 0, 0, 0, 0}))), "198.51.100.7:51000"},
		{"v2 PROXY IPv6 TLVs", string(withCRC(v2(0x21, 0x21, inet6("2001:db8::7", "2001:db8::1", 52000, 110),
			tlv(0x02, []byte("mail.example.org")), tlv(0x05, []byte("id-42"))), false)), "[2001:db8::7]:52000"},
		{"v2 LOCAL", string(v2(0x20, 0x00, nil)), ""},
	}
	l, log := listen(t, "127.0.0.0/8", time.Second)
	for _, tt := range tests {
		client, server := connect(t, l, tt.header+"USER x\r\n")
		c, ok := server.(*proxyproto.Conn)
		if !ok {
			t.Fatalf("%s: Accept returned %T, want *proxyproto.Conn", tt.name, server)
		}
		want := tt.remote
		if want == "" {
			want = client.LocalAddr().String()
		}
		if got := c.RemoteAddr().String(); got != want {
			t.Errorf("%s: RemoteAddr %s, want %s", tt.name, got, want)
		}
		if got, want := c.ProxyAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("%s: ProxyAddr %s, want %s", tt.name, got, want)
		}
		if got, want := c.LocalAddr().String(), l.Addr().String(); got != want {
			t.Errorf("%s: LocalAddr %s, want %s", tt.name, got, want)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "USER x\r\n" {
			t.Errorf("%s: read %q, %v; want the command after the header", tt.name, line, err)
		}
		io.WriteString(c, "+OK\r\n")
		reply, err := bufio.NewReader(client).ReadString('\n')
		if err != nil || reply != "+OK\r\n" {
			t.Errorf("%s: client read %q, %v", tt.name, reply, err)
		}
	}
	if errs := log.get(); len(errs) != 0 {
		t.Errorf("OnError called: %v", errs)
	}
}

// The first Read, not RemoteAddr, may be what reads the header.
func TestReadFirst(t *testing.T) {
	l, _ := listen(t, "127.0.0.1", time.Second)
	_, server := connect(t, l, "PROXY TCP4 192.0.2.1 192.0.2.2 1000 110\r\nCAPA\r\n")
	buf := make([]byte, 64)
	n, err := server.Read(buf)
	if err != nil || string(buf[:n]) != "CAPA\r\n" {
		t.Fatalf("Read %q, %v", buf[:n], err)
	}
	if got := server.RemoteAddr().String(); got != "192.0.2.1:1000" {
		t.Errorf("RemoteAddr %s", got)
	}
}

// A header split across writes is waited for.
func TestHeaderInPieces(t *testing.T) {
	l, _ := listen(t, "127.0.0.1", 2*time.Second)
	h := string(v2(0x21, 0x11, inet4("192.0.2.1", "192.0.2.2", 1000, 110), tlv(0x04, make([]byte, 100))))
	client, server := connect(t, l, h[:10])
	go func() {
		for _, part := range []string{h[10:20], h[20:], "STAT\r\n"} {
			time.Sleep(20 * time.Millisecond)
			io.WriteString(client, part)
		}
	}()
	if got := server.RemoteAddr().String(); got != "192.0.2.1:1000" {
		t.Errorf("RemoteAddr %s", got)
	}
	line, err := bufio.NewReader(server).ReadString('\n')
	if line != "STAT\r\n" || err != nil {
		t.Errorf("read %q, %v", line, err)
	}
}

func TestMalformedHeaders(t *testing.T) {
	tests := []struct {
		name string
		send string
		want error
	}{
		{"no header", "USER x\r\n", proxyproto.ErrNoHeader},
		{"bad v2 signature", "\r\n\r\n\x00\r\nQUIZ\n\x21\x11\x00\x0c" + string(inet4("1.2.3.4", "5.6.7.8", 1, 2)), proxyproto.ErrNoHeader},
		{"v1 too long", "PROXY TCP4 " + strings.Repeat("1", 120) + "\r\n", proxyproto.ErrMalformed},
		{"v1 bad port", "PROXY TCP4 1.2.3.4 5.6.7.8 99999 110\r\nUSER x\r\n", proxyproto.ErrMalformed},
		{"v1 leading zero port", "PROXY TCP4 1.2.3.4 5.6.7.8 080 110\r\nUSER x\r\n", proxyproto.ErrMalformed},
		{"v2 bad version", string(v2(0x11, 0x11, inet4("1.2.3.4", "5.6.7.8", 1, 2))), proxyproto.ErrUnsupported},
		{"v2 CRC mismatch", string(withCRC(v2(0x21, 0x11, inet4("1.2.3.4", "5.6.7.8", 1, 2)), true)), proxyproto.ErrMalformed},
	}
	l, log := listen(t, "127.0.0.0/8", time.Second)
	for i, tt := range tests {
		client, server := connect(t, l, tt.send)
		n, err := server.Read(make([]byte, 64))
		if n != 0 || !errors.Is(err, tt.want) {
			t.Errorf("%s: Read %d, %v; want %v", tt.name, n, err, tt.want)
		}
		if _, err := server.Write([]byte("+OK\r\n")); !errors.Is(err, tt.want) {
			t.Errorf("%s: Write after a bad header: %v", tt.name, err)
		}
		if got, want := server.RemoteAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("%s: RemoteAddr %s, want the proxy's %s", tt.name, got, want)
		}
		expectClosed(t, tt.name, client)
		if errs := log.get(); len(errs) != i+1 || !errors.Is(errs[i], tt.want) {
			t.Errorf("%s: OnError got %v", tt.name, errs)
		}
	}
}

// A truncated v2 header: the peer sends part of it and closes.
func TestTruncatedV2(t *testing.T) {
	l, log := listen(t, "127.0.0.1", time.Second)
	h := v2(0x21, 0x21, inet6("2001:db8::1", "2001:db8::2", 1, 2))
	client, server := connect(t, l, string(h[:30]))
	client.(*net.TCPConn).CloseWrite()
	_, err := server.Read(make([]byte, 10))
	if !errors.Is(err, proxyproto.ErrMalformed) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Read: %v, want ErrMalformed", err)
	}
	expectClosed(t, "truncated v2", client)
	if errs := log.get(); len(errs) != 1 {
		t.Errorf("OnError got %v", errs)
	}
}

// expectClosed checks that the server closed the client's connection.
func expectClosed(t *testing.T, name string, client net.Conn) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := client.Read(make([]byte, 64))
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s: client read %d, %v; want the connection closed", name, n, err)
	}
}

// A trusted peer that sends nothing is dropped after HeaderTimeout.
func TestHeaderTimeout(t *testing.T) {
	l, log := listen(t, "127.0.0.1", 100*time.Millisecond)
	client, server := connect(t, l, "")
	start := time.Now()
	_, err := server.Read(make([]byte, 10))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v", d)
	}
	if errs := log.get(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "no complete header within 100ms") {
		t.Errorf("OnError got %v", errs)
	}
	expectClosed(t, "timeout", client)
}

// The header deadline is lifted once the header is in; the caller's own
// deadlines apply during the header and after it.
func TestDeadlines(t *testing.T) {
	l, _ := listen(t, "127.0.0.1", 100*time.Millisecond)

	client, server := connect(t, l, "PROXY UNKNOWN\r\n")
	server.RemoteAddr()
	time.Sleep(200 * time.Millisecond) // past the header deadline
	io.WriteString(client, "NOOP\r\n")
	if line, err := bufio.NewReader(server).ReadString('\n'); line != "NOOP\r\n" || err != nil {
		t.Errorf("read after the header deadline: %q, %v", line, err)
	}
	server.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := server.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("caller's deadline after the header: %v", err)
	}

	// A caller's deadline set before the header, later than the header's,
	// survives it.
	l2, _ := listen(t, "127.0.0.1", 5*time.Second)
	_, server = connect(t, l2, "PROXY UNKNOWN\r\n")
	server.SetDeadline(time.Now().Add(150 * time.Millisecond))
	server.RemoteAddr()
	start := time.Now()
	if _, err := server.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("caller's deadline set before the header: %v after %v", err, time.Since(start))
	}

	// An earlier caller's deadline cuts the header wait short (a session
	// being stopped).
	_, server = connect(t, l2, "")
	go func() {
		time.Sleep(50 * time.Millisecond)
		server.SetDeadline(time.Now())
	}()
	start = time.Now()
	if _, err := server.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("deadline during the header: %v after %v", err, time.Since(start))
	}
}

// Accept does not wait for a slow trusted peer's header, and one peer's
// missing header does not hold up another's.
func TestAcceptDoesNotBlock(t *testing.T) {
	l, _ := listen(t, "127.0.0.1", 5*time.Second)
	_, slow := connect(t, l, "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		slow.Read(make([]byte, 1)) // waits for the header
	}()
	start := time.Now()
	_, fast := connect(t, l, "PROXY TCP4 192.0.2.1 192.0.2.2 1000 110\r\n")
	if got := fast.RemoteAddr().String(); got != "192.0.2.1:1000" {
		t.Errorf("RemoteAddr %s", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("second connection took %v", d)
	}
	slow.Close()
	<-done
}

// A peer that connects and closes without a byte (a TCP health check) reads
// as io.EOF and is not reported.
func TestHealthCheckEOF(t *testing.T) {
	l, log := listen(t, "127.0.0.1", time.Second)
	client, server := connect(t, l, "")
	client.Close()
	if _, err := server.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read: %v, want io.EOF", err)
	}
	if errs := log.get(); len(errs) != 0 {
		t.Errorf("OnError got %v", errs)
	}
}

// Closing a connection whose header is awaited is not reported either.
func TestCloseWhileWaiting(t *testing.T) {
	l, log := listen(t, "127.0.0.1", 5*time.Second)
	_, server := connect(t, l, "")
	go func() {
		time.Sleep(50 * time.Millisecond)
		server.Close()
	}()
	if _, err := server.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read: %v, want net.ErrClosed", err)
	}
	if errs := log.get(); len(errs) != 0 {
		t.Errorf("OnError got %v", errs)
	}
}

// An untrusted peer's connection is returned as is: a PROXY line it sends is
// just data, and its address is its own.
func TestUntrusted(t *testing.T) {
	for _, trusted := range []string{"", "10.0.0.0/8, ::1"} {
		l, log := listen(t, trusted, time.Second)
		client, server := connect(t, l, "PROXY TCP4 6.6.6.6 10.0.0.1 1 110\r\n")
		if _, ok := server.(*proxyproto.Conn); ok {
			t.Errorf("trusted %q: an untrusted connection came back as *proxyproto.Conn", trusted)
		}
		if got, want := server.RemoteAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("trusted %q: RemoteAddr %s, want %s", trusted, got, want)
		}
		line, err := bufio.NewReader(server).ReadString('\n')
		if line != "PROXY TCP4 6.6.6.6 10.0.0.1 1 110\r\n" || err != nil {
			t.Errorf("trusted %q: read %q, %v; want the PROXY line as data", trusted, line, err)
		}
		if errs := log.get(); len(errs) != 0 {
			t.Errorf("OnError got %v", errs)
		}
	}
}

// An untrusted peer that sends nothing does not hold up Accept.
func TestUntrustedSilent(t *testing.T) {
	l, _ := listen(t, "10.0.0.0/8", time.Second)
	connect(t, l, "")
	done := make(chan struct{})
	go func() {
		defer close(done)
		connect(t, l, "x")
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Accept blocked behind a silent untrusted peer")
	}
}

func TestParseCIDRs(t *testing.T) {
	tests := []struct {
		in   string
		want string // prefixes joined by " ", or "error: " and a part of the message
	}{
		{"", ""},
		{"  ", ""},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.0.0.0/8,192.168.1.7,::1", "10.0.0.0/8 192.168.1.7/32 ::1/128"},
		{" 10.0.0.0/8 , 2001:db8::/32 ", "10.0.0.0/8 2001:db8::/32"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"::ffff:10.1.2.3", "10.1.2.3/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"0.0.0.0/0,::/0", "0.0.0.0/0 ::/0"},
		{"10.0.0.0/8,", `error: empty item 2`},
		{",10.0.0.0/8", `error: empty item 1`},
		{"10.0.0.0/33", `error: "10.0.0.0/33" is not an IP network`},
		{"10.0.0.0/8,bogus", `error: "bogus" is not an IP address`},
		{"10.0.0.256", `error: "10.0.0.256"`},
		{"example.org", `error: "example.org"`},
		{"fe80::1%eth0", `error: "fe80::1%eth0": IPv6 zones`},
		{"10.0.0.0/8/8", `error: "10.0.0.0/8/8"`},
	}
	for _, tt := range tests {
		got, err := proxyproto.ParseCIDRs(tt.in)
		if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
			if err == nil || !strings.HasPrefix(err.Error(), "proxyproto: ") || !strings.Contains(err.Error(), want) {
				t.Errorf("ParseCIDRs(%q): %v, %v; want an error with %q", tt.in, got, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCIDRs(%q): %v", tt.in, err)
			continue
		}
		if tt.want == "" && got != nil {
			t.Errorf("ParseCIDRs(%q) = %v, want nil", tt.in, got)
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if strings.Join(s, " ") != tt.want {
			t.Errorf("ParseCIDRs(%q) = %v, want %s", tt.in, s, tt.want)
		}
	}
}

// Trust is decided on the peer's IP address, IPv4-mapped or not.
func TestTrustedIPv6Loopback(t *testing.T) {
	inner, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	l := &proxyproto.Listener{Listener: inner, TrustedFrom: []netip.Prefix{netip.MustParsePrefix("::1/128")}}
	t.Cleanup(func() { l.Close() })
	_, server := connect(t, l, "PROXY TCP4 192.0.2.1 192.0.2.2 1000 110\r\n")
	if got := server.RemoteAddr().String(); got != "192.0.2.1:1000" {
		t.Errorf("RemoteAddr %s", got)
	}
}
