package contribtest

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"popd/internal/config"
)

// load reads a configuration file as popd does: over the defaults, unknown
// keys an error; then validates it.
func load(path string) (config.Config, error) {
	c := config.Default()
	if err := c.Load(path); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// TestExampleConfig loads contrib/popd.conf, the package's
// /etc/popd/popd.conf, and checks the settings the package's layout
// depends on.
func TestExampleConfig(t *testing.T) {
	path := filepath.Join(root, "contrib", "popd.conf")
	c, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ key, got, want string }{
		{"listen", c.Listen, "0.0.0.0:110"},
		{"users", c.Users, "/var/lib/popd/users"}, // postinst makes it, ReadWritePaths allows it
		{"maildir", c.Maildir, "/var/vmail/%d/%n"},
		{"user", c.User, "vmail"}, // postinst makes vmail
		{"group", c.Group, "vmail"},
		{"control", c.Control, ""}, // /run/popd/control.sock: RuntimeDirectory=popd
		{"metrics", c.Metrics, ""},
		{"listen-tls", c.ListenTLS, ""},
	} {
		if s.got != s.want {
			t.Errorf("%s = %q, want %q", s.key, s.got, s.want)
		}
	}
}

// TestExampleConfigCommentedSettings uncomments the settings the example
// offers commented out ("#listen-tls = ...") and loads the result: they
// must be keys popd knows too.
func TestExampleConfigCommentedSettings(t *testing.T) {
	setting := regexp.MustCompile(`^#([a-z][a-z0-9-]*) = (.*)$`)
	var out strings.Builder
	var uncommented []string
	for line := range strings.Lines(read(t, "contrib/popd.conf")) {
		if m := setting.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			uncommented = append(uncommented, m[1])
			line = m[1] + " = " + m[2] + "\n"
		}
		out.WriteString(line)
	}
	for _, key := range []string{"listen-tls", "tls-cert", "tls-key", "metrics"} {
		if !strings.Contains(strings.Join(uncommented, " "), key) {
			t.Errorf("contrib/popd.conf does not offer %s commented out", key)
		}
	}
	path := filepath.Join(t.TempDir(), "popd.conf")
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := load(path)
	if err != nil {
		t.Fatalf("with %v uncommented: %v", uncommented, err)
	}
	if c.ListenTLS != "0.0.0.0:995" || c.Metrics != "127.0.0.1:9110" {
		t.Errorf("uncommented: listen-tls %q, metrics %q; want 0.0.0.0:995 and 127.0.0.1:9110", c.ListenTLS, c.Metrics)
	}
	if !c.RequireTLS() {
		t.Error("with the certificate uncommented, passwords should be refused without TLS")
	}

	// And a misspelt key is refused, so the loads above prove something.
	bad := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(bad, []byte(read(t, "contrib/popd.conf")+"\nlisten_tls = \"0.0.0.0:995\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "listen_tls") {
		t.Errorf("a misspelt key: err = %v, want one naming listen_tls", err)
	}
}

// TestExampleConfigCheck runs the real popd -check on the example. The
// files and the user it names exist only once the package is installed
// (contrib/deb/ci-install-test.sh checks that), so those three come from
// flags here: this machine's user, a users file of the test's.
func TestExampleConfigCheck(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-check", "-config", filepath.Join(root, "contrib", "popd.conf"),
		"-users", users, "-user", u.Username, "-group", g.Name, "-listen", "127.0.0.1:0"}
	if u.Uid == "0" {
		args = append(args, "-allow-root")
	}
	out, errs, err := run(t, exec.Command(binary(t, "popd"), args...))
	if err != nil {
		t.Fatalf("popd %s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
	}
	// -check prints the settings that differ from the defaults: the
	// example's own among them.
	for _, want := range []string{`maildir = "/var/vmail/%d/%n"`, `users = "` + users + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("popd -check does not print %s:\n%s", want, out)
		}
	}
}
