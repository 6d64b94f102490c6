// Package site makes a mail site for tests: a users file with real
// password hashes and a mail root in a temporary directory, a configuration
// that serves them on loopback, and deliveries the way an MTA makes them.
package site

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/config"
	"popd/internal/userdb"
)

// Account is a test user. The password is stored with the default scheme
// (bcrypt) unless Scheme says otherwise.
type Account struct{ Name, Pass, Scheme string }

// Site is a users file and a mail root in a temporary directory, and a
// configuration that serves them on a loopback port chosen by the system.
type Site struct {
	Dir string
	Cfg config.Config
}

// New writes the users file for accounts (each with a home under
// Dir/home/NAME) and returns a configuration with maildrops at
// Dir/mail/NAME, its state in Dir/state, a 50 ms failed-login delay, and
// listening on 127.0.0.1:0.
func New(t testing.TB, accounts []Account) *Site {
	t.Helper()
	dir := t.TempDir()
	var lines strings.Builder
	for _, a := range accounts {
		hash, err := userdb.Hash(a.Scheme, a.Pass)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&lines, "%s:%s::::%s::\n", a.Name, hash, filepath.Join(dir, "home", a.Name))
	}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Users = users
	cfg.Maildir = filepath.Join(dir, "mail", "%u")
	cfg.AuthFailureDelay.Duration = 50 * time.Millisecond
	cfg.Listen = "127.0.0.1:0"
	cfg.StateDir = filepath.Join(dir, "state") // not the machine's /var/lib/popd
	if err := os.Mkdir(cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	return &Site{Dir: dir, Cfg: cfg}
}

// Maildir is the maildrop of user name.
func (s *Site) Maildir(name string) string { return filepath.Join(s.Dir, "mail", name) }

// Deliver puts a message into name's new/ the way an MTA does (tmp/, then
// rename) and returns its file name. Names sort in delivery order.
func (s *Site) Deliver(t testing.TB, name, content string) string {
	t.Helper()
	md := s.Maildir(name)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	seq := deliverySeq.Add(1)
	file := fmt.Sprintf("%d.M%06dP%d.testhost", 1700000000+seq, seq, os.Getpid())
	tmp := filepath.Join(md, "tmp", file)
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(md, "new", file)); err != nil {
		t.Fatal(err)
	}
	return file
}

var deliverySeq atomic.Int64

// Files lists the message files in name's new/ and cur/ as "new/x",
// "cur/y".
func (s *Site) Files(t testing.TB, name string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(s.Maildir(name), sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, de := range ents {
			out = append(out, sub+"/"+de.Name())
		}
	}
	return out
}
