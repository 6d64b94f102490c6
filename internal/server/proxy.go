package server

import (
	"fmt"
	"net"
	"net/netip"

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

func parseProxyFrom(list string) ([]netip.Prefix, error) {
	if list == "" {
		return nil, nil
	}
	p, err := proxyproto.ParseCIDRs(list)
	if err != nil {
		return nil, fmt.Errorf("config: proxy-from: %w", err)
	}
	return p, nil
}
