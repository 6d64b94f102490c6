package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestThemesAndPrefs(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("POPADM_THEME", "")
	os.MkdirAll(filepath.Join(cfg, "popadm", "themes"), 0o700)
	os.WriteFile(filepath.Join(cfg, "popadm", "themes", "night.toml"), []byte("accent = \"13\"\n"), 0o600)

	r := run(t, "themes")
	if r.code != 0 || !strings.Contains(r.stdout, "* default") || !strings.Contains(r.stdout, "night") {
		t.Fatalf("popadm themes: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// The configuration file chooses the theme...
	os.WriteFile(filepath.Join(cfg, "popadm", "popadm.toml"), []byte("theme = \"night\"\n"), 0o600)
	if r := run(t, "themes"); !strings.Contains(r.stdout, "* night") {
		t.Fatalf("theme from popadm.toml not chosen: %q", r.stdout)
	}
	// ...$POPADM_THEME wins over it, --theme over both.
	t.Setenv("POPADM_THEME", "dark")
	if r := run(t, "themes"); !strings.Contains(r.stdout, "* dark") {
		t.Fatalf("POPADM_THEME not chosen: %q", r.stdout)
	}
	if r := run(t, "--theme", "light", "themes"); !strings.Contains(r.stdout, "* light") {
		t.Fatalf("--theme not chosen: %q", r.stdout)
	}
	// A broken configuration file names itself and the key.
	os.WriteFile(filepath.Join(cfg, "popadm", "popadm.toml"), []byte("colour = \"x\"\n"), 0o600)
	if r := run(t, "themes"); r.code != 1 || !strings.Contains(r.stderr, "popadm.toml") || !strings.Contains(r.stderr, "colour") {
		t.Fatalf("broken popadm.toml: %d %q", r.code, r.stderr)
	}
}
