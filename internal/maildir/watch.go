package maildir

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher tells of deliveries: a message that appears in the new/ folder
// of a watched maildrop (an MTA writes it to tmp/ and renames it there).
// Maildrops of users added later, and created later by a first delivery,
// are picked up as they appear.
//
// Mail that is in a maildrop when the watcher first sees it is never told:
// only what arrives afterwards, each message once. A maildrop that did not
// exist yet was made by its first delivery, so all it holds is told.
//
// A folder that inotify cannot watch (past fs.inotify.max_user_watches, or
// without inotify at all) is read every Relist instead, and the messages
// that are new since the last read are told; one warning says so. It goes
// back to inotify as soon as a watch can be added again.
type Watcher struct {
	// Maildrops lists the maildrops to watch: directory → user name. It is
	// called at start and every Relist, or, with Version, when Version
	// changed.
	Maildrops func() map[string]string
	// Version, when set, changes whenever Maildrops would list something
	// else: with thousands of users, listing them every Relist only to
	// find the same maildrops is garbage an idle server need not make.
	Version func() uint64
	// Delivered is called, from Run's goroutine, with the user and the file
	// name of each delivery.
	Delivered func(user, file string)
	Logger    *slog.Logger
	// Rescan is how often maildrops that do not exist yet are looked for
	// again (500 ms when zero); Relist how often Maildrops is called and
	// the folders inotify cannot watch are read (5 s when zero).
	Rescan, Relist time.Duration

	// addWatch starts watching dir; nil means w.Add. Tests use it to reach
	// the inotify watch limit.
	addWatch func(w *fsnotify.Watcher, dir string) error
}

// drop is what a watcher knows of one maildrop's new/ folder.
type drop struct {
	user  string
	state dropState
	// seen are the messages found by the last read of the folder: never
	// told again. A watched folder keeps them until the next relist, for
	// the inotify events that raced with the read.
	seen map[string]bool
	// readErr: reading the folder failed, and that was logged.
	readErr bool
}

type dropState int

const (
	dropAbsent  dropState = iota // the folder does not exist (yet)
	dropWatched                  // inotify tells of its deliveries
	dropPolled                   // it is read every Relist
)

// watchRun is one Run's state; only Run's goroutine uses it.
type watchRun struct {
	*Watcher
	w      *fsnotify.Watcher // nil: no inotify at all
	drops  map[string]*drop
	warned bool // the one warning about the watch limit was given
	// version is Version's value when Maildrops was last called; listed
	// says it was.
	version uint64
	listed  bool
}

// Run watches until ctx is done.
func (wt *Watcher) Run(ctx context.Context) error {
	r := &watchRun{Watcher: wt, drops: map[string]*drop{}}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		r.limitWarning(err)
	} else {
		defer w.Close()
		r.w, events, errs = w, w.Events, w.Errors
	}
	r.relist()
	tick := time.NewTicker(orDefault(wt.Rescan, 500*time.Millisecond))
	defer tick.Stop()
	relist := time.NewTicker(orDefault(wt.Relist, 5*time.Second))
	defer relist.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			r.rescan()
		case <-relist.C:
			r.relist()
		case ev, ok := <-events:
			if !ok {
				return errors.New("maildir: the inotify watcher closed its events")
			}
			r.event(ev)
		case err, ok := <-errs:
			if !ok {
				return errors.New("maildir: the inotify watcher closed its errors")
			}
			wt.Logger.Warn("watching for deliveries", "err", err)
		}
	}
}

// relist follows the users table: it starts on new maildrops, forgets
// those of users that are gone, reads the polled folders (and tries to
// watch them again), and forgets what watched folders held.
func (r *watchRun) relist() {
	if r.Version != nil {
		v := r.Version()
		if r.listed && v == r.version {
			r.maintain()
			return
		}
		r.version, r.listed = v, true
	}
	listed := map[string]bool{}
	for dir, user := range r.Maildrops() {
		nd := filepath.Join(dir, "new")
		listed[nd] = true
		f := r.drops[nd]
		if f != nil && f.user != user {
			r.forget(nd, f)
			f = nil
		}
		switch {
		case f == nil:
			f = &drop{user: user}
			r.drops[nd] = f
			r.start(nd, f, false) // what is there now was there before
		case f.state == dropPolled:
			r.start(nd, f, true)
		case f.state == dropWatched:
			f.seen = nil
		}
	}
	for nd, f := range r.drops {
		if !listed[nd] {
			r.forget(nd, f)
		}
	}
}

// maintain is relist's work on the folders it knows when the maildrops
// are the same: the polled ones are read (and watched, if they can be
// now), the watched ones forget what they held.
func (r *watchRun) maintain() {
	for nd, f := range r.drops {
		switch f.state {
		case dropPolled:
			r.start(nd, f, true)
		case dropWatched:
			f.seen = nil
		}
	}
}

// rescan starts on the folders that have appeared since the last look: a
// first delivery made them, so all they hold is told.
func (r *watchRun) rescan() {
	for nd, f := range r.drops {
		if f.state == dropAbsent {
			r.start(nd, f, true)
		}
	}
}

// start watches folder nd, or polls it when it cannot be watched, and
// reads it: with tell, the messages not seen before are told.
func (r *watchRun) start(nd string, f *drop, tell bool) {
	if f.state == dropWatched {
		return
	}
	// Like a session, never through a user's link (a new/ linked to
	// another user's folder would announce that user's mail) nor into a
	// FIFO.
	if t, err := openTree(filepath.Dir(nd), false); err != nil {
		f.state, f.seen = dropAbsent, nil
		return
	} else {
		t.close()
	}
	addErr := errNoInotify
	if r.w != nil {
		if r.addWatch != nil {
			addErr = r.addWatch(r.w, nd)
		} else {
			addErr = r.w.Add(nd)
		}
	}
	// Read after the watch is in place: a message that comes in between
	// is in the read, and its event is skipped as seen.
	names, err := readNames(nd)
	if err != nil {
		if addErr == nil {
			r.w.Remove(nd)
		}
		if !errors.Is(err, os.ErrNotExist) && !f.readErr {
			r.Logger.Warn("reading a maildrop for deliveries", "user", f.user, "err", err)
		}
		f.state, f.seen, f.readErr = dropAbsent, nil, !errors.Is(err, os.ErrNotExist)
		return
	}
	f.readErr = false
	if tell {
		r.tell(f, names)
	}
	f.seen = names
	switch {
	case addErr == nil:
		f.state = dropWatched
	case f.state == dropPolled:
	case errors.Is(addErr, syscall.ENOSPC) || r.w == nil:
		f.state = dropPolled
		r.limitWarning(addErr)
	default:
		f.state = dropPolled
		r.Logger.Warn("cannot watch a maildrop for deliveries; reading it periodically instead",
			"user", f.user, "every", orDefault(r.Relist, 5*time.Second), "err", addErr)
	}
}

var errNoInotify = errors.New("maildir: no inotify watcher")

// limitWarning warns, once per Run, that some folders are polled because
// inotify ran out of watches or is not available.
func (r *watchRun) limitWarning(err error) {
	if r.warned {
		return
	}
	r.warned = true
	r.Logger.Warn("inotify cannot watch every maildrop (raise fs.inotify.max_user_watches or max_user_instances); "+
		"reading the others periodically for deliveries", "every", orDefault(r.Relist, 5*time.Second), "err", err)
}

// tell announces the messages in names that f has not seen, in name
// order (Maildir names start with the delivery time).
func (r *watchRun) tell(f *drop, names map[string]bool) {
	var fresh []string
	for n := range names {
		if !f.seen[n] {
			fresh = append(fresh, n)
		}
	}
	slices.Sort(fresh)
	for _, n := range fresh {
		r.Delivered(f.user, n)
	}
}

// event handles one inotify event.
func (r *watchRun) event(ev fsnotify.Event) {
	if f, ok := r.drops[ev.Name]; ok && f.state == dropWatched && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		f.state, f.seen = dropAbsent, nil // the folder itself went away
		return
	}
	dir, name := filepath.Split(ev.Name)
	f, ok := r.drops[filepath.Clean(dir)]
	if !ok || f.state != dropWatched || strings.HasPrefix(name, ".") || !ev.Has(fsnotify.Create) || f.seen[name] {
		return
	}
	r.Delivered(f.user, name)
}

// forget stops watching folder nd.
func (r *watchRun) forget(nd string, f *drop) {
	if f.state == dropWatched {
		r.w.Remove(nd)
	}
	delete(r.drops, nd)
}

// readNames lists the messages in folder nd (not dot files).
func readNames(nd string) (map[string]bool, error) {
	t, err := openTree(filepath.Dir(nd), false)
	if err != nil {
		return nil, err
	}
	defer t.close()
	names := make(map[string]bool)
	err = listFolder(t.folder[folderNew], func(batch []string) {
		for _, name := range batch {
			names[name] = true
		}
	})
	return names, err
}

// orDefault is d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
