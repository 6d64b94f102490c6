package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"popd/internal/control"
)

// printJSON writes v as indented JSON.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func (e *env) table(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		cols[i] = clean(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// clean makes s safe to print on a terminal: control characters (a client
// can put escape sequences in a command line) become "?".
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}

// duration is d for people: "45s", "3m12s", "2h", "2h5m", "3d4h".
func duration(d time.Duration) string {
	s := int64(max(d, 0) / time.Second)
	two := func(a int64, ua string, b int64, ub string) string {
		if b == 0 {
			return strconv.FormatInt(a, 10) + ua
		}
		return strconv.FormatInt(a, 10) + ua + strconv.FormatInt(b, 10) + ub
	}
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return two(s/60, "m", s%60, "s")
	case s < 86400:
		return two(s/3600, "h", s%3600/60, "m")
	}
	return two(s/86400, "d", s%86400/3600, "h")
}

// since is the time since t, humanized; "-" for the zero time.
func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration(time.Since(t))
}

// size is n bytes for people: "512 B", "12.3 KB", "4.5 MB", "1.2 GB".
func size(n int64) string {
	switch {
	case n < 1<<10:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// dash shows an empty value as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// list is a read-only listing command: fetch the values from popd, then
// print them as JSON (--json), as the empty message, or as a table.
func list[T any](e *env, name, usage string, args []string, fetch func(*control.Client) ([]T, error),
	empty string, header []string, row func(T) []string) error {
	fs := e.flags(name)
	asJSON := fs.Bool("json", false, "")
	if _, err := parse(fs, args, usage, 0, 0); err != nil {
		return err
	}
	c, err := e.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	vs, err := fetch(c)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(vs)
	}
	if len(vs) == 0 {
		fmt.Fprintln(e.stdout, empty)
		return nil
	}
	t := e.table(header...)
	for _, v := range vs {
		t.row(row(v)...)
	}
	return t.flush()
}
