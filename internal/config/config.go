// Package config holds popd's settings: one struct with defaults, loaded
// from a TOML file, overridden by command-line flags, and validated.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"popd/internal/maildir"
	"popd/internal/proxyproto"
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

// Load reads a TOML file over c. Unknown keys are an error, so a typo does
// not silently leave a default in place.
func (c *Config) Load(path string) error {
	md, err := toml.DecodeFile(path, c)
	if err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config: %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	return nil
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	if !c.ServesPOP3() {
		if c.AuthHTTP == "" {
			return fmt.Errorf("config: listen %q: no POP3 listener is only for a popd that answers nginx (auth-http)", c.Listen)
		}
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("config: listen %q: %w", c.Listen, err)
	}
	if c.Maildir == "" {
		return errors.New("config: maildir is empty")
	}
	if c.Users == "" {
		return errors.New("config: users is empty")
	}
	if d := c.IdleTimeout.Duration; d < time.Second {
		return fmt.Errorf("config: idle-timeout %v is too short", d)
	}
	if c.LockStale.Duration < 10*time.Second {
		return fmt.Errorf("config: lock-stale %v is too short (at least 10s)", c.LockStale.Duration)
	}
	if c.ListenTLS != "" {
		if _, _, err := net.SplitHostPort(c.ListenTLS); err != nil {
			return fmt.Errorf("config: listen-tls %q: %w", c.ListenTLS, err)
		}
		if c.TLSCert == "" {
			return errors.New("config: listen-tls needs tls-cert and tls-key")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: tls-cert and tls-key go together")
	}
	if c.TLSTicketKeys != "" && c.TLSCert == "" {
		return errors.New("config: tls-ticket-keys needs tls-cert and tls-key")
	}
	switch c.PlaintextAuth {
	case "", "never", "always":
	default:
		return fmt.Errorf("config: plaintext-auth %q: want never or always", c.PlaintextAuth)
	}
	if c.PlaintextAuth == "never" && c.TLSCert == "" {
		return errors.New("config: plaintext-auth = never needs a certificate (tls-cert, tls-key), or no client could log in")
	}
	if c.HandshakeTimeout.Duration < 100*time.Millisecond {
		return fmt.Errorf("config: handshake-timeout %v is too short", c.HandshakeTimeout.Duration)
	}
	if c.Metrics != "" {
		if _, _, err := net.SplitHostPort(c.Metrics); err != nil {
			return fmt.Errorf("config: metrics %q: %w", c.Metrics, err)
		}
	}
	if c.AuthHTTP != "" {
		if _, _, err := net.SplitHostPort(c.AuthHTTP); err != nil {
			return fmt.Errorf("config: auth-http %q: %w", c.AuthHTTP, err)
		}
		if c.Fleet == "" {
			return errors.New("config: auth-http needs fleet (the nodes to send users to)")
		}
	} else if c.Fleet != "" || c.AuthHTTPKey != "" {
		return errors.New("config: fleet and auth-http-key are read only for auth-http; set auth-http too")
	}
	if c.MaxAuthFailures < 1 {
		return fmt.Errorf("config: max-auth-failures %d: at least 1", c.MaxAuthFailures)
	}
	if c.MaxConnections < 1 || c.MaxConnectionsPerIP < 1 {
		return errors.New("config: max-connections and max-connections-per-ip must be at least 1")
	}
	if c.LoginTimeout.Duration < time.Second {
		return fmt.Errorf("config: login-timeout %v is too short", c.LoginTimeout.Duration)
	}
	for _, l := range [...]struct{ key, list string }{{"proxy-from", c.ProxyFrom}, {"trusted-login-from", c.TrustedLoginFrom}} {
		if _, err := proxyproto.ParseCIDRs(l.list); err != nil {
			return fmt.Errorf("config: %s: %w", l.key, err)
		}
	}
	if err := maildir.CheckUIDLFormat(c.UIDLFormat); err != nil {
		return fmt.Errorf("config: pop3-uidl-format %q: %w", c.UIDLFormat, err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("config: log-format %q: want text or json", c.LogFormat)
	}
	return nil
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

// Args is the result of parsing popd's command line.
type Args struct {
	Config Config
	// Demo asks for the self-contained demo set-up.
	Demo bool
	// DemoDir is where the demo keeps its files.
	DemoDir string
	set     map[string]bool
}

// IsSet reports whether the flag name was given on the command line.
func (a *Args) IsSet(name string) bool { return a.set[name] }

// Parse reads popd's command line: the -config file (if any) is loaded over
// the defaults, then every flag given explicitly overrides it.
func Parse(args []string, out io.Writer) (*Args, error) {
	a := &Args{Config: Default(), set: map[string]bool{}}
	c := &a.Config
	d := Default()
	fs := flag.NewFlagSet("popd", flag.ContinueOnError)
	fs.SetOutput(out)
	configPath := fs.String("config", "", "TOML configuration `file` (flags override it)")
	fs.BoolVar(&a.Demo, "demo", false, "serve a demo maildrop (user demo, password demo) from -demo-dir")
	fs.StringVar(&a.DemoDir, "demo-dir", "popd-demo", "`directory` for the demo's users file, maildirs and control socket")
	fs.StringVar(&c.Listen, "listen", d.Listen, "`address` of the POP3 listener (none: no POP3, with -auth-http)")
	fs.StringVar(&c.Maildir, "maildir", d.Maildir, "maildrop `template`: %u user, %n local part, %d domain, ~ home")
	fs.StringVar(&c.Users, "users", d.Users, "passwd-file in Dovecot's format")
	fs.StringVar(&c.Control, "control", d.Control, "control socket `path` for popadm")
	fs.DurationVar(&c.IdleTimeout.Duration, "idle-timeout", d.IdleTimeout.Duration, "autologout timer")
	fs.DurationVar(&c.AuthFailureDelay.Duration, "auth-failure-delay", d.AuthFailureDelay.Duration, "time a failed login takes")
	fs.DurationVar(&c.LockStale.Duration, "lock-stale", d.LockStale.Duration, "age after which an unrefreshed maildrop lock is broken")
	fs.DurationVar(&c.LoginDelay.Duration, "login-delay", d.LoginDelay.Duration, "LOGIN-DELAY announced in CAPA (0: none)")
	fs.StringVar(&c.Expire, "expire", d.Expire, "EXPIRE announced in CAPA: NEVER or days (empty: none)")
	fs.StringVar(&c.ListenTLS, "listen-tls", d.ListenTLS, "`address` of the implicit-TLS (pop3s) listener")
	fs.StringVar(&c.TLSCert, "tls-cert", d.TLSCert, "certificate chain `file` (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", d.TLSKey, "private key `file` (PEM)")
	fs.StringVar(&c.TLSTicketKeys, "tls-ticket-keys", d.TLSTicketKeys, "`file` of TLS session ticket keys shared by a fleet (first encrypts, all decrypt)")
	fs.DurationVar(&c.HandshakeTimeout.Duration, "handshake-timeout", d.HandshakeTimeout.Duration, "time allowed for a TLS handshake")
	fs.StringVar(&c.PlaintextAuth, "plaintext-auth", d.PlaintextAuth, "never or always (default: never with a certificate)")
	fs.BoolVar(&c.APOP, "apop", d.APOP, "offer APOP and CRAM-MD5 to users with {PLAIN} secrets")
	fs.StringVar(&c.Hostname, "hostname", d.Hostname, "host `name` for APOP and CRAM-MD5 challenges")
	fs.IntVar(&c.MaxAuthFailures, "max-auth-failures", d.MaxAuthFailures, "failed logins in a row before disconnecting")
	fs.DurationVar(&c.AuthPenaltyMax.Duration, "auth-penalty-max", d.AuthPenaltyMax.Duration, "cap on a source's failed-login delay")
	fs.DurationVar(&c.LoginTimeout.Duration, "login-timeout", d.LoginTimeout.Duration, "time allowed to log in")
	fs.StringVar(&c.UIDLFormat, "pop3-uidl-format", d.UIDLFormat, "Dovecot's pop3_uidl_format for maildirs it served (empty: its default, %08Xu%08Xv)")
	fs.IntVar(&c.MaxConnections, "max-connections", d.MaxConnections, "connections in all")
	fs.IntVar(&c.MaxConnectionsPerIP, "max-connections-per-ip", d.MaxConnectionsPerIP, "connections from one address")
	fs.StringVar(&c.ProxyFrom, "proxy-from", d.ProxyFrom, "load balancers (`CIDRs`) that send a PROXY header")
	fs.StringVar(&c.TrustedLoginFrom, "trusted-login-from", d.TrustedLoginFrom, "mail proxies (`CIDRs`) trusted with plaintext logins even when plaintext-auth = never")
	fs.StringVar(&c.AdminGroup, "admin-group", d.AdminGroup, "`group` whose members may administer popd over the control socket")
	fs.StringVar(&c.MonitorGroup, "monitor-group", d.MonitorGroup, "`group` whose members may watch popd (read-only)")
	fs.StringVar(&c.Metrics, "metrics", d.Metrics, "`address` of a Prometheus metrics endpoint (empty: none)")
	fs.StringVar(&c.AuthHTTP, "auth-http", d.AuthHTTP, "`address` of the HTTP endpoint for nginx's mail proxy (auth_http); needs -fleet")
	fs.StringVar(&c.Fleet, "fleet", d.Fleet, "fleet `file` of the nodes -auth-http sends users to")
	fs.StringVar(&c.AuthHTTPKey, "auth-http-key", d.AuthHTTPKey, "`file` with the key nginx's auth_http requests must carry (X-Popd-Key)")
	fs.StringVar(&c.User, "user", d.User, "`user` to run as after binding (e.g. vmail)")
	fs.StringVar(&c.Group, "group", d.Group, "`group` to run as after binding")
	fs.BoolVar(&c.AllowRoot, "allow-root", d.AllowRoot, "serve mail as root (not recommended)")
	fs.StringVar(&c.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", d.LogFormat, "text or json")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("popd: unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(fl *flag.Flag) { a.set[fl.Name] = true })
	if *configPath != "" {
		// The file replaces the defaults; parsing the command line again
		// puts the flags given explicitly back on top.
		*c = Default()
		if err := c.Load(*configPath); err != nil {
			return nil, err
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
	}
	return a, nil
}
