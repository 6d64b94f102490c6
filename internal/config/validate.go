package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"popd/internal/maildir"
	"popd/internal/proxyproto"
)

// Problem is one setting that cannot work. Key is the TOML key (and flag
// name) to blame; Msg says why, without the key.
type Problem struct {
	Key string
	Msg string
}

func (p Problem) Error() string { return "config: " + p.Text() }

// Text is the problem without the "config: " prefix: "listen-tls needs
// tls-cert and tls-key".
func (p Problem) Text() string {
	if strings.HasPrefix(p.Msg, ":") {
		return p.Key + p.Msg
	}
	return p.Key + " " + p.Msg
}

// Validate reports every setting that cannot work, joined (nil: none).
// Args.Explain says where each came from.
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.Problems() {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// Problems lists the settings that cannot work, in the order of the keys.
func (c *Config) Problems() []Problem {
	var ps []Problem
	bad := func(key, format string, a ...any) { ps = append(ps, Problem{key, fmt.Sprintf(format, a...)}) }
	addr := func(key, v string) {
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad(key, "%q: %v", v, errors.Unwrap(err))
		}
	}
	if !c.ServesPOP3() {
		if c.AuthHTTP == "" {
			bad("listen", "%q: no POP3 listener is only for a popd that answers nginx (auth-http)", c.Listen)
		}
	} else {
		addr("listen", c.Listen)
	}
	if c.Maildir == "" {
		bad("maildir", "is empty")
	}
	if c.Users == "" {
		bad("users", "is empty")
	}
	if d := c.IdleTimeout.Duration; d < time.Second {
		bad("idle-timeout", "%v is too short", d)
	}
	if d := c.LockStale.Duration; d < 10*time.Second {
		bad("lock-stale", "%v is too short (at least 10s)", d)
	}
	if c.ListenTLS != "" {
		addr("listen-tls", c.ListenTLS)
		if c.TLSCert == "" {
			bad("listen-tls", "needs tls-cert and tls-key")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		key := "tls-cert"
		if c.TLSCert != "" {
			key = "tls-key"
		}
		bad(key, "is missing: tls-cert and tls-key go together")
	}
	if c.TLSTicketKeys != "" && c.TLSCert == "" {
		bad("tls-ticket-keys", "needs tls-cert and tls-key")
	}
	switch c.PlaintextAuth {
	case "", "always":
	case "never":
		if c.TLSCert == "" {
			bad("plaintext-auth", "= never needs a certificate (tls-cert, tls-key), or no client could log in")
		}
	default:
		bad("plaintext-auth", "%q: want never or always", c.PlaintextAuth)
	}
	if d := c.HandshakeTimeout.Duration; d < 100*time.Millisecond {
		bad("handshake-timeout", "%v is too short", d)
	}
	if c.Metrics != "" {
		addr("metrics", c.Metrics)
	}
	if c.AuthHTTP != "" {
		addr("auth-http", c.AuthHTTP)
		if c.Fleet == "" {
			bad("auth-http", "needs fleet (the nodes to send users to)")
		}
	} else {
		for _, kv := range [...][2]string{{"fleet", c.Fleet}, {"auth-http-key", c.AuthHTTPKey}} {
			if kv[1] != "" {
				bad(kv[0], "is read only for auth-http; set auth-http too")
			}
		}
	}
	if c.MaxAuthFailures < 1 {
		bad("max-auth-failures", "%d: at least 1", c.MaxAuthFailures)
	}
	if c.MaxConnections < 1 {
		bad("max-connections", "%d: at least 1", c.MaxConnections)
	}
	if c.MaxConnectionsPerIP < 1 {
		bad("max-connections-per-ip", "%d: at least 1", c.MaxConnectionsPerIP)
	}
	if d := c.LoginTimeout.Duration; d < time.Second {
		bad("login-timeout", "%v is too short", d)
	}
	for _, l := range [...]struct{ key, list string }{{"proxy-from", c.ProxyFrom}, {"trusted-login-from", c.TrustedLoginFrom}} {
		if _, err := proxyproto.ParseCIDRs(l.list); err != nil {
			bad(l.key, ": %v", err)
		}
	}
	if err := maildir.CheckUIDLFormat(c.UIDLFormat); err != nil {
		bad("pop3-uidl-format", "%q: %v", c.UIDLFormat, err)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		bad("log-level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if !slices.Contains([]string{"text", "json"}, c.LogFormat) {
		bad("log-format", "%q: want text or json", c.LogFormat)
	}
	if c.StateDir != "" && !filepath.IsAbs(c.StateDir) {
		bad("state-dir", "%q: use an absolute path (popd's working directory is not its state's)", c.StateDir)
	}
	return ps
}
