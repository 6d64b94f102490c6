// Package config holds popd's settings: one struct with defaults, loaded
// from a TOML file, overridden by command-line flags, and validated.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is every setting of the daemon. The TOML key of each field is given
// in its tag; the flag of the same name overrides it.
type Config struct {
	// Listen is the address of the plain POP3 listener.
	Listen string `toml:"listen"`
	// Maildir locates a user's maildrop: %u is the user name, %n its local
	// part (before @), %d its domain, %% a percent sign, and a leading ~ the
	// user's home directory from the users file.
	Maildir string `toml:"maildir"`
	// Users is the passwd-file in Dovecot's format.
	Users string `toml:"users"`
	// Control is the path of the control socket for popadm.
	Control string `toml:"control"`
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
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log-level"`
	// LogFormat is text or json.
	LogFormat string `toml:"log-format"`
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
	return Config{
		Listen:           "127.0.0.1:1110",
		Maildir:          "~/Maildir",
		Users:            "/etc/popd/users",
		IdleTimeout:      Duration{10 * time.Minute},
		AuthFailureDelay: Duration{2 * time.Second},
		LockStale:        Duration{5 * time.Minute},
		LogLevel:         "info",
		LogFormat:        "text",
	}
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
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
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
	fs.StringVar(&c.Listen, "listen", d.Listen, "`address` of the POP3 listener")
	fs.StringVar(&c.Maildir, "maildir", d.Maildir, "maildrop `template`: %u user, %n local part, %d domain, ~ home")
	fs.StringVar(&c.Users, "users", d.Users, "passwd-file in Dovecot's format")
	fs.StringVar(&c.Control, "control", d.Control, "control socket `path` for popadm")
	fs.DurationVar(&c.IdleTimeout.Duration, "idle-timeout", d.IdleTimeout.Duration, "autologout timer")
	fs.DurationVar(&c.AuthFailureDelay.Duration, "auth-failure-delay", d.AuthFailureDelay.Duration, "time a failed login takes")
	fs.DurationVar(&c.LockStale.Duration, "lock-stale", d.LockStale.Duration, "age after which an unrefreshed maildrop lock is broken")
	fs.DurationVar(&c.LoginDelay.Duration, "login-delay", d.LoginDelay.Duration, "LOGIN-DELAY announced in CAPA (0: none)")
	fs.StringVar(&c.Expire, "expire", d.Expire, "EXPIRE announced in CAPA: NEVER or days (empty: none)")
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
