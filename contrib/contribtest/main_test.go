// Package contribtest checks what popd ships besides its code, with the
// real tools a Debian server has: the man pages render without warnings
// and document every flag and key, the systemd unit verifies and scores
// "OK" in systemd-analyze security, the example configuration loads, and
// contrib/deb/build.sh builds a package with everything where Debian
// wants it. A test whose tool is missing skips, naming the package to
// install; .ci/run installs them all.
package contribtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// root is the repository's top directory (tests run in their package's).
var root = func() string {
	p, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return p
}()

// binDir holds the binaries built for the tests; removed by TestMain.
var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "contribtest-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

var builds sync.Map // command name → func() (string, error)

// binary builds ./cmd/name once per test run and returns its path.
func binary(t *testing.T, name string) string {
	t.Helper()
	f, _ := builds.LoadOrStore(name, sync.OnceValues(func() (string, error) {
		out := filepath.Join(binDir, name)
		cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build ./cmd/%s: %v\n%s", name, err, b)
		}
		return out, nil
	}))
	path, err := f.(func() (string, error))()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// need skips the test when the program is not installed, saying which
// Debian package has it.
func need(t *testing.T, program, debPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install %s)", program, debPackage)
	}
	return p
}

// run runs a command and returns its standard output and standard error
// apart, failing the test if it cannot be started.
func run(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	return o.String(), e.String(), err
}

// read returns the repository file at rel (a slash path from the top).
func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// manPages lists docs/man's pages: popd.8, popadm.8, popd.conf.5.
func manPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "man", "*.[1-8]"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 3 {
		t.Fatalf("docs/man has %d pages, want popd.8, popadm.8 and popd.conf.5 at least", len(pages))
	}
	return pages
}
