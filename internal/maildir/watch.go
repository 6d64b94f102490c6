package maildir

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher tells of deliveries: a message that appears in the new/ folder
// of a watched maildrop (an MTA writes it to tmp/ and renames it there).
// Maildrops of users added later, and created later by a first delivery,
// are picked up as they appear.
type Watcher struct {
	// Maildrops lists the maildrops to watch: directory → user name. It is
	// called at start and every Relist.
	Maildrops func() map[string]string
	// Delivered is called, from Run's goroutine, with the user and the file
	// name of each delivery.
	Delivered func(user, file string)
	Logger    *slog.Logger
	// Rescan is how often maildrops that do not exist yet are looked for
	// again (500 ms when zero); Relist how often Maildrops is called (5 s
	// when zero: it reads the users table).
	Rescan, Relist time.Duration
}

// Run watches until ctx is done.
func (wt *Watcher) Run(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	watched := map[string]string{} // new/ folder → user
	pending := map[string]string{} // new/ folders not watched yet
	findPending := func() {
		clear(pending)
		for dir, user := range wt.Maildrops() {
			if nd := filepath.Join(dir, "new"); watched[nd] == "" {
				pending[nd] = user
			}
		}
	}
	// watchPending starts watching the pending folders that exist now.
	// After the first time, a folder that appears was made by a first
	// delivery, whose messages arrived before the watch: they are told now.
	watchPending := func(announce bool) {
		for nd, user := range pending {
			if fi, err := os.Stat(nd); err != nil || !fi.IsDir() {
				continue
			}
			delete(pending, nd)
			if err := w.Add(nd); err != nil {
				wt.Logger.Warn("watching for deliveries", "user", user, "err", err)
				continue
			}
			watched[nd] = user
			if announce {
				ents, _ := os.ReadDir(nd)
				for _, de := range ents {
					if !strings.HasPrefix(de.Name(), ".") {
						wt.Delivered(user, de.Name())
					}
				}
			}
		}
	}
	findPending()
	watchPending(false)
	tick := time.NewTicker(orDefault(wt.Rescan, 500*time.Millisecond))
	defer tick.Stop()
	relist := time.NewTicker(orDefault(wt.Relist, 5*time.Second))
	defer relist.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			watchPending(true)
		case <-relist.C:
			findPending()
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if _, ok := watched[ev.Name]; ok && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				delete(watched, ev.Name) // the folder itself went away
				continue
			}
			dir, name := filepath.Split(ev.Name)
			user, ok := watched[filepath.Clean(dir)]
			if !ok || strings.HasPrefix(name, ".") || !ev.Has(fsnotify.Create) {
				continue
			}
			wt.Delivered(user, name)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			wt.Logger.Warn("watching for deliveries", "err", err)
		}
	}
}

// orDefault is d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
