// Package proxyproto is the receiving side of the HAProxy PROXY protocol,
// versions 1 (text) and 2 (binary), as specified in
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt. popd runs
// behind HAProxy or nginx's stream proxy, which prepend a PROXY header
// carrying the real client's address to every connection they open to popd.
//
// # Trust
//
// A [Listener] wraps a net.Listener. A connection whose peer address is in
// [Listener.TrustedFrom] (a load balancer) must begin with a PROXY header; the
// [*Conn] returned for it reports the client's address from the header as its
// RemoteAddr. A connection from any other address is returned exactly as the
// inner listener gave it: it is never read from by this package, so a PROXY
// header sent by such a peer is not honoured, it is just the client's first
// bytes (for POP3 an unknown command, answered with -ERR). Nobody outside
// TrustedFrom can thus make popd believe a forged address (spec §2: the
// receiver "MUST not try to guess whether the protocol header is present").
// Untrusted connections are deliberately not peeked at to detect and refuse
// a header: Accept would then wait on a client that sends nothing.
// Only IP peers can be trusted; an empty TrustedFrom trusts nobody and the
// Listener passes every connection through.
//
// # When the header is read
//
// Accept never reads. The header of a trusted connection is read by the
// first call to Read, Write or RemoteAddr of its [*Conn], in the goroutine
// making that call, within [Listener.HeaderTimeout]; the other calls wait
// for it. Nothing is written to the peer before a complete, valid header has
// arrived (spec §2: the receiver "MUST NOT start processing the connection"
// before that). A missing, late or bad header closes the connection: Read
// and Write return the error, RemoteAddr returns the proxy's own address,
// and the error is passed to [Listener.OnError]. A peer that closes without
// sending anything at all (a TCP health check) gets io.EOF and is not
// reported.
//
// A caller that logs RemoteAddr should do so in the connection's own
// goroutine, not in its accept loop, or a trusted peer that is slow to send
// its header would hold up Accept for up to HeaderTimeout.
//
// # Addresses
//
// For a PROXY header with TCP over IPv4 or IPv6 (v1 TCP4/TCP6, v2 family
// 0x11/0x21), RemoteAddr is a *net.TCPAddr with the client's address; an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is reported as plain IPv4. For v1
// UNKNOWN, v2 LOCAL (health checks), and the v2 families this package does not
// decode (AF_UNSPEC, AF_UNIX, datagram protocols; spec §2.2 lets a receiver
// treat them as UNSPEC), RemoteAddr is the proxy's own address.
//
// v2 TLVs are checked for structure and skipped, except PP2_TYPE_CRC32C,
// which is verified when present. Reading a header never allocates more than
// a few hundred bytes, whatever lengths the peer announces.
package proxyproto
