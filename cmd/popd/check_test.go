package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"popd/internal/testutil/site"
)

// run runs the binary to its end: stdout, stderr, exit code.
func run(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// popd -check next to a running popd: its port is "in use by a running
// popd", which is fine (exit 0); the effective configuration shows what
// differs from the defaults.
func TestCheckNextToLivePopd(t *testing.T) {
	bin := buildPopd(t)
	st := site.New(t, []site.Account{{Name: "alice", Pass: "secret"}})
	control := filepath.Join(t.TempDir(), "control.sock")
	addr, _ := startPopd(t, bin, siteArgs(st, control)...)
	conf := exampleConfig(t, st, control)
	out, errOut, code := run(t, bin, "-check", "-config", conf, "-listen", addr)
	if code != 0 || !strings.Contains(errOut, "popd: -check: configuration OK") {
		t.Fatalf("-check next to a live popd: exit %d\n%s%s", code, errOut, out)
	}
	for _, want := range []string{
		"# listen " + addr + ": in use by a running popd\n",
		"# users \"" + st.Cfg.Users + "\": 1 users\n",
		"# Listening\nlisten = \"" + addr + "\"\n",
		"# Maildirs\nmaildir = \"" + st.Cfg.Maildir + "\"\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("-check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "idle-timeout") {
		t.Errorf("-check printed a default setting:\n%s", out)
	}
	if out, _, _ := run(t, bin, "-check", "-all", "-config", conf, "-listen", addr); !strings.Contains(out, `idle-timeout = "10m"`) {
		t.Errorf("-check -all lacks the defaults:\n%s", out)
	}

	// Problems: one line each, naming the flag or the file and line; exit 1.
	bad := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(bad, []byte("users = \"/nonexistent/users\"\n\nlisten-tls = \"127.0.0.1:0\"\n"), 0o644)
	_, errOut, code = run(t, bin, append([]string{"-check", "-config", bad, "-maildir", "/srv/shared", "-listen", addr}, rootArgs()...)...)
	for _, want := range []string{
		bad + `:1: users "/nonexistent/users": no such file or directory`,
		bad + `:3: listen-tls needs tls-cert and tls-key`,
		`popd: -maildir "/srv/shared": every user would share the maildrop`,
		"popd: -check: 3 problems",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("-check lacks %q:\n%s", want, errOut)
		}
	}
	if code != 1 {
		t.Errorf("-check with problems: exit %d, want 1", code)
	}
	// Serving with the same problems refuses to start, with the same lines.
	if _, errOut, code := run(t, bin, "-config", bad); code != 2 || !strings.Contains(errOut, bad+`:3: listen-tls needs tls-cert and tls-key`) {
		t.Errorf("start with a bad config: exit %d\n%s", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	bin := buildPopd(t)
	out, _, code := run(t, bin, "-version")
	if code != 0 || !regexp.MustCompile(`^popd \S+ \(.*go1\.\d+.*\)\n$`).MatchString(out) {
		t.Errorf("-version: %q (exit %d)", out, code)
	}
	// What a release build sets at link time wins.
	rel := filepath.Join(t.TempDir(), "popd")
	ld := "-X popd/internal/version.version=1.2.3 -X popd/internal/version.commit=0123456789abcdef"
	if b, err := exec.Command("go", "build", "-ldflags", ld, "-o", rel, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	if out, _, _ := run(t, rel, "--version"); !regexp.MustCompile(`^popd 1\.2\.3 \(commit 0123456789ab, go1\.\d+\S*\)\n$`).MatchString(out) {
		t.Errorf("release -version: %q", out)
	}
}
