package config

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Every flag is in exactly one help group, and every TOML key is a flag.
func TestGroupsCoverEveryFlag(t *testing.T) {
	fs := newFlagSet(&Args{}, io.Discard)
	seen := map[string]string{}
	for _, g := range Groups {
		for _, name := range g.Flags {
			if fs.Lookup(name) == nil {
				t.Errorf("group %s names %q, which is not a flag", g.Name, name)
			}
			if other, dup := seen[name]; dup {
				t.Errorf("%q is in groups %s and %s", name, other, g.Name)
			}
			seen[name] = g.Name
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if seen[f.Name] == "" {
			t.Errorf("flag -%s is in no help group", f.Name)
		}
	})
	for _, k := range Keys() {
		if fs.Lookup(k) == nil {
			t.Errorf("TOML key %q has no flag", k)
		}
	}
}

func TestHelpGroupedWithDefaults(t *testing.T) {
	var out bytes.Buffer
	if _, err := Parse([]string{"--help"}, &out); err != flag.ErrHelp {
		t.Fatalf("--help: %v", err)
	}
	help := out.String()
	for _, want := range []string{
		"\nListening:\n", "\nTLS:\n", "\nLogins:\n", "\nLimits:\n", "\nMaildirs:\n", "\nControl:\n", "\nLogging:\n",
		"  -listen address ", "(default 127.0.0.1:1110)",
		"  -idle-timeout duration ", "autologout timer (default 10m0s)",
		"  -apop ", "(default off)",
		"  -tls-cert file ", "certificate chain file (PEM) (default none)",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	// The groups come in order: a flag of Listening before one of Logging.
	if strings.Index(help, "-listen ") > strings.Index(help, "-log-level") {
		t.Error("groups out of order")
	}
	// --flag is -flag.
	a, err := Parse([]string{"--listen=127.0.0.1:2110", "--apop"}, io.Discard)
	if err != nil || a.Config.Listen != "127.0.0.1:2110" || !a.Config.APOP {
		t.Errorf("--flag: %v %+v", err, a)
	}
}

// A problem names the flag, or the file and line of the key, or says the
// value is the default.
func TestExplain(t *testing.T) {
	file := filepath.Join(t.TempDir(), "popd.conf")
	os.WriteFile(file, []byte("# popd\nmaildir = \"/srv/mail/%u\"\n\nlisten-tls = \"0.0.0.0:995\"\n"), 0o600)
	a, err := Parse([]string{"-config", file, "-log-format", "yaml"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range a.Config.Problems() {
		got = append(got, a.Explain(p))
	}
	want := []string{
		file + `:4: listen-tls needs tls-cert and tls-key`,
		`-log-format "yaml": want text or json`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
	a, _ = Parse(nil, io.Discard)
	a.Config.Users = ""
	if got := a.Explain(a.Config.Problems()[0]); got != "users (default) is empty" {
		t.Errorf("default: %q", got)
	}
}

// Write prints what Load reads back: the non-defaults, or everything.
func TestWriteRoundTrip(t *testing.T) {
	c := Default()
	c.Listen = "0.0.0.0:110"
	c.IdleTimeout.Duration *= 2
	c.APOP = true
	c.Hostname = `mail "quoted" \ example`
	for _, all := range []bool{false, true} {
		var out bytes.Buffer
		c.Write(&out, all)
		file := filepath.Join(t.TempDir(), "popd.conf")
		os.WriteFile(file, out.Bytes(), 0o600)
		back := Default()
		if err := back.Load(file); err != nil {
			t.Fatalf("all=%v: %v\n%s", all, err, out.String())
		}
		if back != c {
			t.Errorf("all=%v: read back %+v, want %+v", all, back, c)
		}
		lines := strings.Count(out.String(), " = ")
		if !all && lines != 4 {
			t.Errorf("non-defaults: %d settings printed, want 4:\n%s", lines, out.String())
		}
		if all && lines != len(Keys()) {
			t.Errorf("all: %d settings printed, want %d", lines, len(Keys()))
		}
	}
}
