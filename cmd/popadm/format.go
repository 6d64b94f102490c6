package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"popd/internal/control"
	"popd/internal/human"
)

// query is a read-only command: fetch a value from popd, then print it as
// JSON (--json) or for people (show).
func query[T any](e *env, name, usage string, args []string,
	fetch func(*control.Client, context.Context) (T, error), show func(T) error) error {
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
	v, err := fetch(c, e.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(v)
	}
	return show(v)
}

// change is a command that changes one thing: open where (popd, or a
// users file), do the change, and print what do says was done.
func change[S io.Closer](e *env, open func() (S, error), do func(S) (done string, err error)) error {
	s, err := open()
	if err != nil {
		return err
	}
	defer s.Close()
	done, err := do(s)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, human.Clean(done))
	return nil
}

// printJSON writes v as indented JSON.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// show prints vs as a table with a row for each, or the empty message.
func show[T any](e *env, vs []T, empty string, header []string, row func(T) []string) error {
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

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func (e *env) table(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row writes one row, each column made safe to print.
func (t *table) row(cols ...string) {
	for i, c := range cols {
		cols[i] = human.Clean(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// dash shows an empty value as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
