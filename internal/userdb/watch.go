package userdb

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long Watch waits after the last change before it
// reloads, so that a file written in several steps is read once, whole.
const watchDebounce = 100 * time.Millisecond

// Watch reloads the file whenever it changes, until ctx is done; then it
// returns nil. It watches the file's directory, not the file, because
// editors and the atomic writes of this package replace the file rather than
// write into it; when the path is a symlink, the target's directory is
// watched too. Any change in those directories starts a 100 ms quiet
// period, then a Reload, which does nothing when the content is the same.
// Failed reloads are logged and keep the old table; see also File.OnReload.
// It returns an error only when the watch cannot be set up.
func (f *File) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("userdb: watch: %w", err)
	}
	defer w.Close()
	dirs := []string{filepath.Dir(f.path)}
	if target, err := filepath.EvalSymlinks(f.path); err == nil && filepath.Dir(target) != dirs[0] {
		dirs = append(dirs, filepath.Dir(target))
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			return fmt.Errorf("userdb: watch %s: %w", d, err)
		}
	}

	reload := func() {
		changed, err := f.reload()
		if err != nil {
			f.log.Warn("userdb: reload failed; keeping the users loaded before", "path", f.path, "err", err)
		}
		if (changed || err != nil) && f.OnReload != nil {
			f.OnReload(len(f.tab.Load().sorted), err)
		}
	}
	// The file may have changed between Open and now.
	reload()

	timer := time.NewTimer(watchDebounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
			timer.Reset(watchDebounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			// Events may have been lost (queue overflow): reload anyway.
			f.log.Warn("userdb: watch", "path", f.path, "err", err)
			timer.Reset(watchDebounce)
		case <-timer.C:
			reload()
		}
	}
}
