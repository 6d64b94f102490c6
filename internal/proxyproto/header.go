package proxyproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net"
	"net/netip"
	"strings"
)

var (
	// ErrNoHeader means the stream does not begin with a PROXY protocol
	// signature: neither v1's "PROXY " nor v2's 12-byte block.
	ErrNoHeader = errors.New("proxyproto: no PROXY header")

	// ErrMalformed means the stream begins with a PROXY signature but the
	// header breaks the specification: a bad address or port, a v1 line
	// longer than 107 bytes or not ended by CRLF, a v2 length too short for
	// its addresses, a TLV running past the header, a CRC32C mismatch, or a
	// header cut short by the end of the stream.
	ErrMalformed = errors.New("proxyproto: malformed header")

	// ErrUnsupported means the header is recognisable but names something
	// the specification does not define: a v1 protocol other than TCP4,
	// TCP6 and UNKNOWN, or a v2 version, command, address family or
	// transport protocol with an unassigned value.
	ErrUnsupported = errors.New("proxyproto: unsupported header")
)

const (
	// v1MaxLen is the longest v1 line, CRLF included (spec §2.1: the worst
	// case "PROXY UNKNOWN ffff:...:ffff ffff:...:ffff 65535 65535\r\n").
	v1MaxLen = 107
	// v2HeaderLen is the fixed part of a v2 header: signature, ver/cmd,
	// family/protocol, length.
	v2HeaderLen = 16
)

// v1Prefix starts every v1 line; v2Sig starts every v2 header (spec §2.2).
var (
	v1Prefix = "PROXY "
	v2Sig    = [12]byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}
)

// v2 header fields (spec §2.2).
const (
	cmdLocal = 0x0
	cmdProxy = 0x1

	famUnspec = 0x0
	famInet   = 0x1
	famInet6  = 0x2
	famUnix   = 0x3

	protoUnspec = 0x0
	protoStream = 0x1
	protoDgram  = 0x2

	tlvCRC32C = 0x03
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ReadHeader reads one PROXY protocol header, v1 or v2, from r and returns
// the source (client) and destination addresses it carries, both
// *net.TCPAddr, or both nil when the header says to keep the connection's
// own addresses (v1 UNKNOWN, v2 LOCAL, and v2 families or protocols that are
// not TCP over IPv4 or IPv6). It consumes exactly the header's bytes; what
// follows stays in r. It returns io.EOF, unwrapped, if r ends before the
// first byte, and otherwise wraps ErrNoHeader, ErrMalformed, ErrUnsupported,
// or the error of r.
//
// ReadHeader never allocates buffers sized by the peer, and reads no further
// than the header: a v1 line is read byte by byte up to its CRLF, so that a
// short header with nothing behind it does not block.
func ReadHeader(r *bufio.Reader) (src, dst net.Addr, err error) {
	b, err := r.ReadByte()
	if err == io.EOF {
		return nil, nil, io.EOF
	}
	if err != nil {
		return nil, nil, readErr(err)
	}
	switch b {
	case v1Prefix[0]:
		return readV1(r)
	case v2Sig[0]:
		return readV2(r)
	}
	return nil, nil, ErrNoHeader
}

// readErr wraps an error of the underlying reader met inside a header.
func readErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated: %w", ErrMalformed, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("proxyproto: reading header: %w", err)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// readV1 reads the rest of a v1 line whose "P" has been read (spec §2.1).
func readV1(r *bufio.Reader) (src, dst net.Addr, err error) {
	var buf [v1MaxLen]byte
	buf[0] = v1Prefix[0]
	n := 1
	for {
		if n == v1MaxLen {
			return nil, nil, malformed("v1 line without CRLF in the first %d bytes", v1MaxLen)
		}
		c, err := r.ReadByte()
		if err != nil {
			return nil, nil, readErr(err)
		}
		if n < len(v1Prefix) && c != v1Prefix[n] {
			return nil, nil, ErrNoHeader // e.g. "PASS secret": not a PROXY line at all
		}
		buf[n] = c
		n++
		if c == '\n' {
			break
		}
	}
	// Spec §2.1: "The receiver must not tolerate a single CR or LF character
	// to end the line when a complete CRLF sequence is expected."
	if buf[n-2] != '\r' {
		return nil, nil, malformed("v1 line ends in LF without CR")
	}
	rest := string(buf[len(v1Prefix) : n-2])

	proto, rest, _ := strings.Cut(rest, " ")
	var v6 bool
	switch proto {
	case "UNKNOWN":
		// Spec §2.1: "the receiver must ignore anything presented before
		// the CRLF" and use the connection's own addresses.
		return nil, nil, nil
	case "TCP4":
	case "TCP6":
		v6 = true
	default:
		return nil, nil, unsupported("v1 protocol %q", proto)
	}
	f := strings.Split(rest, " ")
	if len(f) != 4 {
		return nil, nil, malformed("v1 %s line has %d fields after the protocol, want 4", proto, len(f))
	}
	srcIP, err := parseV1Addr(f[0], v6)
	if err != nil {
		return nil, nil, err
	}
	dstIP, err := parseV1Addr(f[1], v6)
	if err != nil {
		return nil, nil, err
	}
	sport, err := parseV1Port(f[2])
	if err != nil {
		return nil, nil, err
	}
	dport, err := parseV1Port(f[3])
	if err != nil {
		return nil, nil, err
	}
	return tcpAddr(srcIP, sport), tcpAddr(dstIP, dport), nil
}

// parseV1Addr parses a v1 address of the family the line announced. netip
// rejects IPv4 octets with leading zeros, as the spec requires.
func parseV1Addr(s string, v6 bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, malformed("v1 address %q", s)
	case !v6 && !a.Is4():
		return netip.Addr{}, malformed("v1 TCP4 address %q is not IPv4", s)
	case v6 && (!a.Is6() || a.Zone() != ""):
		return netip.Addr{}, malformed("v1 TCP6 address %q is not IPv6", s)
	}
	return a, nil
}

// parseV1Port parses a decimal port in [0, 65535] without leading zeros.
func parseV1Port(s string) (uint16, error) {
	if s == "" || len(s) > 5 || (len(s) > 1 && s[0] == '0') {
		return 0, malformed("v1 port %q", s)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, malformed("v1 port %q", s)
		}
		n = 10*n + int(s[i]-'0')
	}
	if n > 65535 {
		return 0, malformed("v1 port %q", s)
	}
	return uint16(n), nil
}

// readV2 reads the rest of a v2 header whose first byte has been read
// (spec §2.2).
func readV2(r *bufio.Reader) (src, dst net.Addr, err error) {
	var hdr [v2HeaderLen]byte
	hdr[0] = v2Sig[0]
	// Compare the signature byte by byte, so that a peer sending anything
	// else (an empty line, say) is told apart without waiting for 16 bytes.
	for i := 1; i < len(v2Sig); i++ {
		c, err := r.ReadByte()
		if err != nil {
			return nil, nil, readErr(err)
		}
		if c != v2Sig[i] {
			return nil, nil, ErrNoHeader
		}
		hdr[i] = c
	}
	if _, err := io.ReadFull(r, hdr[len(v2Sig):]); err != nil {
		return nil, nil, readErr(err)
	}
	ver, cmd := hdr[12]>>4, hdr[12]&0xF
	fam, proto := hdr[13]>>4, hdr[13]&0xF
	length := int(binary.BigEndian.Uint16(hdr[14:]))
	if ver != 2 {
		return nil, nil, unsupported("v2 version %d", ver)
	}

	switch cmd {
	case cmdLocal:
		// Health checks and the like: "the receiver must accept this
		// connection as valid and must use the real connection endpoints
		// and discard the protocol block including the family".
		if err := skip(r, nil, length); err != nil {
			return nil, nil, err
		}
		return nil, nil, nil
	case cmdProxy:
	default:
		return nil, nil, unsupported("v2 command %#x", cmd)
	}
	if fam > famUnix || proto > protoDgram {
		return nil, nil, unsupported("v2 family/protocol %#02x", hdr[13])
	}
	if fam == famUnspec || proto == protoUnspec {
		// Spec §2.2: the receiver "should ignore address information" and
		// may use the connection's own addresses. The layout of the block
		// is unknown, so it is skipped whole.
		if err := skip(r, nil, length); err != nil {
			return nil, nil, err
		}
		return nil, nil, nil
	}

	size := 216 // famUnix: two 108-byte paths
	switch fam {
	case famInet:
		size = 12 // two addresses of 4 bytes, two ports
	case famInet6:
		size = 36 // two addresses of 16 bytes, two ports
	}
	if length < size {
		return nil, nil, malformed("v2 length %d is too short for family %#x (%d bytes of addresses)", length, fam, size)
	}
	crc := crc32.New(castagnoli)
	crc.Write(hdr[:])
	var block [216]byte
	if _, err := io.ReadFull(r, block[:size]); err != nil {
		return nil, nil, readErr(err)
	}
	crc.Write(block[:size])
	if err := readTLVs(r, crc, length-size); err != nil {
		return nil, nil, err
	}

	if proto != protoStream {
		// Datagram protocols make no sense in front of a TCP service; treat
		// them as UNSPEC, as spec §2.2 allows for what a receiver does not
		// implement.
		return nil, nil, nil
	}
	switch fam {
	case famInet:
		s := netip.AddrFrom4([4]byte(block[0:4]))
		d := netip.AddrFrom4([4]byte(block[4:8]))
		return tcpAddr(s, binary.BigEndian.Uint16(block[8:])), tcpAddr(d, binary.BigEndian.Uint16(block[10:])), nil
	case famInet6:
		s := netip.AddrFrom16([16]byte(block[0:16]))
		d := netip.AddrFrom16([16]byte(block[16:32]))
		return tcpAddr(s, binary.BigEndian.Uint16(block[32:])), tcpAddr(d, binary.BigEndian.Uint16(block[34:])), nil
	}
	// AF_UNIX: not decoded (spec §2.2 allows treating it as UNSPEC); a unix
	// path would say nothing useful about the client anyway.
	return nil, nil, nil
}

// readTLVs reads n bytes of v2 TLVs (spec §2.2), checking that they fill the
// space exactly, feeding them to crc and verifying a PP2_TYPE_CRC32C if one
// is present (spec §2.2.3: computed over the whole header with the checksum
// field zeroed).
func readTLVs(r *bufio.Reader, crc hash.Hash32, n int) error {
	var (
		haveSum bool
		sum     uint32
	)
	for n > 0 {
		if n < 3 {
			return malformed("v2 TLV header cut short (%d bytes left)", n)
		}
		var t [3]byte
		if _, err := io.ReadFull(r, t[:]); err != nil {
			return readErr(err)
		}
		crc.Write(t[:])
		n -= 3
		l := int(binary.BigEndian.Uint16(t[1:]))
		if l > n {
			return malformed("v2 TLV %#02x of %d bytes runs past the header (%d bytes left)", t[0], l, n)
		}
		n -= l
		if t[0] != tlvCRC32C {
			if err := skip(r, crc, l); err != nil {
				return err
			}
			continue
		}
		if l != 4 || haveSum {
			return malformed("v2 CRC32C TLV of length %d or repeated", l)
		}
		var v [4]byte
		if _, err := io.ReadFull(r, v[:]); err != nil {
			return readErr(err)
		}
		crc.Write([]byte{0, 0, 0, 0})
		haveSum, sum = true, binary.BigEndian.Uint32(v[:])
	}
	if haveSum && crc.Sum32() != sum {
		return malformed("v2 CRC32C mismatch")
	}
	return nil
}

// skip consumes n bytes of r, feeding them to h if it is not nil, without
// copying them anywhere else.
func skip(r *bufio.Reader, h hash.Hash32, n int) error {
	for n > 0 {
		b, err := r.Peek(min(n, r.Size()))
		if len(b) == 0 && err != nil {
			return readErr(err)
		}
		if h != nil {
			h.Write(b)
		}
		r.Discard(len(b))
		n -= len(b)
	}
	return nil
}

// tcpAddr makes the *net.TCPAddr for a header address; IPv4-mapped IPv6
// addresses become plain IPv4, as they are the same client.
func tcpAddr(a netip.Addr, port uint16) *net.TCPAddr {
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(a.Unmap(), port))
}
