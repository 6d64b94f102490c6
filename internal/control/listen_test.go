package control_test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"popd/internal/control"
	"popd/internal/control/controltest"
)

func TestListenModes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "popd", "control.sock")
	ln, err := control.Listen(control.ServerConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("directory: %v, %v", fi.Mode(), err)
	}
	fi, err = os.Stat(path)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket: %v, %v", fi.Mode(), err)
	}

	// An existing directory keeps its mode.
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	ln2, err := control.Listen(control.ServerConfig{Path: filepath.Join(dir, "c.sock")})
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("existing directory changed to %v", fi.Mode())
	}
}

func TestListenGroup(t *testing.T) {
	if _, err := control.Listen(control.ServerConfig{Path: filepath.Join(t.TempDir(), "c.sock"), AdminGroup: "no-such-group-popd"}); err == nil {
		t.Error("unknown admin group accepted")
	}
	if _, err := control.Listen(control.ServerConfig{Path: filepath.Join(t.TempDir(), "c.sock"), MonitorGroup: "no-such-group-popd"}); err == nil {
		t.Error("unknown monitor group accepted")
	}
	if os.Getuid() != 0 {
		t.Skip("giving a file to another group needs root")
	}
	g, err := user.LookupGroup("nogroup")
	if err != nil {
		if g, err = user.LookupGroup("daemon"); err != nil {
			t.Skip("no group to test with")
		}
	}
	gid, _ := strconv.Atoi(g.Gid)
	path := filepath.Join(t.TempDir(), "sub", "c.sock")
	ln, err := control.Listen(control.ServerConfig{Path: path, AdminGroup: g.Name, MonitorGroup: "root"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Gid) != gid {
			t.Errorf("%s: group %d, want %d", p, st.Gid, gid)
		}
	}
}

func TestListenStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sock")
	// A socket file nobody listens on.
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	ln, err := control.Listen(control.ServerConfig{Path: path})
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	defer ln.Close()

	// A live one is not stolen: the first server still answers.
	srv := control.NewServer(control.ServerConfig{Path: path}, controltest.NewDaemon())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, ln)
	if _, err := control.Listen(control.ServerConfig{Path: path}); err == nil || err.Error() != "control: another popd is serving "+path {
		t.Errorf("second Listen: %v", err)
	}
	c, err := control.Dial(t.Context(), path)
	if err != nil {
		t.Fatalf("first server gone: %v", err)
	}
	c.Close()

	// Anything else than a socket is never removed.
	file := filepath.Join(t.TempDir(), "c.sock")
	os.WriteFile(file, []byte("keep me"), 0o600)
	if _, err := control.Listen(control.ServerConfig{Path: file}); err == nil {
		t.Error("Listen over a regular file")
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Error("regular file changed")
	}
}

// TestHelperProcess is a control client run by TestRefusedPeer as another
// user.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("POPD_CONTROL_TEST_HELPER")
	if path == "" {
		return
	}
	_, err := control.Dial(context.Background(), path)
	os.Stdout.WriteString("dial: " + strings.TrimSpace(errString(err)) + "\n")
	os.Exit(0)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// A peer that is neither root, popd's uid, nor in a group is refused with
// a message saying so.
func TestRefusedPeer(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("running a client as another uid needs root")
	}
	// A directory the other uid can reach, with a copy of this test binary.
	dir, err := os.MkdirTemp("", "popd-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "control.test")
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	in.Close()
	out.Close()

	path, _ := serve(t, controltest.NewDaemon(), filepath.Join(dir, "control.sock"), nil)
	os.Chmod(path, 0o666) // only SO_PEERCRED stands in the way

	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "POPD_CONTROL_TEST_HELPER="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, got)
	}
	want := "dial: control: " + path + ": forbidden: uid 65534 is not allowed to use the popd control socket\n"
	if string(got) != want {
		t.Errorf("helper said %q\nwant %q", got, want)
	}
	// Still serving root.
	if _, err := dial(t, path).Stats(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("POPD_CONTROL", "")
	if p := control.DefaultPath(); p != "/run/popd/control.sock" {
		t.Errorf("default %q", p)
	}
	os.Mkdir("popd-demo", 0o750)
	os.WriteFile(filepath.Join("popd-demo", "control.sock"), nil, 0o600)
	if p := control.DefaultPath(); p != filepath.Join("popd-demo", "control.sock") {
		t.Errorf("with the demo %q", p)
	}
	t.Setenv("POPD_CONTROL", "/tmp/x.sock")
	if p := control.DefaultPath(); p != "/tmp/x.sock" {
		t.Errorf("POPD_CONTROL: %q", p)
	}
}
