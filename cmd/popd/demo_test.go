package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hintRe is the console line of popd -demo's hint.
var hintRe = regexp.MustCompile(`^  (.+ -control .+?)   \(the console\)$`)

// startDemo runs bin -demo -demo-dir dir in cwd and returns the console
// command of the hint it prints.
func startDemo(t *testing.T, bin, cwd, dir string) string {
	t.Helper()
	hint, _, _ := startPopdIn(t, cwd, bin, hintRe, append([]string{"-demo", "-demo-dir", dir, "-listen", "127.0.0.1:0"}, rootArgs()...)...)
	return hint
}

// runHint runs the hint's command with "stats" in a directory of its own,
// neither popd's nor the demo's: it must reach the demo popd as it is.
func runHint(t *testing.T, hint string) {
	t.Helper()
	c := exec.Command("sh", "-c", hint+" stats")
	c.Dir = t.TempDir()
	c.Env = append(os.Environ(), "POPD_CONTROL=", "POPADM_FLEET=")
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "uptime") {
		t.Fatalf("%s stats: %v\n%s", hint, err, out)
	}
}

// TestDemoHint: the popadm command that popd -demo -demo-dir prints works
// as it is, from any directory: the popadm beside popd, or the source
// tree's when popd runs in it (go run ./cmd/popd).
func TestDemoHint(t *testing.T) {
	bin := buildPopd(t)
	dir := filepath.Join(t.TempDir(), "my demo") // a space, to be quoted
	sock := "'" + filepath.Join(dir, "control.sock") + "'"

	t.Run("source tree", func(t *testing.T) {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		hint := startDemo(t, bin, root, dir)
		if want := "cd " + root + " && go run ./cmd/popadm -control " + sock; hint != want {
			t.Fatalf("hint %q, want %q", hint, want)
		}
		runHint(t, hint)
	})

	t.Run("beside popd", func(t *testing.T) {
		popadm := filepath.Join(filepath.Dir(bin), "popadm")
		if out, err := exec.Command("go", "build", "-o", popadm, "../popadm").CombinedOutput(); err != nil {
			t.Fatalf("go build popadm: %v\n%s", err, out)
		}
		hint := startDemo(t, bin, t.TempDir(), dir)
		if want := popadm + " -control " + sock; hint != want {
			t.Fatalf("hint %q, want %q", hint, want)
		}
		runHint(t, hint)
	})
}
