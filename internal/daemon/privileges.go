package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"popd/internal/config"
)

// dropPrivileges switches to cfg.User and cfg.Group once the listeners are
// bound (ports 110 and 995 need root), and refuses to go on serving mail as
// root unless cfg.AllowRoot says so.
func dropPrivileges(cfg config.Config, log *slog.Logger) error {
	if cfg.User == "" && cfg.Group == "" {
		if os.Geteuid() == 0 && !cfg.AllowRoot {
			return errors.New("popd: refusing to serve mail as root; set -user (e.g. vmail), or -allow-root")
		}
		return nil
	}
	uid, gid := os.Getuid(), os.Getgid()
	if cfg.User != "" {
		u, err := user.Lookup(cfg.User)
		if err != nil {
			return fmt.Errorf("popd: -user: %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if cfg.Group != "" {
		g, err := user.LookupGroup(cfg.Group)
		if err != nil {
			return fmt.Errorf("popd: -group: %w", err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if uid == 0 && !cfg.AllowRoot {
		return errors.New("popd: -user is root; refusing to serve mail as root without -allow-root")
	}
	// Group first: after setuid we may no longer change it. On Linux, Go
	// applies these to every thread of the process.
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("popd: setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("popd: setgid %d: %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("popd: setuid %d: %w", uid, err)
	}
	log.Info("dropped privileges", "uid", uid, "gid", gid)
	return nil
}
