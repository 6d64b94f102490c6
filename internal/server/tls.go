package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// certStore holds the server certificate and, when configured, the
// session ticket keys, and swaps them in place when their files change or
// on SIGHUP: new handshakes get the new ones, open sessions keep theirs.
type certStore struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]
	// reloadMu orders reloads (SIGHUP and the watcher may race): the
	// files read last are the ones in force. It guards the stamps too.
	reloadMu sync.Mutex
	// certStamp and ticketStamp are the files' stamps when last read, so
	// that Watch sees a change made before it started.
	certStamp, ticketStamp string
	// tls is the one configuration every handshake uses, so that ticket
	// keys set on it (or Go's own rotating ones) hold for them all.
	tls *tls.Config
	// ticketFile is the ticket keys file; empty: Go's automatic keys.
	ticketFile string

	// pollEvery is how often the files are looked at when inotify cannot
	// watch them (a minute when zero).
	pollEvery time.Duration
	// addWatch starts watching dir; nil means w.Add. Tests use it to reach
	// the inotify watch limit.
	addWatch func(w *fsnotify.Watcher, dir string) error
}

func newCertStore(certFile, keyFile string, log *slog.Logger) (*certStore, error) {
	cs := &certStore{certFile: certFile, keyFile: keyFile, log: log}
	if err := cs.reloadCert(); err != nil {
		return nil, err
	}
	// TLS 1.2 at least (RFC 8314 §4.1; RFC 8996), the current certificate.
	cs.tls = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cs.cert.Load(), nil
		},
	}
	return cs, nil
}

// useTicketKeys makes the keys in file (see ticketkeys.go) encrypt and
// decrypt session tickets from now on, and on every reload; it is called
// once, before Watch.
func (cs *certStore) useTicketKeys(file string) error {
	cs.reloadMu.Lock()
	defer cs.reloadMu.Unlock()
	cs.ticketStamp = stamp([]string{file})
	keys, err := readTicketKeys(file)
	if err != nil {
		return err
	}
	cs.tls.SetSessionTicketKeys(keys)
	cs.ticketFile = file
	return nil
}

// Reload reads the files again; on error the old certificate, or the old
// ticket keys, stay.
func (cs *certStore) Reload() error {
	return errors.Join(cs.reloadCert(), cs.reloadTicketKeys())
}

func (cs *certStore) reloadCert() error {
	cs.reloadMu.Lock()
	defer cs.reloadMu.Unlock()
	cs.certStamp = stamp([]string{cs.certFile, cs.keyFile})
	c, err := tls.LoadX509KeyPair(cs.certFile, cs.keyFile)
	if err != nil {
		return fmt.Errorf("server: loading certificate: %w", err)
	}
	cs.cert.Store(&c)
	return nil
}

// reloadTicketKeys reads the ticket keys file again, if there is one; on
// error the old keys stay, and it says so.
func (cs *certStore) reloadTicketKeys() error {
	if cs.ticketFile == "" {
		return nil
	}
	cs.reloadMu.Lock()
	defer cs.reloadMu.Unlock()
	cs.ticketStamp = stamp([]string{cs.ticketFile})
	keys, err := readTicketKeys(cs.ticketFile)
	if err != nil {
		cs.log.Warn("TLS ticket keys not reloaded; keeping the old ones", "err", err)
		return err
	}
	cs.tls.SetSessionTicketKeys(keys)
	cs.log.Info("TLS ticket keys reloaded", "file", cs.ticketFile, "keys", len(keys))
	return nil
}

// Config is the TLS configuration for both STLS and implicit TLS: the same
// one every time, which must not be changed.
func (cs *certStore) Config() *tls.Config { return cs.tls }

// watched is a set of files that are reloaded together.
type watched struct {
	files  []string
	reload func()
	loaded *string // the files' stamp when last read, under reloadMu
	last   string  // the stamp last seen
	due    bool    // changed; reloaded once the burst of changes is over
}

// Watch reloads the certificate, or the ticket keys, when their files
// change (certbot and the like replace them by rename, so the directories
// are watched), until ctx ends. Where inotify cannot watch them (past its
// watch limit, say) it says so once and looks at the files every
// pollEvery instead.
func (cs *certStore) Watch(ctx context.Context) error {
	sets := []*watched{{files: []string{cs.certFile, cs.keyFile}, loaded: &cs.certStamp, reload: func() {
		if err := cs.reloadCert(); err != nil {
			cs.log.Error("certificate not reloaded; keeping the old one", "why", "files changed", "err", err)
			return
		}
		cs.log.Info("certificate reloaded", "why", "files changed")
	}}}
	if cs.ticketFile != "" {
		sets = append(sets, &watched{files: []string{cs.ticketFile}, loaded: &cs.ticketStamp, reload: func() { cs.reloadTicketKeys() }})
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	var poll <-chan time.Time
	if w, err := cs.watch(sets); err != nil {
		every := cs.pollEvery
		if every <= 0 {
			every = time.Minute
		}
		cs.log.Warn("cannot watch the certificate files; looking at them periodically instead", "every", every, "err", err)
		t := time.NewTicker(every)
		defer t.Stop()
		poll = t.C
	} else {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}
	var debounce <-chan time.Time
	// changed marks the sets whose files are not as last seen.
	changed := func() {
		for _, s := range sets {
			if st := stamp(s.files); st != s.last {
				s.last, s.due = st, true
				debounce = time.After(200 * time.Millisecond)
			}
		}
	}
	// What changed before the watch began is reloaded too.
	cs.reloadMu.Lock()
	for _, s := range sets {
		s.last = *s.loaded
	}
	cs.reloadMu.Unlock()
	changed()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errors.New("server: the certificate watcher closed its events")
			}
			for _, s := range sets {
				for _, f := range s.files {
					if filepath.Clean(ev.Name) == filepath.Clean(f) {
						s.due = true
						debounce = time.After(200 * time.Millisecond)
					}
				}
			}
		case err, ok := <-errs:
			if !ok {
				return errors.New("server: the certificate watcher closed its errors")
			}
			cs.log.Warn("watching certificate files", "err", err)
		case <-poll:
			changed()
		case <-debounce:
			for _, s := range sets {
				if s.due {
					s.due = false
					s.reload()
				}
			}
		}
	}
}

// watch starts an inotify watch on the directories of the files.
func (cs *certStore) watch(sets []*watched) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{}
	for _, s := range sets {
		for _, f := range s.files {
			d := filepath.Dir(f)
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if cs.addWatch != nil {
				err = cs.addWatch(w, d)
			} else {
				err = w.Add(d)
			}
			if err != nil {
				w.Close()
				return nil, err
			}
		}
	}
	return w, nil
}

// stamp sums up the files' state for polling: a replaced or rewritten file
// changes it.
func stamp(files []string) string {
	var b strings.Builder
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d %d %o|", fi.Size(), fi.ModTime().UnixNano(), fi.Mode())
		}
	}
	return b.String()
}
