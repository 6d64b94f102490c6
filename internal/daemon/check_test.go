package daemon

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"popd/internal/config"
	"popd/internal/testutil"
	"popd/internal/testutil/site"
)

func texts(ps []config.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Text() + "\n")
	}
	return b.String()
}

func TestCheckClean(t *testing.T) {
	s := site.New(t, []account{alice, {Name: "bob", Pass: "x"}})
	s.Cfg.AllowRoot = true
	s.Cfg.Control = filepath.Join(t.TempDir(), "control.sock")
	s.Cfg.TLSCert, s.Cfg.TLSKey, _ = testutil.Cert(t, t.TempDir(), "mail.example.org")
	s.Cfg.LogLevel = "warn"
	problems, notes := Check(s.Cfg)
	if len(problems) > 0 {
		t.Errorf("problems:\n%s", texts(problems))
	}
	n := texts(notes)
	for _, want := range []string{`users "` + s.Cfg.Users + `": 2 users`, `tls-cert "` + s.Cfg.TLSCert + `": `, "listen 127.0.0.1:0: free", "does not exist (yet)", `log-level "warn": failed logins`} {
		if !strings.Contains(n, want) {
			t.Errorf("notes lack %q:\n%s", want, n)
		}
	}
}

func TestCheckProblems(t *testing.T) {
	s := site.New(t, []account{alice})
	dir := t.TempDir()
	// A users file with a bad line and one it cannot check the password of.
	os.WriteFile(s.Cfg.Users, []byte("alice:{PLAIN}x\nbad line\nbob:{NOSUCH}y\n"), 0o600)
	certA, _, _ := testutil.Cert(t, t.TempDir(), "a.example")
	_, keyB, _ := testutil.Cert(t, t.TempDir(), "b.example")
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cfg := s.Cfg
	cfg.AllowRoot = true
	cfg.Control = filepath.Join(dir, "control.sock")
	cfg.TLSCert, cfg.TLSKey = certA, keyB
	cfg.Maildir = filepath.Join(dir, "shared")
	cfg.Listen = held.Addr().String()
	cfg.User = "no-such-user-popd"
	cfg.LogLevel = "loud"
	problems, _ := Check(cfg)
	got := texts(problems)
	for _, want := range []string{
		`log-level "loud": want debug, info, warn or error`,
		`users "` + cfg.Users + `": line 2: ignoring bad line`,
		`users "` + cfg.Users + `": line 3: user refused: cannot check the password`,
		`tls-cert "` + certA + `" and tls-key "` + keyB + `": tls: private key does not match public key`,
		`maildir "` + cfg.Maildir + `": every user would share the maildrop`,
		`user "no-such-user-popd": no such user`,
		`listen ` + cfg.Listen + `: in use by daemon.test (pid `,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	cfg.Users = filepath.Join(dir, "missing")
	cfg.Maildir = "mail/%u"
	problems, _ = Check(cfg)
	got = texts(problems)
	for _, want := range []string{`users "` + cfg.Users + `": no such file or directory`, `is a relative path`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}
