// Package themes holds popadm's colour themes: the built-in ones, embedded
// from the *.toml files beside this file, and the user's own.
//
// # Format
//
// A theme is a small file of key = "value" lines (a subset of TOML, so
// editors highlight it): blank lines and # comments are ignored, values are
// double-quoted strings (a bare number 0-255 is accepted too). The keys are
// semantic roles, not widgets:
//
//	text          normal text                    ok      good things (TLS, logged in)
//	muted         secondary text, labels         warn    needs a look (plaintext, stale)
//	accent        titles, sparklines, keys       error   failures, disconnected
//	border        boxes and separators           header  the logo and active tab (background)
//	selected      selected row (background)      header_text  text on header
//	selected_text selected row (text)
//	base          the theme the missing keys come from (default: "default")
//
// A colour is an ANSI number "0".."15", a 256-colour number "16".."255",
// "#rrggbb", or "" for the terminal's own default.
//
// # User themes
//
// Files named NAME.toml in $XDG_CONFIG_HOME/popadm/themes (or
// ~/.config/popadm/themes) add themes, or replace the built-in theme of the
// same name. A user theme need not set every key: the others come from its
// base, "default" unless it says otherwise.
package themes

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

//go:embed *.toml
var builtin embed.FS

// Default is the theme used when none is named.
const Default = "default"

// Env is the environment variable that names the theme.
const Env = "POPADM_THEME"

// Pick is the name of the theme to use, by precedence: flagValue (popadm
// --theme) when set, else $POPADM_THEME, else fileValue (theme = in
// popadm.toml), else Default. It does not check that the theme exists;
// Load does.
func Pick(flagValue, fileValue string) string {
	for _, n := range []string{flagValue, os.Getenv(Env), fileValue} {
		if n != "" {
			return n
		}
	}
	return Default
}

// Ext is the file name extension of theme files.
const Ext = ".toml"

// Theme is a semantic palette. Each colour is an ANSI number "0".."15", a
// 256-colour number, "#rrggbb", or "" for the terminal's default.
type Theme struct {
	Name         string
	Text         string
	Muted        string
	Accent       string
	Border       string
	Selected     string
	SelectedText string
	OK           string
	Warn         string
	Error        string
	Header       string
	HeaderText   string
}

// keys maps each file key to its field.
var keys = map[string]func(*Theme) *string{
	"text":          func(t *Theme) *string { return &t.Text },
	"muted":         func(t *Theme) *string { return &t.Muted },
	"accent":        func(t *Theme) *string { return &t.Accent },
	"border":        func(t *Theme) *string { return &t.Border },
	"selected":      func(t *Theme) *string { return &t.Selected },
	"selected_text": func(t *Theme) *string { return &t.SelectedText },
	"ok":            func(t *Theme) *string { return &t.OK },
	"warn":          func(t *Theme) *string { return &t.Warn },
	"error":         func(t *Theme) *string { return &t.Error },
	"header":        func(t *Theme) *string { return &t.Header },
	"header_text":   func(t *Theme) *string { return &t.HeaderText },
}

// Dir is the directory of the user's themes: $XDG_CONFIG_HOME/popadm/themes,
// or ~/.config/popadm/themes.
func Dir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "popadm", "themes"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("themes: no config directory: %w", err)
	}
	return filepath.Join(home, ".config", "popadm", "themes"), nil
}

// Load returns the theme called name: the user's file if there is one,
// else the built-in. Keys a theme leaves out come from its base theme.
func Load(name string) (Theme, error) {
	return load(name, 0)
}

func load(name string, depth int) (Theme, error) {
	if !validName(name) {
		return Theme{}, fmt.Errorf("themes: bad theme name %q", name)
	}
	if depth > 4 {
		return Theme{}, fmt.Errorf("themes: theme %q: base themes nest too deep", name)
	}
	src, data, err := find(name)
	if err != nil {
		return Theme{}, err
	}
	f, err := parse(src, data)
	if err != nil {
		return Theme{}, err
	}
	base, line := f.base, f.baseLine
	if base == "" && !(name == Default && src.builtin) {
		base = Default
	}
	var t Theme // the root, "default", leaves nothing out
	switch {
	case base == "":
	case base == name && src.builtin:
		return Theme{}, fmt.Errorf("themes: %s:%d: theme is its own base", src.path, line)
	case base == name: // a user theme building on the built-in of its name
		t, err = parseBuiltin(name)
	default:
		t, err = load(base, depth+1)
	}
	if err != nil {
		where := src.path
		if line > 0 {
			where += ":" + strconv.Itoa(line)
		}
		return Theme{}, fmt.Errorf("themes: %s: base %q: %w", where, base, unwrap(err))
	}
	for k, v := range f.values {
		*keys[k](&t) = v
	}
	t.Name = name
	return t, nil
}

// parseBuiltin loads a built-in theme, ignoring the user's file of that name.
func parseBuiltin(name string) (Theme, error) {
	data, err := builtin.ReadFile(name + Ext)
	if err != nil {
		return Theme{}, fmt.Errorf("themes: no built-in theme %q", name)
	}
	f, err := parse(source{path: "built-in " + name + Ext, builtin: true}, data)
	if err != nil {
		return Theme{}, err
	}
	var t Theme
	if name != Default {
		if t, err = parseBuiltin(Default); err != nil {
			return Theme{}, err
		}
	}
	for k, v := range f.values {
		*keys[k](&t) = v
	}
	t.Name = name
	return t, nil
}

func unwrap(err error) error {
	s := strings.TrimPrefix(err.Error(), "themes: ")
	return errors.New(s)
}

type source struct {
	path    string
	builtin bool
}

// find returns the file for a theme: the user's, else the built-in.
func find(name string) (source, []byte, error) {
	if dir, err := Dir(); err == nil {
		p := filepath.Join(dir, name+Ext)
		data, err := os.ReadFile(p)
		switch {
		case err == nil:
			return source{path: p}, data, nil
		case !errors.Is(err, fs.ErrNotExist):
			return source{}, nil, fmt.Errorf("themes: %w", err)
		}
	}
	data, err := builtin.ReadFile(name + Ext)
	if err != nil {
		names, _ := List()
		return source{}, nil, fmt.Errorf("themes: no theme %q (have %s)", name, strings.Join(names, ", "))
	}
	return source{path: "built-in " + name + Ext, builtin: true}, data, nil
}

// List returns the names of the built-in and the user's themes, sorted.
// A user theme directory that cannot be read is an error, with the
// built-in names still returned.
func List() ([]string, error) {
	var names []string
	ents, err := builtin.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("themes: %w", err)
	}
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), Ext))
	}
	var uerr error
	if dir, err := Dir(); err == nil {
		ents, err := os.ReadDir(dir)
		switch {
		case err == nil:
			for _, e := range ents {
				n, ok := strings.CutSuffix(e.Name(), Ext)
				if ok && !e.IsDir() && validName(n) {
					names = append(names, n)
				}
			}
		case !errors.Is(err, fs.ErrNotExist):
			uerr = fmt.Errorf("themes: %w", err)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), uerr
}

// validName keeps names to file names without paths: letters, digits, -_.
func validName(n string) bool {
	if n == "" || len(n) > 64 || n[0] == '.' || n[0] == '-' {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

type file struct {
	values   map[string]string
	base     string
	baseLine int
}

// parse reads key = "value" lines. Errors name the file, the line and the key.
func parse(src source, data []byte) (file, error) {
	f := file{values: map[string]string{}}
	seen := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		k, rest, ok := strings.Cut(line, "=")
		if !ok {
			return file{}, fmt.Errorf("themes: %s:%d: want key = \"value\", got %q", src.path, n, line)
		}
		k = strings.TrimSpace(k)
		if _, known := keys[k]; !known && k != "base" && k != "name" {
			return file{}, fmt.Errorf("themes: %s:%d: unknown key %q (keys: %s)", src.path, n, k, keyList())
		}
		v, err := value(strings.TrimSpace(rest))
		if err != nil {
			return file{}, fmt.Errorf("themes: %s:%d: key %q: %v", src.path, n, k, err)
		}
		if prev, dup := seen[k]; dup {
			return file{}, fmt.Errorf("themes: %s:%d: key %q set again (first on line %d)", src.path, n, k, prev)
		}
		seen[k] = n
		switch k {
		case "name": // informative; the file name names the theme
		case "base":
			if !validName(v) {
				return file{}, fmt.Errorf("themes: %s:%d: key \"base\": bad theme name %q", src.path, n, v)
			}
			f.base, f.baseLine = v, n
		default:
			if err := checkColour(v); err != nil {
				return file{}, fmt.Errorf("themes: %s:%d: key %q: %v", src.path, n, k, err)
			}
			f.values[k] = strings.ToLower(v)
		}
	}
	return f, nil
}

func keyList() string {
	ks := make([]string, 0, len(keys)+1)
	for k := range keys {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(append(ks, "base"), ", ")
}

// value reads a quoted string or a bare number, then an optional comment.
func value(s string) (string, error) {
	if s == "" {
		return "", errors.New("missing value")
	}
	var v, rest string
	if q := s[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return "", fmt.Errorf("unterminated string %s", s)
		}
		v, rest = s[1:1+end], strings.TrimSpace(s[2+end:])
		if strings.ContainsAny(v, "\\") {
			return "", fmt.Errorf("escapes are not supported in %s", s[:2+end])
		}
	} else {
		v, rest, _ = strings.Cut(s, "#")
		v = strings.TrimSpace(v)
		if _, err := strconv.ParseUint(v, 10, 8); err != nil {
			return "", fmt.Errorf("want a quoted string, got %s", v)
		}
		if rest != "" {
			rest = "#" + rest
		}
	}
	if rest != "" && rest[0] != '#' {
		return "", fmt.Errorf("unexpected %q after the value", rest)
	}
	return v, nil
}

// checkColour accepts "", 0-255 and #rrggbb.
func checkColour(v string) error {
	switch {
	case v == "":
		return nil
	case v[0] == '#':
		if len(v) == 7 {
			if _, err := strconv.ParseUint(v[1:], 16, 32); err == nil {
				return nil
			}
		}
	default:
		if _, err := strconv.ParseUint(v, 10, 8); err == nil {
			return nil
		}
	}
	return fmt.Errorf("bad colour %q (want \"0\"..\"255\", \"#rrggbb\" or \"\")", v)
}
