package sdnotify

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestSend(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		name := filepath.Join(t.TempDir(), "notify")
		env := name
		if abstract {
			name = "\x00popd-sdnotify-test-" + filepath.Base(filepath.Dir(name))
			env = "@" + name[1:]
		}
		c := listen(t, name)
		t.Setenv("NOTIFY_SOCKET", env)
		n := FromEnv()
		if !n.Enabled() {
			t.Fatal("not enabled")
		}
		if err := n.Send("READY=1", "STATUS=serving"); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); got != "READY=1\nSTATUS=serving\n" {
			t.Errorf("abstract=%v: got %q", abstract, got)
		}
		if err := n.Send(Reloading()); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
			t.Errorf("reloading: %q", got)
		}
	}
}

func TestNoSocket(t *testing.T) {
	for _, v := range []string{"", "relative/path"} {
		t.Setenv("NOTIFY_SOCKET", v)
		n := FromEnv()
		if n.Enabled() || n.Send("READY=1") != nil {
			t.Errorf("NOTIFY_SOCKET=%q: enabled", v)
		}
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone"))
	if err := FromEnv().Send("READY=1"); err == nil {
		t.Error("no error for a socket that is not there")
	}
}
