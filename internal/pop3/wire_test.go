package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", MaxLine-2)
	in := "STAT\r\n" + "noop\n" + long + "\r\n" + long + "xx\r\n" +
		strings.Repeat("y", 1<<20) + "\r\n" + "QUIT\r\n"
	expectLines(t, in, MaxLine, []lineOrErr{
		{"STAT", nil}, {"noop", nil}, {long, nil}, {"", errTooLong}, {"", errTooLong}, {"QUIT", nil}, {"", io.EOF},
	})
}

type lineOrErr struct {
	line string
	err  error
}

// expectLines reads in with readLine through a 1024-octet buffer, as a
// session does.
func expectLines(t *testing.T, in string, max int, want []lineOrErr) {
	t.Helper()
	r := bufio.NewReaderSize(strings.NewReader(in), 1024)
	for i, w := range want {
		got, err := readLine(r, max)
		if !errors.Is(err, w.err) || string(got) != w.line {
			t.Fatalf("line %d: got %q, %v; want %q, %v", i, got, err, w.line, w.err)
		}
	}
}

func TestReadLineLongerThanBuffer(t *testing.T) {
	// An AUTH response may be longer than the reader's buffer (RFC 5034
	// §4): up to max it is gathered, beyond it refused.
	const max = 8 * 1024
	fits := strings.Repeat("b", max-2)
	in := fits + "\r\n" + fits + "bb\r\n" + strings.Repeat("c", 3*max) + "\nnext\n"
	expectLines(t, in, max, []lineOrErr{
		{fits, nil}, {"", errTooLong}, {"", errTooLong}, {"next", nil}, {"", io.EOF},
	})
}

func TestReadLineUnterminated(t *testing.T) {
	// A megabyte without LF, then the client gives up: bounded memory, EOF.
	r := bufio.NewReaderSize(strings.NewReader(strings.Repeat("z", 1<<20)), 1024)
	if _, err := readLine(r, MaxLine); err != io.EOF {
		t.Fatalf("got %v, want EOF", err)
	}
}

func stuff(t *testing.T, r io.Reader) string {
	t.Helper()
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if _, err := writeStuffed(w, r); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return out.String()
}

func TestWriteStuffed(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ".\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"a\r\n.b\r\n..c\r\n.\r\n", "a\r\n..b\r\n...c\r\n..\r\n.\r\n"},
		{".start", "..start\r\n.\r\n"},
		{"x\r\n.", "x\r\n..\r\n.\r\n"},
		{"mid.dle\r\n", "mid.dle\r\n.\r\n"},
	}
	for _, c := range cases {
		if got := stuff(t, strings.NewReader(c.in)); got != c.want {
			t.Errorf("stuff(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := stuff(t, iotest.OneByteReader(strings.NewReader(c.in))); got != c.want {
			t.Errorf("one byte at a time: stuff(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWriteStuffedReadError(t *testing.T) {
	// The +OK is already out: a failing reader must not end the response
	// (the client would keep a truncated message); the caller hangs up.
	r := io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(errors.New("disk gone")))
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	var re *readError
	if _, err := writeStuffed(w, r); !errors.As(err, &re) {
		t.Fatalf("err = %v, want a readError", err)
	}
	w.Flush()
	if got := out.String(); got != "partial" {
		t.Fatalf("got %q", got)
	}
}

func TestTopReader(t *testing.T) {
	msg := "Subject: x\r\nFrom: y\r\n\r\nl1\r\nl2\r\nl3\r\n"
	cases := []struct {
		msg  string
		n    uint64
		want string
	}{
		{msg, 0, "Subject: x\r\nFrom: y\r\n\r\n"},
		{msg, 1, "Subject: x\r\nFrom: y\r\n\r\nl1\r\n"},
		{msg, 3, msg},
		{msg, 99999999, msg},
		{"Subject: only header\r\n", 5, "Subject: only header\r\n"},
		{"\r\nbody first\r\n", 0, "\r\n"},
		{"", 10, ""},
		{"A: b\r\n\r\nx\r\n\r\ny\r\n", 2, "A: b\r\n\r\nx\r\n\r\n"},
	}
	for _, c := range cases {
		for _, one := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.msg)
			if one {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(newTopReader(r, c.n))
			if err != nil || string(got) != c.want {
				t.Errorf("top(%q, %d, onebyte=%v) = %q, %v; want %q", c.msg, c.n, one, got, err, c.want)
			}
		}
	}
}

func TestNumber(t *testing.T) {
	for _, bad := range []string{"", "-1", "+1", "1x", "x", " 1", "1 ", "0x10", "1.0"} {
		if _, ok := number(bad); ok {
			t.Errorf("number(%q) accepted", bad)
		}
	}
	for s, want := range map[string]uint64{"0": 0, "1": 1, "007": 7, "4294967297": 4294967297, "99999999999999999999999": math.MaxUint64} {
		if n, ok := number(s); !ok || n != want {
			t.Errorf("number(%q) = %d, %v", s, n, ok)
		}
	}
}

// FuzzWriteStuffed checks that unstuffing the output gives back the input
// (plus a final CRLF where it lacked one) and that the terminator appears
// exactly once, at the end.
func FuzzWriteStuffed(f *testing.F) {
	for _, s := range []string{"", ".", "a\r\n.\r\n", "..\r\n", "x\r\n.y", "\r\n\r\n.\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		// Network form only: make every LF part of a CRLF.
		in = strings.ReplaceAll(strings.ReplaceAll(in, "\r", ""), "\n", "\r\n")
		out := stuff(t, strings.NewReader(in))
		// Chunks that end anywhere (in a CRLF, before a ".") stuff alike.
		for _, r := range []io.Reader{iotest.OneByteReader(strings.NewReader(in)), iotest.HalfReader(strings.NewReader(in))} {
			if o := stuff(t, r); o != out {
				t.Fatalf("in small reads: %q, in one: %q", o, out)
			}
		}
		if !strings.HasSuffix(out, ".\r\n") {
			t.Fatalf("no terminator: %q", out)
		}
		body := strings.TrimSuffix(out, ".\r\n")
		if strings.Contains("\r\n"+body, "\r\n.\r\n") {
			t.Fatalf("early terminator in %q", out)
		}
		lines := strings.SplitAfter(body, "\r\n")
		for i, l := range lines {
			lines[i] = strings.TrimPrefix(l, ".")
		}
		want := in
		if want != "" && !strings.HasSuffix(want, "\r\n") {
			want += "\r\n"
		}
		if got := strings.Join(lines, ""); got != want {
			t.Fatalf("round trip: got %q, want %q", got, want)
		}
	})
}
