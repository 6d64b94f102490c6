// Package config holds popd's settings: one struct with defaults, loaded
// from a TOML file, overridden by command-line flags, and validated.
package config

import (
	"reflect"
	"time"
)

// Config is every setting of the daemon, in two parts by when a change
// takes effect: Static at start only (sockets, files, identities, logging),
// Live also on a reload (SIGHUP, popadm reload) for new sessions and
// logins. The TOML key of each field is given in its tag (the parts are
// flattened: the file has no sections); the flag of the same name
// overrides it.
type Config struct {
	Static
	Live
}

// Static settings take effect when popd starts; a reload that changes one
// says that a restart is needed.
type Static struct {
	// Listen is the address of the plain POP3 listener.
	Listen string `toml:"listen"`
	// Users is the passwd-file in Dovecot's format.
	Users string `toml:"users"`
	// Control is the path of the control socket for popadm; empty means
	// $POPD_CONTROL, else /run/popd/control.sock (control.ServerPath).
	Control string `toml:"control"`
	// ListenTLS is the address of the implicit-TLS listener (RFC 8314,
	// the pop3s port); empty for none. Needs TLSCert and TLSKey.
	ListenTLS string `toml:"listen-tls"`
	// TLSCert and TLSKey are PEM files, reloaded on SIGHUP and when they
	// change. With them, the plain listener offers STLS.
	TLSCert string `toml:"tls-cert"`
	TLSKey  string `toml:"tls-key"`
	// TLSTicketKeys is a file of TLS session ticket keys, one 32-byte key
	// a line (64 hex digits or base64; # comments): the first encrypts new
	// tickets, all decrypt. Nodes that share it resume each other's
	// sessions. Mode 0600 or stricter; reloaded on SIGHUP and when it
	// changes. Empty: Go's automatic per-process keys.
	TLSTicketKeys string `toml:"tls-ticket-keys"`
	// ProxyFrom lists the load balancers (CIDRs or addresses, comma
	// separated) that must send a PROXY protocol v1/v2 header.
	ProxyFrom string `toml:"proxy-from"`
	// TrustedLoginFrom lists the peers (CIDRs or addresses, comma
	// separated) whose connections may carry passwords in clear whatever
	// plaintext-auth says: mail proxies such as nginx that log in for
	// clients they served over TLS (Dovecot's login_trusted_networks). The
	// peer that connects counts, never the client a PROXY header names;
	// do not list layer-4 proxies, which relay clients' cleartext. Static
	// like ProxyFrom: both describe the proxies in front.
	TrustedLoginFrom string `toml:"trusted-login-from"`
	// AdminGroup's members may use every control-socket method; root and
	// popd's own user always may.
	AdminGroup string `toml:"admin-group"`
	// MonitorGroup's members may use the read-only ones (who, events…).
	MonitorGroup string `toml:"monitor-group"`
	// Metrics is the address of a Prometheus text endpoint; empty for none.
	Metrics string `toml:"metrics"`
	// AuthHTTP is the address of the HTTP endpoint that answers nginx's
	// mail proxy (auth_http): it checks each login and names the user's
	// home node among the nodes of Fleet that are up. Empty for none.
	// With it, Listen may be "none" (or empty): a popd that only answers
	// nginx.
	AuthHTTP string `toml:"auth-http"`
	// Fleet is the fleet file (see package fleet) whose nodes AuthHTTP
	// sends users to; read at start.
	Fleet string `toml:"fleet"`
	// AuthHTTPKey is a file whose first line is a key that nginx's
	// requests to AuthHTTP must carry (auth_http_header X-Popd-Key);
	// mode 0600. Empty: none (keep AuthHTTP on loopback).
	AuthHTTPKey string `toml:"auth-http-key"`
	// User and Group to switch to after binding the listeners.
	User  string `toml:"user"`
	Group string `toml:"group"`
	// AllowRoot lets popd serve mail as root (not recommended).
	AllowRoot bool `toml:"allow-root"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log-level"`
	// LogFormat is text or json.
	LogFormat string `toml:"log-format"`
	// StateDir is where popd keeps what should outlive a restart: the
	// users' last logins (written in the background every 30 s and at
	// shutdown, so a crash loses the last seconds). Empty: nothing is kept.
	StateDir string `toml:"state-dir"`
}

// Live settings are applied by a reload to new sessions and logins.
type Live struct {
	// Maildir locates a user's maildrop: %u is the user name, %n its local
	// part (before @), %d its domain, %% a percent sign, and a leading ~ the
	// user's home directory from the users file.
	Maildir string `toml:"maildir"`
	// IdleTimeout is the autologout timer (RFC 1939 §3 asks for at least
	// 10 minutes).
	IdleTimeout Duration `toml:"idle-timeout"`
	// AuthFailureDelay is how long a failed login takes, whether the user
	// exists or not.
	AuthFailureDelay Duration `toml:"auth-failure-delay"`
	// LockStale is how long a maildrop lock may go unrefreshed before it is
	// considered abandoned by a crashed holder and broken.
	LockStale Duration `toml:"lock-stale"`
	// LoginDelay, when set, is announced in CAPA (RFC 2449 §6.5).
	LoginDelay Duration `toml:"login-delay"`
	// Expire, when set, is announced in CAPA: "NEVER" or a number of days.
	Expire string `toml:"expire"`
	// HandshakeTimeout bounds a TLS handshake, implicit or after STLS.
	HandshakeTimeout Duration `toml:"handshake-timeout"`
	// PlaintextAuth is "never" (passwords only over TLS: USER/PASS and
	// PLAIN/LOGIN refused until STLS) or "always". Empty means never when
	// a certificate is configured, always otherwise.
	PlaintextAuth string `toml:"plaintext-auth"`
	// APOP offers APOP and CRAM-MD5 to users whose stored secret allows it
	// ({PLAIN} or {CLEAR}: a plaintext-equivalent secret).
	APOP bool `toml:"apop"`
	// Hostname is used in the APOP and CRAM-MD5 challenges; empty means
	// the system's host name.
	Hostname string `toml:"hostname"`
	// MaxAuthFailures closes a connection after this many failed logins
	// in a row.
	MaxAuthFailures int `toml:"max-auth-failures"`
	// AuthPenaltyMax caps the delay a source's repeated login failures
	// earn (it doubles from AuthFailureDelay with each failure).
	AuthPenaltyMax Duration `toml:"auth-penalty-max"`
	// LoginTimeout disconnects clients that have not logged in by then.
	LoginTimeout Duration `toml:"login-timeout"`
	// MaxConnections bounds connections in all; MaxConnectionsPerIP those
	// from one source (an IPv4 address, or an IPv6 /48).
	MaxConnections      int `toml:"max-connections"`
	MaxConnectionsPerIP int `toml:"max-connections-per-ip"`
	// UIDLFormat is Dovecot's pop3_uidl_format, for maildrops migrated
	// from Dovecot: messages listed in a dovecot-uidlist keep the UIDL
	// Dovecot's POP3 gave them. Empty means Dovecot 2.3's default,
	// "%08Xu%08Xv"; 2.4's "%{uid | hex(8)}%{uidvalidity | hex(8)}" form is
	// understood too.
	UIDLFormat string `toml:"pop3-uidl-format"`
}

// Changed names (by TOML key) the settings that differ between s and
// other: what a reload found changed but cannot apply without a restart.
func (s Static) Changed(other Static) []string {
	a, b := reflect.ValueOf(s), reflect.ValueOf(other)
	var out []string
	for i := range a.NumField() {
		if a.Field(i).Interface() != b.Field(i).Interface() {
			out = append(out, a.Type().Field(i).Tag.Get("toml"))
		}
	}
	return out
}

// Keys lists the TOML keys, in the order of the struct's fields.
func Keys() []string {
	var out []string
	for _, t := range []reflect.Type{reflect.TypeFor[Static](), reflect.TypeFor[Live]()} {
		for i := range t.NumField() {
			out = append(out, t.Field(i).Tag.Get("toml"))
		}
	}
	return out
}

// Duration is a time.Duration written as "10m" or "1m30s" in the file.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler for TOML strings.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// Default returns the settings used when nothing else is given.
func Default() Config {
	return Config{Static: Static{
		Listen:    "127.0.0.1:1110",
		Users:     "/etc/popd/users",
		LogLevel:  "info",
		LogFormat: "text",
		StateDir:  "/var/lib/popd",
	}, Live: Live{
		Maildir:             "~/Maildir",
		IdleTimeout:         Duration{10 * time.Minute},
		AuthFailureDelay:    Duration{2 * time.Second},
		LockStale:           Duration{5 * time.Minute},
		MaxAuthFailures:     3,
		HandshakeTimeout:    Duration{30 * time.Second},
		AuthPenaltyMax:      Duration{30 * time.Second},
		LoginTimeout:        Duration{60 * time.Second},
		MaxConnections:      1000,
		MaxConnectionsPerIP: 20,
	}}
}

// ServesPOP3 reports whether popd has a plain POP3 listener: Listen is
// neither "none" nor empty.
func (s Static) ServesPOP3() bool { return s.Listen != "" && s.Listen != "none" }

// RequireTLS reports whether passwords may only cross encrypted
// connections.
func (c *Config) RequireTLS() bool { return c.Live.RequireTLS(c.TLSCert != "") }

// RequireTLS reports whether passwords may only cross encrypted
// connections when a certificate is (haveCert) or is not configured.
func (l Live) RequireTLS(haveCert bool) bool {
	return l.PlaintextAuth == "never" || (l.PlaintextAuth == "" && haveCert)
}
