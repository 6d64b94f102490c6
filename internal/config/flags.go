package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// Args is the result of parsing popd's command line.
type Args struct {
	Config Config
	// Demo asks for the self-contained demo set-up.
	Demo bool
	// DemoDir is where the demo keeps its files.
	DemoDir string
	// Check asks to validate the configuration and print it, not to
	// serve; All prints every setting, not only those that differ from
	// the defaults.
	Check, All bool
	// Version asks for the version line.
	Version bool
	// File is the -config file, if any.
	File string
	set  map[string]bool
	line map[string]int // TOML key → line in File
}

// IsSet reports whether the flag name was given on the command line.
func (a *Args) IsSet(name string) bool { return a.set[name] }

// Explain says where the setting behind p came from, for an error line:
// "-listen-tls needs …" for a flag, "/etc/popd/popd.conf:4: listen-tls
// needs …" for a key of the file, "listen-tls (default) needs …"
// otherwise.
func (a *Args) Explain(p Problem) string {
	switch {
	case a.set[p.Key]:
		return "-" + p.Text()
	case a.line[p.Key] > 0:
		return fmt.Sprintf("%s:%d: %s", a.File, a.line[p.Key], p.Text())
	}
	return Problem{Key: p.Key + " (default)", Msg: p.Msg}.Text()
}

// Groups orders popd's flags by topic, for --help and for the effective
// configuration that -check prints. Every flag is in exactly one.
var Groups = []struct {
	Name  string
	Flags []string
}{
	{"Running", []string{"config", "check", "all", "version", "demo", "demo-dir"}},
	{"Listening", []string{"listen", "listen-tls", "proxy-from", "trusted-login-from", "auth-http", "fleet", "auth-http-key"}},
	{"TLS", []string{"tls-cert", "tls-key", "tls-ticket-keys", "handshake-timeout"}},
	{"Logins", []string{"users", "plaintext-auth", "apop", "hostname", "auth-failure-delay", "auth-penalty-max", "max-auth-failures", "login-delay", "expire"}},
	{"Limits", []string{"max-connections", "max-connections-per-ip", "login-timeout", "idle-timeout"}},
	{"Maildirs", []string{"maildir", "pop3-uidl-format", "lock-stale", "state-dir"}},
	{"Control", []string{"control", "admin-group", "monitor-group", "metrics"}},
	{"Privileges", []string{"user", "group", "allow-root"}},
	{"Logging", []string{"log-level", "log-format"}},
}

// Parse reads popd's command line: the -config file (if any) is loaded over
// the defaults, then every flag given explicitly overrides it. Flags are
// written -name or --name, with their value after '=' or a space.
func Parse(args []string, out io.Writer) (*Args, error) {
	a := &Args{Config: Default(), set: map[string]bool{}}
	fs := newFlagSet(a, out)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("popd: unexpected argument %q (flags go before it; see -help)", fs.Arg(0))
	}
	fs.Visit(func(fl *flag.Flag) { a.set[fl.Name] = true })
	if a.File != "" {
		// The file replaces the defaults; parsing the command line again
		// puts the flags given explicitly back on top.
		a.Config = Default()
		if err := a.Config.Load(a.File); err != nil {
			return nil, err
		}
		a.line = keyLines(a.File)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func newFlagSet(a *Args, out io.Writer) *flag.FlagSet {
	c := &a.Config
	d := Default()
	fs := flag.NewFlagSet("popd", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { usage(fs) }
	fs.StringVar(&a.File, "config", "", "TOML configuration `file` (flags override it)")
	fs.BoolVar(&a.Check, "check", false, "check the configuration and its files, print the settings that differ from the defaults, exit 0 or 1")
	fs.BoolVar(&a.All, "all", false, "with -check: print every setting")
	fs.BoolVar(&a.Version, "version", false, "print the version and exit")
	fs.BoolVar(&a.Demo, "demo", false, "serve a demo maildrop (user demo, password demo) from -demo-dir")
	fs.StringVar(&a.DemoDir, "demo-dir", "popd-demo", "`directory` for the demo's users file, maildirs and control socket")
	fs.StringVar(&c.Listen, "listen", d.Listen, "`address` of the POP3 listener (none: no POP3, with -auth-http)")
	fs.StringVar(&c.Maildir, "maildir", d.Maildir, "maildrop `template`: %u user, %n local part, %d domain, ~ home")
	fs.StringVar(&c.Users, "users", d.Users, "passwd-`file` in Dovecot's format")
	fs.StringVar(&c.Control, "control", d.Control, "control socket `path` for popadm (default $POPD_CONTROL, else /run/popd/control.sock)")
	fs.DurationVar(&c.IdleTimeout.Duration, "idle-timeout", d.IdleTimeout.Duration, "autologout timer")
	fs.DurationVar(&c.AuthFailureDelay.Duration, "auth-failure-delay", d.AuthFailureDelay.Duration, "time a failed login takes")
	fs.DurationVar(&c.LockStale.Duration, "lock-stale", d.LockStale.Duration, "age after which an unrefreshed maildrop lock is broken")
	fs.DurationVar(&c.LoginDelay.Duration, "login-delay", d.LoginDelay.Duration, "LOGIN-DELAY announced in CAPA (0: none)")
	fs.StringVar(&c.Expire, "expire", d.Expire, "EXPIRE announced in CAPA: NEVER or `days` (empty: none)")
	fs.StringVar(&c.ListenTLS, "listen-tls", d.ListenTLS, "`address` of the implicit-TLS (pop3s) listener")
	fs.StringVar(&c.TLSCert, "tls-cert", d.TLSCert, "certificate chain `file` (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", d.TLSKey, "private key `file` (PEM)")
	fs.StringVar(&c.TLSTicketKeys, "tls-ticket-keys", d.TLSTicketKeys, "`file` of TLS session ticket keys shared by a fleet (first encrypts, all decrypt)")
	fs.DurationVar(&c.HandshakeTimeout.Duration, "handshake-timeout", d.HandshakeTimeout.Duration, "time allowed for a TLS handshake")
	fs.StringVar(&c.PlaintextAuth, "plaintext-auth", d.PlaintextAuth, "never or always (default never with a certificate, else always)")
	fs.BoolVar(&c.APOP, "apop", d.APOP, "offer APOP and CRAM-MD5 to users with {PLAIN} secrets")
	fs.StringVar(&c.Hostname, "hostname", d.Hostname, "host `name` for APOP and CRAM-MD5 challenges (default the system's)")
	fs.IntVar(&c.MaxAuthFailures, "max-auth-failures", d.MaxAuthFailures, "failed logins in a row before disconnecting")
	fs.DurationVar(&c.AuthPenaltyMax.Duration, "auth-penalty-max", d.AuthPenaltyMax.Duration, "cap on a source's failed-login delay")
	fs.DurationVar(&c.LoginTimeout.Duration, "login-timeout", d.LoginTimeout.Duration, "time allowed to log in")
	fs.StringVar(&c.UIDLFormat, "pop3-uidl-format", d.UIDLFormat, "Dovecot's pop3_uidl_format for maildirs it served (default its own, %08Xu%08Xv)")
	fs.IntVar(&c.MaxConnections, "max-connections", d.MaxConnections, "connections in all")
	fs.IntVar(&c.MaxConnectionsPerIP, "max-connections-per-ip", d.MaxConnectionsPerIP, "connections from one address (IPv6: one /48)")
	fs.StringVar(&c.ProxyFrom, "proxy-from", d.ProxyFrom, "load balancers (`CIDRs`) that send a PROXY header")
	fs.StringVar(&c.TrustedLoginFrom, "trusted-login-from", d.TrustedLoginFrom, "mail proxies (`CIDRs`) trusted with plaintext logins even when plaintext-auth = never")
	fs.StringVar(&c.AdminGroup, "admin-group", d.AdminGroup, "`group` whose members may administer popd over the control socket")
	fs.StringVar(&c.MonitorGroup, "monitor-group", d.MonitorGroup, "`group` whose members may watch popd (read-only)")
	fs.StringVar(&c.Metrics, "metrics", d.Metrics, "`address` of a Prometheus metrics endpoint")
	fs.StringVar(&c.AuthHTTP, "auth-http", d.AuthHTTP, "`address` of the HTTP endpoint for nginx's mail proxy (auth_http); needs -fleet")
	fs.StringVar(&c.Fleet, "fleet", d.Fleet, "fleet `file` of the nodes -auth-http sends users to")
	fs.StringVar(&c.AuthHTTPKey, "auth-http-key", d.AuthHTTPKey, "`file` with the key nginx's auth_http requests must carry (X-Popd-Key)")
	fs.StringVar(&c.User, "user", d.User, "`user` to run as after binding (e.g. vmail)")
	fs.StringVar(&c.Group, "group", d.Group, "`group` to run as after binding (default the user's)")
	fs.BoolVar(&c.AllowRoot, "allow-root", d.AllowRoot, "serve mail as root (not recommended)")
	fs.StringVar(&c.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", d.LogFormat, "text or json")
	fs.StringVar(&c.StateDir, "state-dir", d.StateDir, "`directory` where popd keeps the users' last logins across restarts (empty: none)")
	return fs
}

// usage prints the flags by group, each with its default.
func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: popd [flags]   (-flag and --flag are the same; -config FILE reads the same keys from a TOML file)\n")
	for _, g := range Groups {
		fmt.Fprintf(w, "\n%s:\n", g.Name)
		for _, name := range g.Flags {
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			arg, text := flag.UnquoteUsage(f)
			head := "  -" + name
			if arg != "" {
				head += " " + arg
			}
			if !strings.Contains(text, "(default ") && (g.Name != "Running" || f.DefValue != "false") {
				text += " (default " + shownDefault(f) + ")"
			}
			if len(head) > 30 {
				fmt.Fprintf(w, "%s\n  %28s  %s\n", head, "", text)
			} else {
				fmt.Fprintf(w, "%-30s  %s\n", head, text)
			}
		}
	}
}

func shownDefault(f *flag.Flag) string {
	switch f.DefValue {
	case "":
		return "none"
	case "false":
		return "off"
	case "true":
		return "on"
	case "0s":
		return "0: none"
	}
	return f.DefValue
}

var keyLine = regexp.MustCompile(`^\s*([A-Za-z0-9_-]+)\s*=`)

// keyLines maps each top-level key of a TOML file to its line (the first,
// 1-based). A file that cannot be read gives none.
func keyLines(path string) map[string]int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	m := map[string]int{}
	for i, l := range strings.Split(string(b), "\n") {
		if k := keyLine.FindStringSubmatch(l); k != nil && m[k[1]] == 0 {
			m[k[1]] = i + 1
		}
	}
	return m
}

// Load reads a TOML file over c. Unknown keys are an error, so a typo does
// not silently leave a default in place; errors give the file and line.
func (c *Config) Load(path string) error {
	md, err := toml.DecodeFile(path, c)
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg = pe.LastKey + ": " + msg
		}
		return fmt.Errorf("%s:%d: %s", path, pe.Position.Line, msg)
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		lines := keyLines(path)
		var errs []error
		for _, k := range und {
			errs = append(errs, fmt.Errorf("%s:%d: unknown key %q%s", path, lines[k.String()], k.String(), suggest(k.String())))
		}
		return errors.Join(errs...)
	}
	return nil
}

// suggest names the key a misspelt one probably meant.
func suggest(key string) string {
	best, bestD := "", 3
	for _, k := range Keys() {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
