package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"popd/internal/testutil"
)

// Past the inotify watch limit the certificate watcher says so once and
// still picks up a renewed certificate, by looking at the files.
func TestCertificateWatchPastInotifyLimit(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := testCert(t, dir, "first")
	log, logged := testutil.Logger(t)
	cs, err := newCertStore(certFile, keyFile, log)
	if err != nil {
		t.Fatal(err)
	}
	cs.pollEvery = 20 * time.Millisecond
	cs.addWatch = func(_ *fsnotify.Watcher, dir string) error {
		return fmt.Errorf("inotify_add_watch %s: %w", dir, syscall.ENOSPC)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cs.Watch(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()
	subject := func() string {
		c, err := x509.ParseCertificate(cs.cert.Load().Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return c.Subject.CommonName
	}
	testutil.Eventually(t, 10*time.Second, "no warning", func() bool { return strings.Contains(logged.String(), "level=WARN") })
	testCert(t, dir, "second")
	testutil.Eventually(t, 10*time.Second, "the renewed certificate was not loaded", func() bool { return subject() == "second" })
	select {
	case err := <-done:
		t.Fatalf("the watcher stopped: %v", err)
	default:
	}
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logged)
	}
}
