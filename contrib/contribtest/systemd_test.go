package contribtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maxExposure is the worst overall exposure systemd-analyze security may
// give the unit: below 5.0 is "OK" (or better).
const maxExposure = 4.9

// unitCopy writes contrib/systemd/popd.service into a temporary directory
// with ExecStart's /usr/sbin/popd replaced by a popd built for the test
// (verify checks that the binary exists), and the man pages its
// Documentation= names into a man tree there. It returns the unit's path
// and the environment that finds the pages (verify runs man on them).
func unitCopy(t *testing.T) (unit string, env []string) {
	t.Helper()
	dir := t.TempDir()
	text := read(t, "contrib/systemd/popd.service")
	if !strings.Contains(text, "ExecStart=/usr/sbin/popd ") {
		t.Fatal("popd.service: ExecStart does not run /usr/sbin/popd")
	}
	text = strings.ReplaceAll(text, "/usr/sbin/popd", binary(t, "popd"))
	unit = filepath.Join(dir, "popd.service")
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, page := range manPages(t) {
		sec := filepath.Join(dir, "man", "man"+filepath.Ext(page)[1:])
		if err := os.MkdirAll(sec, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sec, filepath.Base(page)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return unit, append(os.Environ(), "MANPATH="+filepath.Join(dir, "man"), "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0")
}

// TestUnitVerifies runs systemd-analyze verify on the unit. It works
// without systemd running (in a container): it parses the unit, checks
// ExecStart's binary and that man finds the Documentation= pages. A
// problem is printed, not always in the exit status, so any output about
// the unit fails the test.
func TestUnitVerifies(t *testing.T) {
	need(t, "systemd-analyze", "systemd")
	need(t, "man", "man-db")
	unit, env := unitCopy(t)

	// A unit with mistakes first, so that silence below means something.
	bad := filepath.Join(filepath.Dir(unit), "bad.service")
	if err := os.WriteFile(bad, []byte("[Service]\nType=bogus\nExecStart="+binary(t, "popd")+"\nProtectSystem=strictly\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", bad)
	cmd.Env = env
	if out, errs, _ := run(t, cmd); !strings.Contains(out+errs, "bad.service") {
		t.Fatalf("systemd-analyze verify says nothing about a broken unit:\n%s%s", out, errs)
	}

	cmd = exec.Command("systemd-analyze", "verify", unit)
	cmd.Env = env
	out, errs, err := run(t, cmd)
	for line := range strings.Lines(out + errs) {
		if strings.Contains(line, "popd.service") || strings.Contains(line, "popd(8)") ||
			strings.Contains(line, "popadm(8)") || strings.Contains(line, "popd.conf(5)") {
			t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(line))
		} else {
			t.Logf("systemd-analyze verify (not about popd): %s", strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Errorf("systemd-analyze verify: %v", err)
	}
}

// TestUnitSecurity scores the unit's sandbox with systemd-analyze
// security --offline=true (systemd 250 and later).
func TestUnitSecurity(t *testing.T) {
	need(t, "systemd-analyze", "systemd")
	unit, env := unitCopy(t)
	cmd := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", unit)
	cmd.Env = env
	out, errs, err := run(t, cmd)
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s%s", err, out, errs)
	}
	m := regexp.MustCompile(`Overall exposure level for popd\.service: ([0-9.]+) (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s%s", out, errs)
	}
	level, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("overall exposure %.1f %s", level, m[2])
	if level > maxExposure {
		t.Errorf("overall exposure %.1f %s, want %.1f at most:\n%s", level, m[2], maxExposure, out)
	}
}
