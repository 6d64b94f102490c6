package server

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"popd/internal/proxyproto"
)

// wrapProxy puts the PROXY protocol (v1 and v2) in front of ln when
// cfg.ProxyFrom names trusted load balancers: their connections must start
// with a header carrying the client's address, which then counts for logs,
// limits and penalties. Other sources are served as they are; a PROXY
// header from them is just an unknown command, never believed.
func (s *Server) wrapProxy(ln net.Listener) net.Listener {
	if len(s.proxyFrom) == 0 {
		return ln
	}
	return &proxyproto.Listener{
		Listener:    ln,
		TrustedFrom: s.proxyFrom,
		OnError: func(remote net.Addr, err error) {
			s.log.Warn("PROXY header refused", "proxy", addrString(remote), "err", err)
		},
	}
}

// parseNets parses the address list of setting key (proxy-from,
// trusted-login-from).
func parseNets(key, list string) ([]netip.Prefix, error) {
	p, err := proxyproto.ParseCIDRs(list)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", key, err)
	}
	return p, nil
}

// peerOf is the address that conn came from: the load balancer's for a
// connection that carried a PROXY header, whose RemoteAddr is the client's.
func peerOf(conn net.Conn) net.Addr {
	if pc, ok := conn.(*proxyproto.Conn); ok {
		return pc.ProxyAddr()
	}
	return conn.RemoteAddr()
}

// trustedPlaintext reports whether peer, the address that connected (never
// a client address from a PROXY header, which the peer could make up), is
// in trusted-login-from: a mail proxy that may log in with a password in
// clear for clients it served over TLS. A layer-4 proxy sending PROXY
// headers must not be listed, since it relays clients' own cleartext.
func (s *Server) trustedPlaintext(peer net.Addr) bool {
	if len(s.trustedLogin) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(addrString(peer))
	if err != nil {
		return false
	}
	ip := ap.Addr().WithZone("").Unmap()
	for _, p := range s.trustedLogin {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// netsString writes a parsed address list back, for the logs.
func netsString(nets []netip.Prefix) string {
	s := make([]string, len(nets))
	for i, p := range nets {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
