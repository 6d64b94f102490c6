package fleet_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"popd/internal/fleet"
)

func TestSSHArgs(t *testing.T) {
	for _, tt := range []struct {
		dest, port, path string
		want             string
	}{
		{"admin@10.0.0.12", "2222", "/run/popd/control.sock", "-T -o BatchMode=yes -p 2222 -- admin@10.0.0.12 popadm dial-stdio /run/popd/control.sock"},
		{"10.0.0.13", "", "/run/popd/control.sock", "-T -o BatchMode=yes -- 10.0.0.13 popadm dial-stdio /run/popd/control.sock"},
		// The far shell reads the command line.
		{"h", "", "/run/my popd/c.sock", "-T -o BatchMode=yes -- h popadm dial-stdio '/run/my popd/c.sock'"},
		{"h", "", "/run/$(reboot)/it's", `-T -o BatchMode=yes -- h popadm dial-stdio '/run/$(reboot)/it'\''s'`},
	} {
		if got := strings.Join(fleet.SSHArgs(tt.dest, tt.port, tt.path), " "); got != tt.want {
			t.Errorf("SSHArgs(%q, %q, %q) = %s, want %s", tt.dest, tt.port, tt.path, got, tt.want)
		}
	}
	// The destination cannot pass for an option.
	if args := fleet.SSHArgs("-oProxyCommand=x", "", "/s"); !slices.Contains(args, "--") || slices.Index(args, "--") > slices.Index(args, "-oProxyCommand=x") {
		t.Errorf("%q", args)
	}
}

// When ssh fails, what it said is the error.
func TestDialSSHFails(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "ssh")
	script := "#!/bin/sh\necho 'Warning: something' >&2\necho 'ssh: connect to host 10.0.0.12 port 2222: Connection refused' >&2\nexit 255\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	n := &fleet.Node{Name: "pop2", Control: "ssh://admin@10.0.0.12:2222/run/popd/control.sock"}
	_, err := fleet.Dialer{SSH: prog}.Dial(t.Context(), n)
	if err == nil || err.Error() != "fleet: ssh://admin@10.0.0.12:2222/run/popd/control.sock: ssh: connect to host 10.0.0.12 port 2222: Connection refused" {
		t.Errorf("got %v", err)
	}
	_, err = fleet.Dialer{SSH: filepath.Join(dir, "none")}.Dial(t.Context(), n)
	if err == nil || !strings.HasPrefix(err.Error(), "fleet: ") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("no ssh program: %v", err)
	}
	// A path is dialled directly.
	_, err = fleet.Dialer{SSH: prog}.Dial(t.Context(), &fleet.Node{Name: "pop1", Control: filepath.Join(dir, "c.sock")})
	if err == nil || !strings.Contains(err.Error(), "no control socket at "+dir) {
		t.Errorf("path: %v", err)
	}
}
