package server

import (
	"net"

	"popd/internal/config"
)

// wrapProxy puts the PROXY protocol in front of ln when cfg.ProxyFrom
// names trusted load balancers.
func (s *Server) wrapProxy(cfg config.Config, ln net.Listener) (net.Listener, error) {
	if cfg.ProxyFrom == "" {
		return ln, nil
	}
	return ln, nil // TODO(lead): proxyproto.Listener once the package lands
}
