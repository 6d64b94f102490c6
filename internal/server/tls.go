package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
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
func (cs *certStore) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	dirs := map[string]bool{filepath.Dir(cs.certFile): true, filepath.Dir(cs.keyFile): true}
	for d := range dirs {
		if err := w.Add(d); err != nil {
			return err
		}
	}
	names := map[string]bool{filepath.Clean(cs.certFile): true, filepath.Clean(cs.keyFile): true}
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.Events:
			if names[filepath.Clean(ev.Name)] {
				debounce = time.After(200 * time.Millisecond)
			}
		case err := <-w.Errors:
			cs.log.Warn("watching certificate files", "err", err)
		case <-debounce:
			cs.reloadAndLog("files changed")
		}
	}
}

func (cs *certStore) reloadAndLog(why string) {
	if err := cs.Reload(); err != nil {
		cs.log.Error("certificate not reloaded; keeping the old one", "why", why, "err", err)
		return
	}
	cs.log.Info("certificate reloaded", "why", why)
}
