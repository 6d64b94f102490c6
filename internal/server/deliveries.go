package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"popd/internal/control"
)

// deliveryRescan is how often maildirs that did not exist yet (a user's
// first delivery creates them) are looked for again.
const deliveryRescan = 500 * time.Millisecond

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
	// scan adds the new/ folders not watched yet. After the first scan a
	// folder that appears was made by a first delivery, whose messages
	// arrived before the watch: they are announced now.
	scan := func(announce bool) {
		for _, u := range s.be.users.Users() {
			dir, err := MaildirPath(s.be.settings().template, u)
			if err != nil {
				continue
			}
			nd := filepath.Join(dir, "new")
			if _, ok := watched[nd]; ok {
				continue
			}
			if fi, err := os.Stat(nd); err != nil || !fi.IsDir() {
				continue
			}
			if err := w.Add(nd); err != nil {
				s.log.Warn("watching for deliveries", "user", u.Name, "err", err)
				continue
			}
			watched[nd] = u.Name
			if announce {
				ents, _ := os.ReadDir(nd)
				for _, de := range ents {
					if !strings.HasPrefix(de.Name(), ".") {
						s.publish(control.Event{Type: control.EventDelivered, User: u.Name, Reason: de.Name()})
					}
				}
			}
		}
	}
	scan(false)
	tick := time.NewTicker(deliveryRescan)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			scan(true)
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
			s.publish(control.Event{Type: control.EventDelivered, User: user, Reason: name})
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("watching for deliveries", "err", err)
		}
	}
}
