package proxyproto_test

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

var sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// v2 builds a v2 header: signature, ver/cmd, family/protocol, length, then
// the address block and TLVs.
func v2(verCmd, famProto byte, addrs []byte, tlvs ...[]byte) []byte {
	body := append([]byte(nil), addrs...)
	for _, t := range tlvs {
		body = append(body, t...)
	}
	h := append(append([]byte(nil), sig...), verCmd, famProto, 0, 0)
	binary.BigEndian.PutUint16(h[14:], uint16(len(body)))
	return append(h, body...)
}

func tlv(typ byte, val []byte) []byte {
	t := []byte{typ, 0, 0}
	binary.BigEndian.PutUint16(t[1:], uint16(len(val)))
	return append(t, val...)
}

// withCRC appends a PP2_TYPE_CRC32C TLV to a v2 header and fills it in
// (spec §2.2.3); corrupt flips the checksum.
func withCRC(h []byte, corrupt bool) []byte {
	h = append(append([]byte(nil), h...), 0x03, 0, 4, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(h[14:], uint16(len(h)-16))
	sum := crc32.Checksum(h, crc32.MakeTable(crc32.Castagnoli))
	if corrupt {
		sum ^= 1
	}
	binary.BigEndian.PutUint32(h[len(h)-4:], sum)
	return h
}

// inet4 is the address block of TCP over IPv4 (spec §2.2).
func inet4(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b := append(s[:], d[:]...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, sport), dport)
}

// inet6 is the address block of TCP over IPv6 (spec §2.2).
func inet6(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b := append(s[:], d[:]...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, sport), dport)
}
