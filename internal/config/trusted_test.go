package config

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTrustedLoginFrom(t *testing.T) {
	file := filepath.Join(t.TempDir(), "popd.toml")
	os.WriteFile(file, []byte(`trusted-login-from = "10.0.0.0/24, 192.0.2.7"`+"\n"), 0o600)
	a, err := Parse([]string{"-config", file}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Config.TrustedLoginFrom; got != "10.0.0.0/24, 192.0.2.7" {
		t.Errorf("trusted-login-from from the file = %q", got)
	}
	if err := a.Config.Validate(); err != nil {
		t.Error(err)
	}
	a, err = Parse([]string{"-config", file, "-trusted-login-from", "::1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Config.TrustedLoginFrom; got != "::1" {
		t.Errorf("-trusted-login-from did not win over the file: %q", got)
	}

	// A restart-only setting, as proxy-from is.
	b := a.Config
	b.TrustedLoginFrom = "127.0.0.1"
	if got := a.Config.Static.Changed(b.Static); !slices.Equal(got, []string{"trusted-login-from"}) {
		t.Errorf("Changed = %q, want trusted-login-from", got)
	}

	// A bad entry is named.
	for _, tc := range []struct{ key, list, want string }{
		{"trusted-login-from", "10.0.0.0/24, 10.0.0.300", `config: trusted-login-from: proxyproto: "10.0.0.300" is not an IP address`},
		{"trusted-login-from", "10.0.0.0/33", `config: trusted-login-from: proxyproto: "10.0.0.0/33" is not an IP network`},
		{"trusted-login-from", "nginx.example", `"nginx.example" is not an IP address`},
		{"trusted-login-from", "10.0.0.1,,10.0.0.2", "trusted-login-from: proxyproto: empty item 2"},
		{"proxy-from", "fe80::1%eth0", `config: proxy-from: proxyproto: "fe80::1%eth0": IPv6 zones are not supported`},
	} {
		c := Default()
		if tc.key == "proxy-from" {
			c.ProxyFrom = tc.list
		} else {
			c.TrustedLoginFrom = tc.list
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %q: Validate = %v, want %q", tc.key, tc.list, err, tc.want)
		}
	}
}
