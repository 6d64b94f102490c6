package userdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long Watch waits after the last change before it
// reloads, so that a file written in several steps is read once, whole.
const watchDebounce = 100 * time.Millisecond

// DefaultPollInterval is how often Watch looks at the file when
// File.PollInterval is zero. A change that inotify does not report is in
// force within this, watchDebounce and the time the reload takes.
const DefaultPollInterval = 2 * time.Second

// Watch reloads the file whenever it changes, until ctx is done; then it
// returns nil. Two things tell it of a change:
//
//   - inotify on the file's directory, not the file, because editors and
//     the atomic writes of this package replace the file rather than write
//     into it; when the path is a symlink, the target's directory is
//     watched too. Any change in those directories counts.
//   - a poll, every PollInterval (2 s by default), of the file's identity:
//     device, inode, size, mtime and ctime (to the nanosecond). It sees
//     what inotify cannot: writes made on another NFS client, such as a
//     popadm edit on another node sharing the file. The poll opens the file
//     and asks fstat, because NFS's close-to-open consistency revalidates
//     the attributes at open, where stat may answer from the attribute
//     cache for up to a minute.
//
// Either starts a 100 ms quiet period, then a Reload, which does nothing
// when the content is the same. The poll compares with the identity of the
// file as the last reload read it, so one change that both notice is read
// once. Failed reloads are logged and keep the old table; see also
// File.OnReload. When inotify cannot be set up (past its limits, say),
// Watch says so and relies on the poll; it returns an error only when
// neither is possible.
func (f *File) Watch(ctx context.Context) error {
	every := f.PollInterval
	if every == 0 {
		every = DefaultPollInterval
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w, err := f.watch(); err != nil {
		if every < 0 {
			return err
		}
		f.log.Warn("userdb: cannot watch the users file's directory; polling the file only", "path", f.path, "every", every, "err", err)
	} else {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}
	var poll <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		poll = t.C
	}

	var seen fileID // the file as last read or looked at
	reload := func() {
		changed, id, err := f.reload()
		seen = id
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
		case _, ok := <-events:
			if !ok {
				return nil
			}
			timer.Reset(watchDebounce)
		case err, ok := <-errs:
			if !ok {
				return nil
			}
			// Events may have been lost (queue overflow): reload anyway.
			f.log.Warn("userdb: watch", "path", f.path, "err", err)
			timer.Reset(watchDebounce)
		case <-poll:
			if id := lookAt(f.path); !id.unchanged(seen) {
				seen = id
				timer.Reset(watchDebounce)
			}
		case <-timer.C:
			reload()
		}
	}
}

// watch starts the inotify watch of the file's directory, and of its
// target's when the path is a symlink.
func (f *File) watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("userdb: watch: %w", err)
	}
	dirs := []string{filepath.Dir(f.path)}
	if target, err := filepath.EvalSymlinks(f.path); err == nil && filepath.Dir(target) != dirs[0] {
		dirs = append(dirs, filepath.Dir(target))
	}
	for _, d := range dirs {
		if f.addWatch != nil {
			err = f.addWatch(w, d)
		} else {
			err = w.Add(d)
		}
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("userdb: watch %s: %w", d, err)
		}
	}
	return w, nil
}

// lookAt returns the identity of the file at path as fstat sees it once
// opened (see Watch), or the zero fileID when it cannot be opened.
func lookAt(path string) fileID {
	fd, err := os.Open(path)
	if err != nil {
		return fileID{}
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return fileID{}
	}
	return identify(fi)
}
