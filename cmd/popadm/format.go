package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf16"
	"unicode/utf8"

	"popd/internal/human"
)

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
func (e *env) printJSON(v any) error { return e.writeJSON(v, "  ") }

// writeJSON writes v as JSON and a newline, indented by indent ("": on
// one line), with safeJSON's escapes.
func (e *env) writeJSON(v any, indent string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := e.stdout.Write(safeJSON(b.Bytes()))
	return err
}

// safeJSON escapes as \uXXXX the runes of encoded JSON that would act on a
// terminal (human.Unsafe) and that encoding/json leaves as they are (C1
// controls, format characters such as bidi overrides): the same JSON
// value, for scripts, and safe to print. Outside its strings JSON is
// ASCII, so every such rune is in a string.
func safeJSON(b []byte) []byte {
	unsafe := func(r rune) bool { return r >= utf8.RuneSelf && human.Unsafe(r) }
	if !bytes.ContainsFunc(b, unsafe) {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch r1, r2 := utf16.EncodeRune(r); {
		case !unsafe(r):
			out = append(out, b[:n]...)
		case r1 == utf8.RuneError:
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		}
		b = b[n:]
	}
	return out
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
