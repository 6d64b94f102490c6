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
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// certStore holds the server certificate and swaps it in place when the
// files change or on SIGHUP: new handshakes get the new certificate, open
// sessions keep theirs.
type certStore struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]

	// pollEvery is how often the files are looked at when inotify cannot
	// watch them (a minute when zero).
	pollEvery time.Duration
	// addWatch starts watching dir; nil means w.Add. Tests use it to reach
	// the inotify watch limit.
	addWatch func(w *fsnotify.Watcher, dir string) error
}

func newCertStore(certFile, keyFile string, log *slog.Logger) (*certStore, error) {
	cs := &certStore{certFile: certFile, keyFile: keyFile, log: log}
	if err := cs.Reload(); err != nil {
		return nil, err
	}
	return cs, nil
}

// Reload reads the files again; on error the old certificate stays.
func (cs *certStore) Reload() error {
	c, err := tls.LoadX509KeyPair(cs.certFile, cs.keyFile)
	if err != nil {
		return fmt.Errorf("server: loading certificate: %w", err)
	}
	cs.cert.Store(&c)
	return nil
}

// Config is the TLS configuration for both STLS and implicit TLS: TLS 1.2
// at least (RFC 8314 §4.1; RFC 8996), the current certificate.
func (cs *certStore) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cs.cert.Load(), nil
		},
	}
}

// Watch reloads the certificate when its files change (certbot and the like
// replace them by rename, so the directories are watched), until ctx ends.
// Where inotify cannot watch them (past its watch limit, say) it says so
// once and looks at the files every pollEvery instead.
func (cs *certStore) Watch(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var errs <-chan error
	var poll <-chan time.Time
	if w, err := cs.watch(); err != nil {
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
	names := map[string]bool{filepath.Clean(cs.certFile): true, filepath.Clean(cs.keyFile): true}
	last := cs.stamp()
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errors.New("server: the certificate watcher closed its events")
			}
			if names[filepath.Clean(ev.Name)] {
				debounce = time.After(200 * time.Millisecond)
			}
		case err, ok := <-errs:
			if !ok {
				return errors.New("server: the certificate watcher closed its errors")
			}
			cs.log.Warn("watching certificate files", "err", err)
		case <-poll:
			if st := cs.stamp(); st != last {
				last = st
				debounce = time.After(200 * time.Millisecond)
			}
		case <-debounce:
			cs.reloadAndLog("files changed")
		}
	}
}

// watch starts an inotify watch on the directories of the files.
func (cs *certStore) watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{filepath.Dir(cs.certFile), filepath.Dir(cs.keyFile)} {
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
	return w, nil
}

// stamp sums up the files' state for polling: a replaced or rewritten file
// changes it.
func (cs *certStore) stamp() string {
	var b strings.Builder
	for _, f := range []string{cs.certFile, cs.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d %d|", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

func (cs *certStore) reloadAndLog(why string) {
	if err := cs.Reload(); err != nil {
		cs.log.Error("certificate not reloaded; keeping the old one", "why", why, "err", err)
		return
	}
	cs.log.Info("certificate reloaded", "why", why)
}
