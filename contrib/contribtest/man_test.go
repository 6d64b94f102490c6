package contribtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"popd/internal/config"
)

// brokenPage has mistakes every checker reports (an unknown macro, an
// unclosed list): the checkers are run on it first, so that a checker
// that stopped reporting anything cannot pass the real pages.
const brokenPage = `.Dd November 30, 2026
.Dt BROKEN 8
.Os
.Sh NAME
.Nm broken
.Nd a page with mistakes
.Sh DESCRIPTION
.Foo bar
.Bl -tag
.It x
y
`

// manCheckers run a page through man-db, groff and mandoc; each returns
// what the tool said (nothing for a clean page).
var manCheckers = []struct {
	name, program, debPackage string
	check                     func(t *testing.T, page string) string
}{
	{"man", "man", "man-db", func(t *testing.T, page string) string {
		cmd := exec.Command("man", "--warnings", "-l", page)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
		out, errs, err := run(t, cmd)
		if err != nil {
			return "exit: " + err.Error() + "\n" + errs
		}
		if !strings.Contains(out, "NAME") {
			return "rendered without a NAME section:\n" + out
		}
		return errs
	}},
	{"groff", "groff", "groff-base", func(t *testing.T, page string) string {
		_, errs, err := run(t, exec.Command("groff", "-mandoc", "-ww", "-z", page))
		if err != nil {
			return "exit: " + err.Error() + "\n" + errs
		}
		return errs
	}},
	{"mandoc", "mandoc", "mandoc", func(t *testing.T, page string) string {
		// -Wwarning: warnings and errors; not the style notes, which
		// include "referenced manual not found" for pages not installed.
		out, errs, err := run(t, exec.Command("mandoc", "-Tlint", "-Wwarning", page))
		if err != nil {
			return "exit: " + err.Error() + "\n" + out + errs
		}
		return out + errs
	}},
}

func TestManPagesRenderWithoutWarnings(t *testing.T) {
	pages := manPages(t)
	broken := filepath.Join(t.TempDir(), "broken.8")
	if err := os.WriteFile(broken, []byte(brokenPage), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range manCheckers {
		t.Run(c.name, func(t *testing.T) {
			need(t, c.program, c.debPackage)
			if said := c.check(t, broken); said == "" {
				t.Fatalf("%s says nothing about a broken page: the check cannot see warnings", c.name)
			}
			for _, page := range pages {
				if said := c.check(t, page); said != "" {
					t.Errorf("%s: %s", filepath.Base(page), said)
				}
			}
		})
	}
}

// itemNames returns the names the page's list items (.It lines) give with
// the macro mac ("Fl", "Cm"): ".It Fl tls-cert Ar file , Fl tls-key Ar
// file" names tls-cert and tls-key. Only the section sh (".Sh OPTIONS")
// is read, or the whole page when sh is "".
func itemNames(t *testing.T, rel, sh, mac string) []string {
	t.Helper()
	word := regexp.MustCompile(`(?:^|\s)` + mac + `\s+(-?[a-z][a-z0-9-]*)`)
	in := sh == ""
	var names []string
	for line := range strings.Lines(read(t, rel)) {
		if strings.HasPrefix(line, ".Sh ") {
			in = sh == "" || strings.TrimSpace(line) == sh
		}
		if !in || !strings.HasPrefix(line, ".It ") {
			continue
		}
		for _, m := range word.FindAllStringSubmatch(line, -1) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// difference returns the elements of a that b lacks.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestPopdFlagsDocumented compares popd's flags, as popd -help lists them,
// with the items of popd.8's OPTIONS, both ways.
func TestPopdFlagsDocumented(t *testing.T) {
	out, errs, err := run(t, exec.Command(binary(t, "popd"), "-help"))
	if err != nil {
		t.Fatalf("popd -help: %v\n%s", err, errs)
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(out+errs, -1) {
		flags = append(flags, m[1])
	}
	slices.Sort(flags)
	flags = slices.Compact(flags)
	// Every setting is a flag: a help text that lists fewer cannot be
	// what this test reads.
	if n := reflect.TypeFor[config.Static]().NumField() + reflect.TypeFor[config.Live]().NumField(); len(flags) < n {
		t.Fatalf("popd -help lists %d flags, fewer than the %d settings:\n%s%s", len(flags), n, out, errs)
	}
	documented := itemNames(t, "docs/man/popd.8", ".Sh OPTIONS", "Fl")
	if missing := difference(flags, documented); len(missing) > 0 {
		t.Errorf("popd.8 OPTIONS does not document %v", missing)
	}
	if stale := difference(documented, flags); len(stale) > 0 {
		t.Errorf("popd.8 OPTIONS documents %v, which popd -help does not list", stale)
	}
}

// tomlKeys returns the keys of the configuration file: the toml tags of
// config.Static and config.Live.
func tomlKeys() []string {
	var keys []string
	for _, typ := range []reflect.Type{reflect.TypeFor[config.Static](), reflect.TypeFor[config.Live]()} {
		for i := range typ.NumField() {
			keys = append(keys, typ.Field(i).Tag.Get("toml"))
		}
	}
	slices.Sort(keys)
	return keys
}

// TestConfKeysDocumented checks that popd.conf.5 has an item for every key
// of the configuration, and none for a key that is not, and that each
// item gives the key's default: the value itself when it is not empty.
func TestConfKeysDocumented(t *testing.T) {
	keys := tomlKeys()
	documented := itemNames(t, "docs/man/popd.conf.5", ".Sh DESCRIPTION", "Cm")
	if missing := difference(keys, documented); len(missing) > 0 {
		t.Errorf("popd.conf.5 does not document %v", missing)
	}
	if stale := difference(documented, keys); len(stale) > 0 {
		t.Errorf("popd.conf.5 documents %v, which are not keys of config.Config", stale)
	}

	// The defaults, as popd -check -all would print them: key = value.
	var b strings.Builder
	config.Default().Write(&b, true)
	defaults := map[string]string{}
	for line := range strings.Lines(b.String()) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		if d, err := time.ParseDuration(v); err == nil && d == 0 {
			v = "" // none, like an empty string
		}
		defaults[k] = v
	}
	items := itemTexts(read(t, "docs/man/popd.conf.5"))
	for _, key := range keys {
		text, ok := items[key]
		if !ok {
			continue // reported above
		}
		if !strings.Contains(text, "Default") {
			t.Errorf("popd.conf.5: %s: no default given", key)
			continue
		}
		if v := defaults[key]; v != "" && !mentions(text, v) {
			t.Errorf("popd.conf.5: %s: the default is %s, not said", key, v)
		}
	}
}

// itemTexts maps each key an .It line names with Cm to the text of its
// item, up to the next .It or .El.
func itemTexts(page string) map[string]string {
	word := regexp.MustCompile(`(?:^|\s)Cm\s+([a-z][a-z0-9-]*)`)
	out := map[string]string{}
	var cur []string
	var text strings.Builder
	flush := func() {
		for _, k := range cur {
			out[k] = text.String()
		}
		cur = nil
		text.Reset()
	}
	for line := range strings.Lines(page) {
		switch {
		case strings.HasPrefix(line, ".It "):
			flush()
			for _, m := range word.FindAllStringSubmatch(line, -1) {
				cur = append(cur, m[1])
			}
		case strings.HasPrefix(line, ".El"), strings.HasPrefix(line, ".Sh "):
			flush()
		default:
			text.WriteString(line)
		}
	}
	flush()
	return out
}

// mentions reports whether text says value as a word: "1000" in "Default:
// 1000.", a duration in any spelling ("1m" as "60s").
func mentions(text, value string) bool {
	if d, err := time.ParseDuration(value); err == nil {
		for _, w := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(" \t\n\"().,;", r) }) {
			if e, err := time.ParseDuration(w); err == nil && e == d {
				return true
			}
		}
		return false
	}
	return regexp.MustCompile(`(^|[\s"(])` + regexp.QuoteMeta(value) + `($|[\s"),.;])`).MatchString(text)
}

// TestPopadmCommandsDocumented checks that every command popadm help lists
// has an item in popadm.8's COMMANDS.
func TestPopadmCommandsDocumented(t *testing.T) {
	out, errs, err := run(t, exec.Command(binary(t, "popadm"), "help"))
	if err != nil {
		t.Fatalf("popadm help: %v\n%s", err, errs)
	}
	var commands []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z-]*)(?: |$)`).FindAllStringSubmatch(out, -1) {
		commands = append(commands, m[1])
	}
	slices.Sort(commands)
	commands = slices.Compact(commands)
	if len(commands) < 10 {
		t.Fatalf("popadm help lists %d commands (%v): not the usage this test reads:\n%s", len(commands), commands, out)
	}
	documented := itemNames(t, "docs/man/popadm.8", ".Sh COMMANDS", "Cm")
	if missing := difference(commands, documented); len(missing) > 0 {
		t.Errorf("popadm.8 COMMANDS does not document %v", missing)
	}
}
