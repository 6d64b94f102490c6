package proxyproto_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"

	"popd/internal/proxyproto"
)

const after = "USER x\r\n"

func TestReadHeaderValid(t *testing.T) {
	ssl := tlv(0x20, append([]byte{0x01, 0, 0, 0, 0}, tlv(0x21, []byte("TLSv1.3"))...))
	tests := []struct {
		name     string
		in       []byte
		src, dst string // "" for nil
	}{
		{"v1 TCP4", []byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 110\r\n"), "192.168.0.1:56324", "192.168.0.11:110"},
		{"v1 TCP4 max", []byte("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"), "255.255.255.255:65535", "255.255.255.255:65535"},
		{"v1 TCP4 port 0", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 0 0\r\n"), "1.2.3.4:0", "5.6.7.8:0"},
		{"v1 TCP6", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 4000 995\r\n"), "[2001:db8::1]:4000", "[2001:db8::2]:995"},
		{"v1 TCP6 full", []byte("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff FFFF:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
			"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
		{"v1 TCP6 v4-mapped", []byte("PROXY TCP6 ::ffff:10.1.2.3 ::1 1 2\r\n"), "10.1.2.3:1", "[::1]:2"},
		{"v1 UNKNOWN short", []byte("PROXY UNKNOWN\r\n"), "", ""},
		{"v1 UNKNOWN worst case", []byte("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"), "", ""},
		{"v1 UNKNOWN junk", []byte("PROXY UNKNOWN whatever \x01 here\r\n"), "", ""},
		{"v2 TCP4", v2(0x21, 0x11, inet4("203.0.113.9", "10.0.0.1", 40000, 110)), "203.0.113.9:40000", "10.0.0.1:110"},
		{"v2 TCP4 TLVs", v2(0x21, 0x11, inet4("203.0.113.9", "10.0.0.1", 40000, 110),
			tlv(0x01, []byte("pop3")), tlv(0x04, nil), tlv(0x05, bytes.Repeat([]byte{7}, 128)), ssl), "203.0.113.9:40000", "10.0.0.1:110"},
		{"v2 TCP6 TLVs", v2(0x21, 0x21, inet6("2001:db8::9", "2001:db8::1", 50000, 995),
			tlv(0x02, []byte("mail.example.org")), tlv(0xE0, bytes.Repeat([]byte{1}, 3000))), "[2001:db8::9]:50000", "[2001:db8::1]:995"},
		{"v2 TCP6 v4-mapped", v2(0x21, 0x21, inet6("::ffff:198.51.100.7", "::ffff:10.0.0.1", 1, 2)), "198.51.100.7:1", "10.0.0.1:2"},
		{"v2 TCP4 CRC32C", withCRC(v2(0x21, 0x11, inet4("1.2.3.4", "5.6.7.8", 1, 2), tlv(0x04, []byte("pad"))), false), "1.2.3.4:1", "5.6.7.8:2"},
		{"v2 LOCAL", v2(0x20, 0x00, nil), "", ""},
		{"v2 LOCAL with addresses", v2(0x20, 0x11, inet4("1.2.3.4", "5.6.7.8", 1, 2), tlv(0x04, nil)), "", ""},
		{"v2 LOCAL unknown family", v2(0x20, 0xFF, []byte("ignored")), "", ""},
		{"v2 PROXY UNSPEC", v2(0x21, 0x00, []byte("ignored")), "", ""},
		{"v2 UDP4 as UNSPEC", v2(0x21, 0x12, inet4("1.2.3.4", "5.6.7.8", 1, 2)), "", ""},
		{"v2 unix as UNSPEC", v2(0x21, 0x31, make([]byte, 216), tlv(0x04, nil)), "", ""},
	}
	for _, tt := range tests {
		for _, size := range []int{16, 4096} {
			r := bufio.NewReaderSize(bytes.NewReader(append(tt.in, after...)), size)
			src, dst, err := proxyproto.ReadHeader(r)
			if err != nil {
				t.Errorf("%s (buffer %d): %v", tt.name, size, err)
				continue
			}
			if got := str(src); got != tt.src {
				t.Errorf("%s: src %s, want %q", tt.name, got, tt.src)
			}
			if got := str(dst); got != tt.dst {
				t.Errorf("%s: dst %s, want %q", tt.name, got, tt.dst)
			}
			if rest, _ := io.ReadAll(r); string(rest) != after {
				t.Errorf("%s (buffer %d): left %q, want %q", tt.name, size, rest, after)
			}
		}
	}
}

func str(a net.Addr) string {
	if a == nil {
		return ""
	}
	if _, ok := a.(*net.TCPAddr); !ok {
		return "not a *net.TCPAddr"
	}
	return a.String()
}

func TestReadHeaderInvalid(t *testing.T) {
	ipv4 := inet4("1.2.3.4", "5.6.7.8", 1, 2)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"POP3 command", "USER x\r\n", proxyproto.ErrNoHeader},
		{"P but not PROXY", "PASS x\r\n", proxyproto.ErrNoHeader},
		{"lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", proxyproto.ErrNoHeader},
		{"PROXY without space", "PROXY\r\n", proxyproto.ErrNoHeader},
		{"empty line", "\r\nUSER x\r\n", proxyproto.ErrNoHeader},
		{"bad v2 signature", "\r\n\r\n\x00\r\nQUIZ\n\x21\x11\x00\x0c" + string(ipv4), proxyproto.ErrNoHeader},
		{"TLS hello", "\x16\x03\x01\x00\xa5", proxyproto.ErrNoHeader},

		{"v1 too long", "PROXY UNKNOWN " + strings.Repeat("x", 200) + "\r\n", proxyproto.ErrMalformed},
		{"v1 108 bytes", "PROXY UNKNOWN " + strings.Repeat("f", 108-16) + "\r\n", proxyproto.ErrMalformed},
		{"v1 LF only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", proxyproto.ErrMalformed},
		{"v1 CR only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rUSER x\r\n", proxyproto.ErrMalformed},
		{"v1 port too big", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", proxyproto.ErrMalformed},
		{"v1 port leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 0110 2\r\n", proxyproto.ErrMalformed},
		{"v1 port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", proxyproto.ErrMalformed},
		{"v1 port hex", "PROXY TCP4 1.2.3.4 5.6.7.8 1 0x2\r\n", proxyproto.ErrMalformed},
		{"v1 port empty", "PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n", proxyproto.ErrMalformed},
		{"v1 missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", proxyproto.ErrMalformed},
		{"v1 extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", proxyproto.ErrMalformed},
		{"v1 double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", proxyproto.ErrMalformed},
		{"v1 trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", proxyproto.ErrMalformed},
		{"v1 octet leading zero", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", proxyproto.ErrMalformed},
		{"v1 octet too big", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", proxyproto.ErrMalformed},
		{"v1 TCP4 with IPv6", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", proxyproto.ErrMalformed},
		{"v1 TCP6 with IPv4", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", proxyproto.ErrMalformed},
		{"v1 TCP6 zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", proxyproto.ErrMalformed},
		{"v1 host name", "PROXY TCP4 localhost 5.6.7.8 1 2\r\n", proxyproto.ErrMalformed},
		{"v1 truncated", "PROXY TCP4 1.2.3.4 5.6", proxyproto.ErrMalformed},
		{"v1 prefix truncated", "PRO", proxyproto.ErrMalformed},
		{"v1 UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", proxyproto.ErrUnsupported},
		{"v1 no protocol", "PROXY \r\n", proxyproto.ErrUnsupported},

		{"v2 signature only", string(sig), proxyproto.ErrMalformed},
		{"v2 truncated signature", string(sig[:7]), proxyproto.ErrMalformed},
		{"v2 truncated addresses", string(v2(0x21, 0x11, ipv4)[:20]), proxyproto.ErrMalformed},
		{"v2 truncated TLV", string(v2(0x21, 0x11, ipv4, tlv(0x04, []byte("abcdef")))[:16+12+5]), proxyproto.ErrMalformed},
		{"v2 length short for IPv4", string(v2(0x21, 0x11, ipv4[:8])), proxyproto.ErrMalformed},
		{"v2 length short for IPv6", string(v2(0x21, 0x21, ipv4)), proxyproto.ErrMalformed},
		{"v2 length short for unix", string(v2(0x21, 0x31, make([]byte, 215))), proxyproto.ErrMalformed},
		{"v2 TLV runs past header", string(v2(0x21, 0x11, ipv4, []byte{0x04, 0, 9, 1, 2})), proxyproto.ErrMalformed},
		{"v2 TLV header cut", string(v2(0x21, 0x11, ipv4, []byte{0x04, 0})), proxyproto.ErrMalformed},
		{"v2 CRC mismatch", string(withCRC(v2(0x21, 0x11, ipv4), true)), proxyproto.ErrMalformed},
		{"v2 CRC bad length", string(v2(0x21, 0x11, ipv4, tlv(0x03, []byte{1, 2, 3}))), proxyproto.ErrMalformed},
		{"v2 version 1", string(v2(0x11, 0x11, ipv4)), proxyproto.ErrUnsupported},
		{"v2 version 3", string(v2(0x31, 0x11, ipv4)), proxyproto.ErrUnsupported},
		{"v2 command 2", string(v2(0x22, 0x11, ipv4)), proxyproto.ErrUnsupported},
		{"v2 family 4", string(v2(0x21, 0x41, ipv4)), proxyproto.ErrUnsupported},
		{"v2 protocol 3", string(v2(0x21, 0x13, ipv4)), proxyproto.ErrUnsupported},
	}
	for _, tt := range tests {
		r := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
		src, dst, err := proxyproto.ReadHeader(r)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
			continue
		}
		if src != nil || dst != nil {
			t.Errorf("%s: addresses %v %v with an error", tt.name, src, dst)
		}
		if !strings.HasPrefix(err.Error(), "proxyproto: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, err)
		}
	}
}

func TestReadHeaderEOF(t *testing.T) {
	_, _, err := proxyproto.ReadHeader(bufio.NewReader(strings.NewReader("")))
	if err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
	_, _, err = proxyproto.ReadHeader(bufio.NewReader(strings.NewReader("PROXY TCP4")))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, proxyproto.ErrMalformed) {
		t.Errorf("truncated: %v, want ErrMalformed and io.ErrUnexpectedEOF", err)
	}
}

// A peer announcing the longest v2 header, 64 KiB of TLVs, costs no buffer
// of that size.
func TestReadHeaderBoundedMemory(t *testing.T) {
	var tlvs [][]byte
	for range 65535/(3+1000) - 1 {
		tlvs = append(tlvs, tlv(0x04, make([]byte, 1000)))
	}
	h := v2(0x21, 0x11, inet4("1.2.3.4", "5.6.7.8", 1, 2), tlvs...)
	const runs = 20
	readers := make([]*bufio.Reader, runs)
	for i := range readers {
		readers[i] = bufio.NewReader(bytes.NewReader(h))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, r := range readers {
		if _, _, err := proxyproto.ReadHeader(r); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 2048 {
		t.Errorf("ReadHeader of a %d-byte header allocated %d bytes", len(h), per)
	}
}
