package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"popd/internal/config"
)

// checkStateDir is popd -check's look at state-dir: a directory the user
// popd runs as may write, or missing (a note: popd runs, but forgets the
// last logins at each restart).
func checkStateDir(cfg config.Config, bad, note func(key, format string, a ...any)) {
	dir := cfg.StateDir
	if dir == "" || !filepath.IsAbs(dir) {
		return // nothing kept; or config.Problems said so
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		note("state-dir", "%q does not exist: last logins are kept in memory only, lost at a restart", dir)
		return
	case err != nil:
		bad("state-dir", "%q: %v", dir, unwrapPath(err))
		return
	case !fi.IsDir():
		bad("state-dir", "%q is not a directory", dir)
		return
	}
	if err := writableBy(cfg, dir, fi); err != nil {
		bad("state-dir", "%q: %v: last logins would be lost at a restart", dir, err)
		return
	}
	if b, err := readBounded(filepath.Join(dir, lastLoginsName), maxLastLoginsFile); err == nil {
		if m, skipped, err := parseLastLogins(b, time.Now()); err != nil {
			bad("state-dir", "%q: %s: %v", dir, lastLoginsName, err)
		} else {
			note("state-dir", "%q: last logins of %d users", dir, len(m))
			if skipped > 0 {
				bad("state-dir", "%q: %s: %d bad lines (skipped)", dir, lastLoginsName, skipped)
			}
		}
	}
}

// writableBy says why dir is not writable by the user popd serves as:
// cfg.User and cfg.Group when popd starts as root and switches, else
// whoever runs the check.
func writableBy(cfg config.Config, dir string, fi fs.FileInfo) error {
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return err // as this user; for root, a read-only file system
	}
	if os.Geteuid() != 0 || cfg.User == "" {
		return nil
	}
	u, err := user.Lookup(cfg.User)
	if err != nil {
		return nil // checkIdentity says so
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if cfg.Group != "" {
		if g, err := user.LookupGroup(cfg.Group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || uid == 0 {
		return nil
	}
	perm := uint32(st.Mode) & 0o7
	switch {
	case int(st.Uid) == uid:
		perm = uint32(st.Mode) >> 6 & 0o7
	case int(st.Gid) == gid:
		perm = uint32(st.Mode) >> 3 & 0o7
	}
	if perm&0o3 != 0o3 {
		return fmt.Errorf("%s (uid %d) may not write there", cfg.User, uid)
	}
	return nil
}
