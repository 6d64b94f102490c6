package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/fleet"
	"popd/internal/maildir"
	"popd/internal/server"
	"popd/internal/userdb"
)

// Check looks at everything cfg names the way Run would use it, without
// serving (popd -check): the settings (config.Problems), the users file,
// the certificate and key, the ticket and auth_http key files, the fleet
// file, the maildir template, the user and group to run as, the control
// socket's directory, and each listening address — free, or held by a
// running popd, which is not a problem: the check is run next to a live
// server. Problems are what would stop popd or make it misbehave; notes
// are the facts an admin wants to see (users loaded, certificate expiry,
// port holders).
func Check(cfg config.Config) (problems, notes []config.Problem) {
	problems = cfg.Problems()
	bad := func(key, format string, a ...any) {
		problems = append(problems, config.Problem{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	note := func(key, format string, a ...any) {
		notes = append(notes, config.Problem{Key: key, Msg: fmt.Sprintf(format, a...)})
	}

	// The users file: Open logs the lines it skips; here they are problems.
	var skipped lineCollector
	if users, err := userdb.Open(cfg.Users, slog.New(&skipped)); err != nil {
		bad("users", "%q: %v", cfg.Users, unwrapPath(err))
	} else {
		note("users", "%q: %d users", cfg.Users, len(users.Users()))
		for _, l := range skipped.lines {
			bad("users", "%q: %s", cfg.Users, l)
		}
	}

	if cfg.TLSCert != "" && cfg.TLSKey != "" {
		if pair, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			bad("tls-cert", "%q and tls-key %q: %v", cfg.TLSCert, cfg.TLSKey, unwrapPath(err))
		} else if leaf, err := x509.ParseCertificate(pair.Certificate[0]); err == nil {
			left := time.Until(leaf.NotAfter)
			switch {
			case left < 0:
				bad("tls-cert", "%q expired on %s", cfg.TLSCert, leaf.NotAfter.Format(time.DateOnly))
			default:
				note("tls-cert", "%q: %s, valid until %s (%d days)", cfg.TLSCert, certNames(leaf), leaf.NotAfter.Format(time.DateOnly), int(left.Hours()/24))
			}
		}
	}
	if cfg.TLSTicketKeys != "" {
		if n, err := server.CheckTicketKeys(cfg.TLSTicketKeys); err != nil {
			bad("tls-ticket-keys", "%v", err)
		} else {
			note("tls-ticket-keys", "%q: %d keys", cfg.TLSTicketKeys, n)
		}
	}
	if cfg.AuthHTTP != "" {
		if f, err := fleet.Load(cfg.Fleet); err != nil {
			bad("fleet", "%v", err)
		} else {
			note("fleet", "%q: %d nodes", cfg.Fleet, len(f.Nodes))
		}
		if cfg.AuthHTTPKey != "" {
			if _, err := server.ReadAuthHTTPKey(cfg.AuthHTTPKey); err != nil {
				bad("auth-http-key", "%v", err)
			}
		}
	}

	if cfg.LogLevel == "warn" || cfg.LogLevel == "error" {
		note("log-level", "%q: failed logins (msg=\"auth failed\", what fail2ban reads) are logged at info: not written", cfg.LogLevel)
	}
	checkMaildir(cfg, bad, note)
	checkIdentity(cfg, bad)
	checkControlDir(cfg, bad)
	checkStateDir(cfg, bad, note)

	for _, l := range [...]struct{ key, addr string }{
		{"listen", cfg.Listen}, {"listen-tls", cfg.ListenTLS}, {"metrics", cfg.Metrics}, {"auth-http", cfg.AuthHTTP},
	} {
		if l.addr == "" || l.addr == "none" {
			continue
		}
		if _, _, err := net.SplitHostPort(l.addr); err != nil {
			continue // config.Problems said so
		}
		checkPort(l.key, l.addr, bad, note)
	}
	return problems, notes
}

// checkMaildir checks that the template gives each user a maildrop of
// their own, and says where the first user's is.
func checkMaildir(cfg config.Config, bad, note func(key, format string, a ...any)) {
	a, errA := maildir.Locate(cfg.Maildir, "alice@example.org", "/home/alice", "")
	b, errB := maildir.Locate(cfg.Maildir, "bob@example.net", "/home/bob", "")
	switch {
	case errA != nil:
		bad("maildir", "%q: %v", cfg.Maildir, errA)
	case errB == nil && a.Path == b.Path:
		bad("maildir", "%q: every user would share the maildrop %s; use %%u, %%n and %%d, or ~", cfg.Maildir, a.Path)
	case !filepath.IsAbs(a.Path):
		bad("maildir", "%q: %s is a relative path; use an absolute one (popd's working directory is not the mail root)", cfg.Maildir, a.Path)
	default:
		// The fixed part of the template, before the first per-user part,
		// should exist: a typo there leaves every maildrop empty.
		root := fixedPrefix(cfg.Maildir)
		if root == "" {
			return
		}
		if fi, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
			note("maildir", "%q: %s does not exist (yet): every maildrop is empty until mail is delivered there", cfg.Maildir, root)
		} else if err != nil {
			bad("maildir", "%q: %v", cfg.Maildir, unwrapPath(err))
		} else if !fi.IsDir() {
			bad("maildir", "%q: %s is not a directory", cfg.Maildir, root)
		} else {
			note("maildir", "%q: alice@example.org's maildrop would be %s", cfg.Maildir, a.Path)
		}
	}
}

// fixedPrefix is the directory a template's paths all start with: up to
// the last '/' before the first '%' ("" for ~ templates and Dovecot
// locations, whose roots vary).
func fixedPrefix(t string) string {
	if !strings.HasPrefix(t, "/") {
		return ""
	}
	if i := strings.IndexByte(t, '%'); i >= 0 {
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '/'); i > 0 {
		return t[:i]
	}
	return ""
}

// checkIdentity checks the user and group popd switches to.
func checkIdentity(cfg config.Config, bad func(key, format string, a ...any)) {
	if cfg.User != "" {
		u, err := user.Lookup(cfg.User)
		switch {
		case err != nil:
			bad("user", "%q: no such user", cfg.User)
		case u.Uid == "0" && !cfg.AllowRoot:
			bad("user", "%q is root; popd refuses to serve mail as root without allow-root", cfg.User)
		}
	} else if os.Geteuid() == 0 && !cfg.AllowRoot {
		bad("user", "is not set and popd runs as root: it would refuse to serve mail as root; set user (e.g. vmail)")
	}
	if cfg.Group != "" {
		if _, err := user.LookupGroup(cfg.Group); err != nil {
			bad("group", "%q: no such group", cfg.Group)
		}
	}
	for _, g := range [...]struct{ key, name string }{{"admin-group", cfg.AdminGroup}, {"monitor-group", cfg.MonitorGroup}} {
		if g.name != "" {
			if _, err := user.LookupGroup(g.name); err != nil {
				bad(g.key, "%q: no such group", g.name)
			}
		}
	}
}

// checkControlDir checks that popd can create its control socket: the
// directory exists and is writable, or can be created (systemd's
// RuntimeDirectory makes /run/popd at start).
func checkControlDir(cfg config.Config, bad func(key, format string, a ...any)) {
	path := cfg.Control
	if path == "" {
		path = control.ServerPath()
	}
	dir := filepath.Dir(path)
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			if err := unix.Access(d, unix.W_OK|unix.X_OK); err != nil && (d == dir || os.Geteuid() != 0) {
				if d == dir && dir == filepath.Dir(control.SystemPath) {
					return // /run/popd: systemd's RuntimeDirectory= makes it, owned by popd's user
				}
				bad("control", "%q: cannot create the socket in %s: %v", path, d, err)
			}
			return
		}
		if d == filepath.Dir(d) {
			return
		}
	}
}

// checkPort says whether addr can be bound: free, held by popd (a note:
// the check runs next to a live server), or held by something else.
func checkPort(key, addr string, bad, note func(key, format string, a ...any)) {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
		note(key, "%s: free", addr)
		return
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		if holder := portHolder(addr); holder == "popd" {
			note(key, "%s: in use by a running popd", addr)
		} else if holder != "" {
			bad(key, "%s: in use by %s", addr, holder)
		} else if popdAnswers(key, addr) {
			note(key, "%s: in use; it answers like popd", addr)
		} else {
			bad(key, "%s: in use by another program", addr)
		}
	case errors.Is(err, syscall.EACCES):
		bad(key, "%s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)", addr)
	default:
		bad(key, "%s: %v", addr, unwrapNet(err))
	}
}

// popdAnswers is the fallback when the port's holder cannot be seen (not
// root): a POP3 port greets "+OK POP3 server ready", an HTTP port of popd's
// answers /metrics with popd_ metrics or auth_http with its headers.
func popdAnswers(key, addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	switch key {
	case "listen-tls":
		c = tls.Client(c, &tls.Config{InsecureSkipVerify: true}) // only to read the greeting
	case "metrics", "auth-http":
		fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\n\r\n")
	}
	buf := make([]byte, 4096)
	n, _ := c.Read(buf)
	s := string(buf[:n])
	return strings.HasPrefix(s, "+OK POP3 server ready") || strings.Contains(s, "popd_") || strings.Contains(s, "Auth-Status")
}

func certNames(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return strings.Join(c.DNSNames, ", ")
	}
	return c.Subject.CommonName
}

// unwrapPath drops the operation and path of a *PathError (the caller
// names the file).
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func unwrapNet(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}

// lineCollector is a slog.Handler that keeps the warnings userdb.Open logs
// about lines it skips, as text: "line 3: ignoring bad line (reason)".
type lineCollector struct{ lines []string }

func (h *lineCollector) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *lineCollector) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *lineCollector) WithGroup(string) slog.Handler                { return h }
func (h *lineCollector) Handle(_ context.Context, r slog.Record) error {
	msg := strings.TrimPrefix(r.Message, "userdb: ")
	var line, rest string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "line" {
			line = "line " + a.Value.String() + ": "
		} else {
			rest += " " + a.Key + "=" + a.Value.String()
		}
		return true
	})
	h.lines = append(h.lines, line+msg+rest)
	return nil
}
