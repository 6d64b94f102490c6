package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuthHTTPConfig: auth-http and fleet from the file and the flags;
// auth-http needs fleet; no POP3 listener only with auth-http.
func TestAuthHTTPConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "popd.toml")
	os.WriteFile(file, []byte("auth-http = \"127.0.0.1:9143\"\nfleet = \"/etc/popd/fleet.toml\"\nlisten = \"none\"\n"), 0o600)
	a, err := Parse([]string{"-config", file}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Config
	if c.AuthHTTP != "127.0.0.1:9143" || c.Fleet != "/etc/popd/fleet.toml" || c.ServesPOP3() {
		t.Errorf("from the file: auth-http %q, fleet %q, serves POP3 %v", c.AuthHTTP, c.Fleet, c.ServesPOP3())
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	a, err = Parse([]string{"-config", file, "-auth-http", "[::1]:80", "-fleet", "/f", "-listen", ""}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c := a.Config; c.AuthHTTP != "[::1]:80" || c.Fleet != "/f" || c.ServesPOP3() || c.Validate() != nil {
		t.Errorf("flags over the file: %q %q %v %v", c.AuthHTTP, c.Fleet, c.ServesPOP3(), c.Validate())
	}

	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.AuthHTTP = "127.0.0.1:9143" }, "auth-http needs fleet"},
		{func(c *Config) { c.AuthHTTP, c.Fleet = "no-port", "/f" }, "auth-http \"no-port\""},
		{func(c *Config) { c.Fleet = "/f" }, "is read only for auth-http"},
		{func(c *Config) { c.AuthHTTPKey = "/k" }, "is read only for auth-http"},
		{func(c *Config) { c.Listen = "none" }, "no POP3 listener is only for"},
		{func(c *Config) { c.Listen = "" }, "no POP3 listener is only for"},
	} {
		c := Default()
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate = %v, want an error with %q", err, tc.want)
		}
	}
	if !Default().ServesPOP3() {
		t.Error("the default serves no POP3")
	}
}
