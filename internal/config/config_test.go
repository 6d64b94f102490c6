package config

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "popd.toml")
	os.WriteFile(file, []byte(`
listen = "127.0.0.1:2110"
maildir = "/srv/mail/%d/%n"
idle-timeout = "20m"
expire = "NEVER"
`), 0o600)
	a, err := Parse([]string{"-config", file, "-idle-timeout", "15m"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Config
	if c.Listen != "127.0.0.1:2110" || c.Maildir != "/srv/mail/%d/%n" || c.Expire != "NEVER" {
		t.Errorf("file not applied: %+v", c)
	}
	if c.IdleTimeout.Duration != 15*time.Minute {
		t.Errorf("flag did not win over the file: idle-timeout %v", c.IdleTimeout)
	}
	if c.Users != Default().Users {
		t.Errorf("default lost: users %q", c.Users)
	}
	if !a.IsSet("idle-timeout") || a.IsSet("listen") {
		t.Error("IsSet wrong")
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-config", write("typo.toml", "lissen = \"x\"\n")}, `typo.toml:1: unknown key "lissen" (did you mean "listen"?)`},
		{[]string{"-config", write("bad.toml", "# popd\nlisten = \n")}, "bad.toml:2: "},
		{[]string{"-config", write("dur.toml", "\n\nidle-timeout = \"ten\"\n")}, "dur.toml:3: idle-timeout: "},
		{[]string{"-idle-timeout", "x"}, "invalid value"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		_, err := Parse(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Listen = "no-port" },
		func(c *Config) { c.Maildir = "" },
		func(c *Config) { c.Users = "" },
		func(c *Config) { c.IdleTimeout.Duration = 0 },
		func(c *Config) { c.LockStale.Duration = time.Second },
		func(c *Config) { c.LogLevel = "loud" },
		func(c *Config) { c.LogFormat = "xml" },
		func(c *Config) { c.TLSTicketKeys = "/etc/popd/ticket-keys" }, // no certificate
	} {
		c := Default()
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("Validate accepted %+v", c)
		}
	}
}

func TestStaticChanged(t *testing.T) {
	a, b := Default(), Default()
	if got := a.Static.Changed(b.Static); len(got) != 0 {
		t.Fatalf("no change reported as %q", got)
	}
	b.Listen, b.LogLevel = "127.0.0.1:1", "debug"
	b.IdleTimeout.Duration = time.Hour // Live: not Static's business
	if got := a.Static.Changed(b.Static); !slices.Equal(got, []string{"listen", "log-level"}) {
		t.Fatalf("Changed = %q, want listen, log-level", got)
	}
}

func TestParseTLSTicketKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "popd.toml")
	os.WriteFile(file, []byte(`
tls-cert = "/etc/popd/cert.pem"
tls-key = "/etc/popd/key.pem"
tls-ticket-keys = "/etc/popd/ticket-keys"
`), 0o600)
	a, err := Parse([]string{"-config", file}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Config.TLSTicketKeys; got != "/etc/popd/ticket-keys" {
		t.Errorf("tls-ticket-keys from the file = %q", got)
	}
	if err := a.Config.Validate(); err != nil {
		t.Error(err)
	}
	a, err = Parse([]string{"-config", file, "-tls-ticket-keys", "/run/keys"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Config.TLSTicketKeys; got != "/run/keys" {
		t.Errorf("-tls-ticket-keys did not win over the file: %q", got)
	}
	c := Default()
	c.TLSTicketKeys = "/run/keys"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "tls-ticket-keys needs tls-cert") {
		t.Errorf("Validate without a certificate = %v", err)
	}
}
