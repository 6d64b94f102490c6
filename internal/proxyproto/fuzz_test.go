package proxyproto_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"

	"popd/internal/proxyproto"
)

// FuzzReadHeader feeds arbitrary bytes to ReadHeader through the smallest
// and the default buffer: it must not panic, both must agree, a header must
// be consumed exactly (no more than 107 bytes for v1, 16 plus its length for
// v2) with what follows left in the reader, and errors must be the
// documented ones.
func FuzzReadHeader(f *testing.F) {
	ipv4 := inet4("1.2.3.4", "5.6.7.8", 1, 2)
	for _, s := range [][]byte{
		[]byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 110\r\nUSER x\r\n"),
		[]byte("PROXY TCP6 2001:db8::1 2001:db8::2 4000 995\r\n"),
		[]byte("PROXY UNKNOWN\r\n"),
		[]byte("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 0\r\n"),
		[]byte("USER x\r\n"),
		v2(0x21, 0x11, ipv4, tlv(0x01, []byte("pop3"))),
		v2(0x21, 0x21, inet6("2001:db8::1", "::ffff:1.2.3.4", 1, 2), tlv(0x20, []byte{1, 0, 0, 0, 0})),
		v2(0x20, 0x00, nil),
		v2(0x21, 0x31, make([]byte, 216)),
		v2(0x21, 0x12, ipv4),
		withCRC(v2(0x21, 0x11, ipv4), false),
		withCRC(v2(0x21, 0x11, ipv4), true),
		v2(0x21, 0x11, ipv4, []byte{0x04, 0xff, 0xff}),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			src, dst string
			err      error
			rest     []byte
		}
		read := func(size int) result {
			r := bufio.NewReaderSize(bytes.NewReader(data), size)
			src, dst, err := proxyproto.ReadHeader(r)
			rest, _ := io.ReadAll(r)
			var res result
			res.err, res.rest = err, rest
			for _, a := range []struct {
				a net.Addr
				s *string
			}{{src, &res.src}, {dst, &res.dst}} {
				if a.a == nil {
					continue
				}
				if _, ok := a.a.(*net.TCPAddr); !ok {
					t.Fatalf("address %#v is not a *net.TCPAddr", a.a)
				}
				*a.s = a.a.String()
			}
			if (src == nil) != (dst == nil) {
				t.Fatalf("src %v, dst %v", src, dst)
			}
			return res
		}
		small, big := read(16), read(4096)
		if small.src != big.src || small.dst != big.dst || (small.err == nil) != (big.err == nil) {
			t.Fatalf("buffer sizes disagree: %+v vs %+v", small, big)
		}
		if err := big.err; err != nil {
			if err != io.EOF && !errors.Is(err, proxyproto.ErrNoHeader) &&
				!errors.Is(err, proxyproto.ErrMalformed) && !errors.Is(err, proxyproto.ErrUnsupported) {
				t.Fatalf("undocumented error %v", err)
			}
			if big.src != "" {
				t.Fatalf("addresses with error %v", err)
			}
			return
		}
		consumed := len(data) - len(big.rest)
		if !bytes.Equal(big.rest, data[consumed:]) || !bytes.Equal(small.rest, big.rest) {
			t.Fatalf("rest %q is not the tail of the input", big.rest)
		}
		switch data[0] {
		case 'P':
			if consumed > 107 || !bytes.HasSuffix(data[:consumed], []byte("\r\n")) {
				t.Fatalf("v1 header of %d bytes: %q", consumed, data[:consumed])
			}
		default:
			if want := 16 + int(binary.BigEndian.Uint16(data[14:16])); consumed != want {
				t.Fatalf("v2 header consumed %d bytes, want %d", consumed, want)
			}
		}
	})
}
