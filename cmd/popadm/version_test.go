package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"popd/internal/version"
)

// TestVersion: popadm's version line, then popd's when it answers, else
// why not; exit 0 either way; "version", -version and --version alike.
func TestVersion(t *testing.T) {
	t.Setenv("POPADM_FLEET", "")
	own := version.Get().Line("popadm")
	if !strings.HasPrefix(own, "popadm ") {
		t.Fatalf("version line %q", own)
	}
	_, live := start(t) // its hello says version "test"
	none := filepath.Join(t.TempDir(), "none.sock")
	t.Setenv("POPD_CONTROL", none)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "popd not reachable: popd is not running? no control socket at " + none},
		{[]string{"-version"}, "popd not reachable: popd is not running? no control socket at " + none},
		{[]string{"--version"}, "popd not reachable: popd is not running? no control socket at " + none},
		{[]string{"-control", live, "version"}, "popd test"},
		{[]string{"version", "-control", live}, "popd test"},
		{[]string{"-control", live, "--version"}, "popd test"},
		{[]string{"--version", "-control=" + live}, "popd test"},
	} {
		r := run(t, tt.args...)
		if want := own + "\n" + tt.want + "\n"; r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", tt.args, r.code, r.stdout, r.stderr, want)
		}
	}
	t.Setenv("POPD_CONTROL", live)
	run(t, "version").want(t, 0, "^"+regexp.QuoteMeta(own)+"\npopd test\n$")

	// A popd that does not answer has versionTimeout.
	mute := muteSocket(t)
	start := time.Now()
	r := run(t, "-control", mute, "version")
	if r.code != 0 || r.stdout != own+"\npopd not reachable: no answer from "+mute+" within 1s\n" {
		t.Errorf("mute popd: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if d := time.Since(start); d > 2*versionTimeout {
		t.Errorf("mute popd: took %v", d)
	}

	if r := run(t, "version", "extra"); r.code != 2 || !strings.Contains(r.stderr, "usage: popadm version") {
		t.Errorf("version extra: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestVersionFleet: on a fleet, a line for each node.
func TestVersionFleet(t *testing.T) {
	_, live := start(t)
	file := filepath.Join(t.TempDir(), "fleet.toml")
	gone := filepath.Join(t.TempDir(), "gone.sock")
	if err := os.WriteFile(file, fmt.Appendf(nil, "[[node]]\nname = \"pop1\"\npop3 = \"127.0.0.1:1\"\ncontrol = %q\n\n"+
		"[[node]]\nname = \"pop2\"\npop3 = \"127.0.0.1:1\"\ncontrol = %q\n", live, gone), 0o644); err != nil {
		t.Fatal(err)
	}
	want := version.Get().Line("popadm") + "\npop1: popd test\npop2: popd not reachable: popd is not running? no control socket at " + gone + "\n"
	if r := run(t, "-fleet", file, "version"); r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, want)
	}
}
