package contribtest

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// debArch is Debian's name for the architecture the test runs on, which
// build.sh builds for by default.
var debArch = map[string]string{
	"amd64": "amd64", "arm64": "arm64", "386": "i386", "arm": "armhf",
	"ppc64le": "ppc64el", "riscv64": "riscv64", "s390x": "s390x",
	"mips64le": "mips64el", "loong64": "loong64",
}

// entry is one line of dpkg-deb -c: "-rwxr-xr-x root/root 123 date time ./usr/sbin/popd".
type entry struct{ mode, owner string }

// TestDebPackage builds the package with contrib/deb/build.sh, under a
// umask that would make every file private (the script must set modes
// itself) and with the Go module proxy off (no network), and checks its
// control fields, its files, their modes, its conffiles and its scripts.
func TestDebPackage(t *testing.T) {
	need(t, "dpkg-deb", "dpkg")
	need(t, "gzip", "gzip")
	// The files the package must have, with their modes.
	want := map[string]string{ // path → mode
		"/usr/sbin/popd":                     "-rwxr-xr-x",
		"/usr/sbin/popadm":                   "-rwxr-xr-x",
		"/usr/share/man/man8/popd.8.gz":      "-rw-r--r--",
		"/usr/share/man/man8/popadm.8.gz":    "-rw-r--r--",
		"/usr/share/man/man5/popd.conf.5.gz": "-rw-r--r--",
		"/lib/systemd/system/popd.service":   "-rw-r--r--",
		"/etc/popd":                          "drwxr-xr-x",
		"/etc/popd/popd.conf":                "-rw-r--r--",
		"/usr/share/doc/popd/copyright":      "-rw-r--r--",
	}
	// What other people's directories hold goes in when they exist
	// (looked at before the build, as they may be written meanwhile).
	f2b := filepath.Join(root, "contrib", "fail2ban")
	if _, err := os.Stat(filepath.Join(f2b, "filter.d", "popd.conf")); err == nil {
		want["/etc/fail2ban/filter.d/popd.conf"] = "-rw-r--r--"
	}
	for _, dir := range []string{"fail2ban", "grafana", "prometheus"} {
		filepath.WalkDir(filepath.Join(root, "contrib", dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
				return nil
			}
			rel, _ := filepath.Rel(filepath.Join(root, "contrib", dir), p)
			if !strings.HasPrefix(rel, "filter.d"+string(filepath.Separator)) {
				want["/usr/share/doc/popd/examples/"+dir+"/"+filepath.ToSlash(rel)] = "-rw-r--r--"
			}
			return nil
		})
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "-c", `umask 077 && exec bash "$0" "$1"`, filepath.Join(root, "contrib", "deb", "build.sh"), out)
	cmd.Dir = t.TempDir() // build.sh finds the tree from its own path
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "VERSION=", "MAINTAINER=", "DEBEMAIL=")
	stdout, stderr, err := run(t, cmd)
	if err != nil {
		t.Fatalf("build.sh: %v\n%s%s", err, stdout, stderr)
	}
	deb := strings.TrimSpace(stdout)
	if filepath.Dir(deb) != out || !strings.HasSuffix(deb, ".deb") {
		t.Fatalf("build.sh printed %q, want a .deb in %s (stderr: %s)", deb, out, stderr)
	}

	field := func(name string) string {
		t.Helper()
		v, errs, err := run(t, exec.Command("dpkg-deb", "-f", deb, name))
		if err != nil {
			t.Fatalf("dpkg-deb -f %s: %v\n%s", name, err, errs)
		}
		return strings.TrimSpace(v)
	}
	version := field("Version")
	if got := field("Package"); got != "popd" {
		t.Errorf("Package: %q", got)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(~[a-z0-9]+)?\+\d{8}(\.[0-9a-f]{12})?$`).MatchString(version) {
		t.Errorf("Version: %q, want like 0.2.0~dev+20261130.abc123456789", version)
	}
	if got, want := field("Architecture"), debArch[runtime.GOARCH]; got != want {
		t.Errorf("Architecture: %q, want %q", got, want)
	}
	if got := field("Depends"); got != "" && got != "adduser" {
		t.Errorf("Depends: %q, want adduser or nothing (the binaries are static)", got)
	}
	if got := field("Maintainer"); !regexp.MustCompile(`^\S.* <[^<>@\s]+@[^<>@\s]+>$`).MatchString(got) {
		t.Errorf("Maintainer: %q", got)
	}

	// The files and their modes.
	list, errs, err := run(t, exec.Command("dpkg-deb", "-c", deb))
	if err != nil {
		t.Fatalf("dpkg-deb -c: %v\n%s", err, errs)
	}
	files := map[string]entry{}
	for line := range strings.Lines(list) {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb -c: unexpected line %q", line)
		}
		files[strings.TrimPrefix(strings.TrimSuffix(f[5], "/"), ".")] = entry{f[0], f[1]}
	}
	for path, mode := range want {
		e, ok := files[path]
		switch {
		case !ok:
			t.Errorf("the package has no %s", path)
		case e.mode != mode:
			t.Errorf("%s: mode %s, want %s", path, e.mode, mode)
		}
	}
	for path, e := range files {
		if e.owner != "root/root" {
			t.Errorf("%s: owned by %s, want root/root", path, e.owner)
		}
		if e.mode[0] == 'd' && e.mode != "drwxr-xr-x" {
			t.Errorf("%s: directory mode %s, want drwxr-xr-x", path, e.mode)
		}
		if e.mode[0] == '-' && e.mode != "-rw-r--r--" && e.mode != "-rwxr-xr-x" {
			t.Errorf("%s: mode %s, want -rw-r--r-- or -rwxr-xr-x", path, e.mode)
		}
		if strings.HasPrefix(path, "/usr/share/man/") && e.mode[0] == '-' && !strings.HasSuffix(path, ".gz") {
			t.Errorf("%s: man pages go gzipped", path)
		}
	}

	// The contents: what the tree has, the man pages gzipped.
	x := t.TempDir()
	if _, errs, err := run(t, exec.Command("dpkg-deb", "-x", deb, x)); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, errs)
	}
	same := func(pkgPath, treePath string, gzipped bool) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(x, pkgPath))
		if err != nil {
			return // reported above
		}
		if gzipped {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: %v", pkgPath, err)
				return
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Errorf("%s: %v", pkgPath, err)
				return
			}
		}
		if string(b) != read(t, treePath) {
			t.Errorf("%s differs from %s", pkgPath, treePath)
		}
	}
	same("etc/popd/popd.conf", "contrib/popd.conf", false)
	same("lib/systemd/system/popd.service", "contrib/systemd/popd.service", false)
	for _, page := range manPages(t) {
		name := filepath.Base(page)
		same("usr/share/man/man"+filepath.Ext(name)[1:]+"/"+name+".gz", "docs/man/"+name, true)
	}
	if b, err := os.ReadFile(filepath.Join(x, "usr/share/doc/popd/copyright")); err == nil &&
		!bytes.Contains(b, []byte("Go standard library")) {
		t.Error("copyright: the Go standard library's licence is missing (the binaries are static)")
	}

	// The binaries say the package's version.
	if runtime.GOOS == "linux" {
		for _, args := range [][]string{{"usr/sbin/popd", "-version"}, {"usr/sbin/popadm", "version"}} {
			cmd := exec.Command(filepath.Join(x, args[0]), args[1:]...)
			cmd.Env = append(os.Environ(), "POPD_CONTROL="+filepath.Join(x, "none.sock"))
			out, errs, _ := run(t, cmd) // popadm version exits 1 when popd does not answer
			if !strings.Contains(out, " "+version+" ") {
				t.Errorf("%s %s: %q (%s), want version %s", args[0], args[1], out, errs, version)
			}
		}
	}

	// Control: conffiles lists every file in /etc; the scripts are
	// executable shell that parses.
	ctl := t.TempDir()
	if _, errs, err := run(t, exec.Command("dpkg-deb", "-e", deb, ctl)); err != nil {
		t.Fatalf("dpkg-deb -e: %v\n%s", err, errs)
	}
	conffiles := strings.Fields(readFile(t, filepath.Join(ctl, "conffiles")))
	for path, e := range files {
		if strings.HasPrefix(path, "/etc/") && e.mode[0] == '-' && !strings.Contains(" "+strings.Join(conffiles, " ")+" ", " "+path+" ") {
			t.Errorf("conffiles does not list %s", path)
		}
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		p := filepath.Join(ctl, script)
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("no %s: %v", script, err)
			continue
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v, want 0755", script, fi.Mode().Perm())
		}
		if _, errs, err := run(t, exec.Command("sh", "-n", p)); err != nil {
			t.Errorf("sh -n %s: %v\n%s", script, err, errs)
		}
	}
	postrm := readFile(t, filepath.Join(ctl, "postrm"))
	if strings.Contains(postrm, "/var/vmail") && regexp.MustCompile(`rm [^\n]*/var/vmail`).MatchString(postrm) {
		t.Error("postrm removes /var/vmail: a purge must never remove mail")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
