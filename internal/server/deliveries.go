package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"popd/internal/control"
	"popd/internal/event"
)

// deliveryRescan is how often maildirs that did not exist yet (a user's
// first delivery creates them) are looked for again; deliveryRelist how
// often the users table is read again for users added since.
const (
	deliveryRescan = 500 * time.Millisecond
	deliveryRelist = 5 * time.Second
)

// WatchDeliveries publishes a mail.delivered event whenever a message
// appears in the new/ folder of a known user's Maildir (the MTA renames it
// there from tmp/), until ctx is done. Maildirs of users added later, and
// created later, are picked up as they appear.
func (s *Server) WatchDeliveries(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	watched := map[string]string{} // new/ folder → user
	pending := map[string]string{} // new/ folders of users not watched yet
	// findPending lists the users' new/ folders not watched yet; it reads
	// the users table, so it runs only every deliveryRelist.
	findPending := func() {
		clear(pending)
		for _, u := range s.be.users.Users() {
			dir, err := MaildirPath(s.be.settings().template, u)
			if err != nil {
				continue
			}
			if nd := filepath.Join(dir, "new"); watched[nd] == "" {
				pending[nd] = u.Name
			}
		}
	}
	// watchPending starts watching the pending folders that exist now.
	// After the first time a folder that appears was made by a first
	// delivery, whose messages arrived before the watch: they are
	// announced now.
	watchPending := func(announce bool) {
		for nd, user := range pending {
			if fi, err := os.Stat(nd); err != nil || !fi.IsDir() {
				continue
			}
			delete(pending, nd)
			if err := w.Add(nd); err != nil {
				s.log.Warn("watching for deliveries", "user", user, "err", err)
				continue
			}
			watched[nd] = user
			if announce {
				ents, _ := os.ReadDir(nd)
				for _, de := range ents {
					if !strings.HasPrefix(de.Name(), ".") {
						s.publish(control.Event{Type: event.Delivered, User: user, Reason: de.Name()})
					}
				}
			}
		}
	}
	findPending()
	watchPending(false)
	tick := time.NewTicker(deliveryRescan)
	defer tick.Stop()
	relist := time.NewTicker(deliveryRelist)
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
			dir, name := filepath.Split(ev.Name)
			dir = filepath.Clean(dir)
			if _, ok := watched[ev.Name]; ok && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				delete(watched, ev.Name) // the folder itself went away
				continue
			}
			user, ok := watched[dir]
			if !ok || strings.HasPrefix(name, ".") || !ev.Has(fsnotify.Create) {
				continue
			}
			s.publish(control.Event{Type: event.Delivered, User: user, Reason: name})
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("watching for deliveries", "err", err)
		}
	}
}
