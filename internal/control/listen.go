package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// SystemPath is the control socket of popd run as a system service.
const SystemPath = "/run/popd/control.sock"

// ServerPath is where popd puts its control socket when its configuration
// names none: $POPD_CONTROL when set, else SystemPath.
func ServerPath() string {
	if p := os.Getenv("POPD_CONTROL"); p != "" {
		return p
	}
	return SystemPath
}

// DefaultPath is where popadm looks for the control socket: $POPD_CONTROL
// when set; else "popd-demo/control.sock" when it exists in the current
// directory (the socket of "popd -demo" started here); else SystemPath.
func DefaultPath() string {
	if os.Getenv("POPD_CONTROL") == "" {
		demo := filepath.Join("popd-demo", "control.sock")
		if _, err := os.Lstat(demo); err == nil {
			return demo
		}
	}
	return ServerPath()
}

// Listen opens the control socket at cfg.Path:
//
//   - its directory is created with mode 0750 when missing (and given the
//     socket's group, below); an existing directory is left as it is;
//   - a socket file already there is removed only when nothing answers on
//     it; when a popd does, Listen fails with "control: another popd is
//     serving PATH"; anything that is not a socket is never removed;
//   - the socket is made mode 0660 and, when cfg.AdminGroup is set (else
//     cfg.MonitorGroup), given that group, so that its members can
//     connect; a monitor-group member who is not in the socket's group
//     cannot connect when both groups are set.
//
// Unknown group names are an error. Closing the listener removes the
// socket file.
func Listen(cfg ServerConfig) (net.Listener, error) {
	if cfg.Path == "" {
		return nil, errors.New("control: no socket path")
	}
	adminGID, err := lookupGroup(cfg.AdminGroup)
	if err != nil {
		return nil, err
	}
	monitorGID, err := lookupGroup(cfg.MonitorGroup)
	if err != nil {
		return nil, err
	}
	gid := adminGID
	if gid < 0 {
		gid = monitorGID
	}

	dir := filepath.Dir(cfg.Path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("control: %w", err)
		}
		if err := os.Chmod(dir, 0o750); err != nil { // whatever the umask
			return nil, fmt.Errorf("control: %w", err)
		}
		if gid >= 0 {
			if err := os.Chown(dir, -1, int(gid)); err != nil {
				return nil, fmt.Errorf("control: giving %s to group %d: %w", dir, gid, err)
			}
		}
	}
	if err := removeStale(cfg.Path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if err := os.Chmod(cfg.Path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	if gid >= 0 {
		if err := os.Chown(cfg.Path, -1, int(gid)); err != nil {
			ln.Close()
			return nil, fmt.Errorf("control: giving %s to group %d: %w", cfg.Path, gid, err)
		}
	}
	return ln, nil
}

// removeStale removes the socket file at path when nothing listens on it.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control: %s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("control: another popd is serving %s", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// Not provably dead (a full backlog, no permission): keep it.
		return fmt.Errorf("control: %s exists and may be in use: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("control: removing stale socket: %w", err)
	}
	return nil
}
