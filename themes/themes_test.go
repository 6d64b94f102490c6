package themes

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// userDir points the user theme directory at a fresh temporary one.
func userDir(t *testing.T) string {
	t.Helper()
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	dir := filepath.Join(cfg, "popadm", "themes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuiltinsLoad(t *testing.T) {
	userDir(t)
	names, err := List()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"colorblind", "dark", "default", "high-contrast", "light"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("List() = %v, want %v", names, want)
	}
	for _, n := range names {
		th, err := Load(n)
		if err != nil {
			t.Fatalf("Load(%q): %v", n, err)
		}
		if th.Name != n {
			t.Errorf("Load(%q).Name = %q", n, th.Name)
		}
		// Every role but text has a colour in every built-in theme.
		v := reflect.ValueOf(th)
		for i := range v.NumField() {
			f := v.Type().Field(i).Name
			if f == "Name" || f == "Text" {
				continue
			}
			if v.Field(i).String() == "" {
				t.Errorf("theme %s: %s is empty", n, f)
			}
		}
		if err := checkColour(th.Text); err != nil {
			t.Errorf("theme %s: %v", n, err)
		}
	}
}

func TestDefaultUsesTerminalPalette(t *testing.T) {
	userDir(t)
	th, err := Load(Default)
	if err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(th)
	for i := range v.NumField() {
		f, c := v.Type().Field(i).Name, v.Field(i).String()
		if f == "Name" || c == "" {
			continue
		}
		if n, err := strconv.Atoi(c); err != nil || n < 0 || n > 15 {
			t.Errorf("default theme %s = %q: want an ANSI colour 0-15", f, c)
		}
	}
}

func TestColorblindAvoidsRedGreen(t *testing.T) {
	userDir(t)
	th, err := Load("colorblind")
	if err != nil {
		t.Fatal(err)
	}
	// Okabe-Ito: good is blue, bad is vermillion.
	if th.OK != "#56b4e9" || th.Error != "#d55e00" {
		t.Errorf("colorblind ok/error = %s/%s", th.OK, th.Error)
	}
}

func TestPartialUserThemeFallsBack(t *testing.T) {
	dir := userDir(t)
	write(t, dir, "mine.toml", "# just the accent\naccent = \"#ff00ff\" # magenta\nok = 10\n")
	def, err := Load(Default)
	if err != nil {
		t.Fatal(err)
	}
	th, err := Load("mine")
	if err != nil {
		t.Fatal(err)
	}
	want := def
	want.Name, want.Accent, want.OK = "mine", "#ff00ff", "10"
	if th != want {
		t.Fatalf("Load(mine) = %+v\nwant %+v", th, want)
	}
}

func TestUserThemeBase(t *testing.T) {
	dir := userDir(t)
	write(t, dir, "night.toml", "base = \"dark\"\nerror = \"#ff0000\"\n")
	dark, _ := Load("dark")
	th, err := Load("night")
	if err != nil {
		t.Fatal(err)
	}
	want := dark
	want.Name, want.Error = "night", "#ff0000"
	if th != want {
		t.Fatalf("Load(night) = %+v\nwant %+v", th, want)
	}
}

func TestUserThemeOverridesBuiltin(t *testing.T) {
	dir := userDir(t)
	builtinDark, _ := Load("dark")
	write(t, dir, "dark.toml", "accent = \"1\"\n")
	th, err := Load("dark")
	if err != nil {
		t.Fatal(err)
	}
	if th.Accent != "1" {
		t.Errorf("user dark accent = %q", th.Accent)
	}
	// Without a base it builds on default, as every partial theme does.
	def, _ := Load(Default)
	if th.Text != def.Text || th.Text == builtinDark.Text {
		t.Errorf("user dark text = %q, want default's %q", th.Text, def.Text)
	}
	// With base = its own name it builds on the built-in of that name.
	write(t, dir, "dark.toml", "base = \"dark\"\naccent = \"1\"\n")
	th, err = Load("dark")
	if err != nil {
		t.Fatal(err)
	}
	if th.Accent != "1" || th.Text != builtinDark.Text {
		t.Errorf("user dark on built-in dark = %+v", th)
	}
}

func TestBrokenThemeErrors(t *testing.T) {
	dir := userDir(t)
	for _, tc := range []struct {
		name, text string
		want       []string // all in the error
	}{
		{"badcolour", "text = \"\"\naccent = \"blue\"\n", []string{"badcolour.toml:2", `"accent"`, `"blue"`}},
		{"badkey", "# c\n\nacent = \"1\"\n", []string{"badkey.toml:3", `unknown key "acent"`}},
		{"noequals", "accent \"1\"\n", []string{"noequals.toml:1", "key = \"value\""}},
		{"unquoted", "accent = blue\n", []string{"unquoted.toml:1", `"accent"`, "quoted"}},
		{"unterminated", "ok = \"#00ff00\n", []string{"unterminated.toml:1", `"ok"`, "unterminated"}},
		{"dup", "ok = \"1\"\nok = \"2\"\n", []string{"dup.toml:2", `"ok"`, "line 1"}},
		{"trailing", "ok = \"1\" x\n", []string{"trailing.toml:1", `"ok"`}},
		{"badbase", "base = \"nosuch\"\n", []string{"badbase.toml:1", `base "nosuch"`, "no theme"}},
		{"short", "warn = \"#fff\"\n", []string{"short.toml:1", `"warn"`}},
		{"range", "warn = \"256\"\n", []string{"range.toml:1", `"warn"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, dir, tc.name+".toml", tc.text)
			_, err := Load(tc.name)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file %s", err, p)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %s", err, w)
				}
			}
		})
	}
}

func TestBaseLoops(t *testing.T) {
	dir := userDir(t)
	write(t, dir, "a.toml", "base = \"b\"\n")
	write(t, dir, "b.toml", "base = \"a\"\n")
	if _, err := Load("a"); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("Load(a) = %v, want a nesting error", err)
	}
}

func TestListIncludesUserThemes(t *testing.T) {
	dir := userDir(t)
	write(t, dir, "zebra.toml", "accent = \"5\"\n")
	write(t, dir, "dark.toml", "accent = \"5\"\n") // overrides, listed once
	write(t, dir, "notes.txt", "not a theme\n")
	if err := os.Mkdir(filepath.Join(dir, "sub.toml"), 0o755); err != nil {
		t.Fatal(err)
	}
	names, err := List()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"colorblind", "dark", "default", "high-contrast", "light", "zebra"}
	if !slices.Equal(names, want) {
		t.Fatalf("List() = %v, want %v", names, want)
	}
}

func TestHomeConfigDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", home)
	d, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".config", "popadm", "themes"); d != want {
		t.Fatalf("Dir() = %q, want %q", d, want)
	}
}

func TestBadNames(t *testing.T) {
	userDir(t)
	for _, n := range []string{"", "../etc/passwd", "a/b", ".hidden", "nosuch"} {
		if _, err := Load(n); err == nil {
			t.Errorf("Load(%q) succeeded", n)
		}
	}
}

func TestPick(t *testing.T) {
	for _, tt := range []struct{ flag, env, file, want string }{
		{"", "", "", Default},
		{"", "", "night", "night"},
		{"", "dark", "night", "dark"},
		{"light", "dark", "night", "light"},
		{"light", "", "", "light"},
	} {
		t.Setenv(Env, tt.env)
		if got := Pick(tt.flag, tt.file); got != tt.want {
			t.Errorf("Pick(%q, %q) with $%s=%q = %q, want %q", tt.flag, tt.file, Env, tt.env, got, tt.want)
		}
	}
}
