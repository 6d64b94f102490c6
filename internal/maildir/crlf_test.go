package maildir_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"popd/internal/maildir"
)

// refCRLF is the network form the simple way, byte by byte.
func refCRLF(in []byte) []byte {
	var out []byte
	prevCR := false
	for _, c := range in {
		if c == '\n' && !prevCR {
			out = append(out, '\r')
		}
		out = append(out, c)
		prevCR = c == '\r'
	}
	if len(in) > 0 && in[len(in)-1] != '\n' {
		out = append(out, '\r', '\n')
	}
	return out
}

// chunkReader yields its data n bytes at a time (n cycles through sizes).
type chunkReader struct {
	data  []byte
	sizes []int
	k     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), r.sizes[r.k%len(r.sizes)])
	r.k++
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// readAllWith reads r into buffers of the given sizes, in turn.
func readAllWith(r io.Reader, sizes []int) ([]byte, error) {
	var out []byte
	buf := make([]byte, slices.Max(sizes))
	for k := 0; ; k++ {
		p := buf[:sizes[k%len(sizes)]]
		n, err := r.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if k > 1<<24 {
			return out, fmt.Errorf("no end")
		}
	}
}

type crlfCase struct {
	name, in, want string
}

func crlfCases() []crlfCase {
	long := strings.Repeat("x", 5000)
	b := maildir.CRLFBufSize
	return []crlfCase{
		{"empty", "", ""},
		{"crlf", "a\r\nb\r\n", "a\r\nb\r\n"},
		{"bare lf", "a\nb\n", "a\r\nb\r\n"},
		{"only lf", "\n", "\r\n"},
		{"blank lines lf", "\n\n\n", "\r\n\r\n\r\n"},
		{"blank lines crlf", "\r\n\r\n", "\r\n\r\n"},
		{"bare cr inside", "a\rb\r\n", "a\rb\r\n"},
		{"cr cr lf", "a\r\r\nb\n", "a\r\r\nb\r\n"},
		{"bare cr at end", "a\r", "a\r\r\n"},
		{"only cr", "\r", "\r\r\n"},
		{"lf cr", "\n\r", "\r\n\r\r\n"},
		{"mixed", "From: x\r\nTo: y\nSubject: z\r\n\nbody\rmore\n", "From: x\r\nTo: y\r\nSubject: z\r\n\r\nbody\rmore\r\n"},
		{"no trailing newline", "a\nlast", "a\r\nlast\r\n"},
		{"single byte", "x", "x\r\n"},
		{"nul and 8-bit", "a\x00b\xff\xfe\n\x00", "a\x00b\xff\xfe\r\n\x00\r\n"},
		{"dots", ".\n..\n.x\r\n.", ".\r\n..\r\n.x\r\n.\r\n"},
		{"long line", long + "\n" + long, long + "\r\n" + long + "\r\n"},
		{"crlf split at buffer", strings.Repeat("y", b-1) + "\r\nz\n", strings.Repeat("y", b-1) + "\r\nz\r\n"},
		{"lf at buffer start", strings.Repeat("y", b) + "\nz", strings.Repeat("y", b) + "\r\nz\r\n"},
		{"cr at buffer end", strings.Repeat("y", b-1) + "\rz", strings.Repeat("y", b-1) + "\rz\r\n"},
		{"cr at eof of buffer", strings.Repeat("y", b-1) + "\r", strings.Repeat("y", b-1) + "\r\r\n"},
		{"many bare lf over buffers", strings.Repeat("ab\n", b), strings.Repeat("ab\r\n", b)},
	}
}

func TestCRLFReader(t *testing.T) {
	srcs := map[string]func(string) io.Reader{
		"whole":   func(s string) io.Reader { return strings.NewReader(s) },
		"onebyte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"chunks":  func(s string) io.Reader { return &chunkReader{data: []byte(s), sizes: []int{2, 3, 7, 1}} },
		"halfeof": func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) },
	}
	dsts := [][]int{{64 << 10}, {1}, {2}, {3, 1, 2}, {4095}}
	for _, tc := range crlfCases() {
		if got := string(refCRLF([]byte(tc.in))); got != tc.want {
			t.Fatalf("%s: reference gives %q, want %q", tc.name, got, tc.want)
		}
		for _, chunk := range []int{1 << 30, 1, 2, 3, 4096} {
			if got := maildir.NetworkSize([]byte(tc.in), chunk); got != int64(len(tc.want)) {
				t.Errorf("%s: size (chunks of %d) %d, want %d", tc.name, chunk, got, len(tc.want))
			}
		}
		for sname, src := range srcs {
			for _, dst := range dsts {
				got, err := readAllWith(maildir.NewCRLFReader(src(tc.in)), dst)
				if err != nil {
					t.Fatalf("%s/%s/%v: %v", tc.name, sname, dst, err)
				}
				if string(got) != tc.want {
					t.Errorf("%s/%s/%v: got %q, want %q", tc.name, sname, dst, trunc(got), trunc([]byte(tc.want)))
				}
			}
		}
		if err := iotest.TestReader(maildir.NewCRLFReader(strings.NewReader(tc.in)), []byte(tc.want)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func trunc(b []byte) string {
	if len(b) > 80 {
		return fmt.Sprintf("%q...(%d bytes)", b[:80], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func TestCRLFReaderError(t *testing.T) {
	boom := fmt.Errorf("boom")
	r := maildir.NewCRLFReader(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)))
	got, err := io.ReadAll(r)
	if err != boom {
		t.Fatalf("err = %v, want boom", err)
	}
	if string(got) != "a\r\nb" {
		t.Fatalf("got %q before the error", got)
	}
}

// TestSizes checks that Size is exactly what Open yields, for every case,
// through real files.
func TestSizes(t *testing.T) {
	dir := t.TempDir()
	cases := crlfCases()
	for k, tc := range cases {
		deliver(t, dir, "new", fmt.Sprintf("%d.M%dP1.host", 1700000000+k, k), tc.in)
	}
	m := open(t, dir)
	if m.Count() != len(cases) {
		t.Fatalf("Count = %d, want %d", m.Count(), len(cases))
	}
	var total int64
	for k, tc := range cases {
		size, err := m.Size(k)
		if err != nil {
			t.Fatal(err)
		}
		if size != int64(len(tc.want)) {
			t.Errorf("%s: Size = %d, want %d", tc.name, size, len(tc.want))
		}
		total += size
		got := readMessage(t, m, k)
		if got != tc.want {
			t.Errorf("%s: Open gives %s, want %s", tc.name, trunc([]byte(got)), trunc([]byte(tc.want)))
		}
	}
	if got, err := m.TotalSize(); err != nil || got != total {
		t.Errorf("TotalSize = %d, %v; want %d", got, err, total)
	}
}

// TestBigMessage streams a 50 MB message.
func TestBigMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "msg"))
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("Lorem ipsum dolor sit amet, consectetur adipiscing elit\n")
	crline := []byte("sed do eiusmod tempor incididunt ut labore\r\n")
	var want int64
	for want < 50<<20 {
		f.Write(line)
		f.Write(crline)
		want += int64(len(line) + 1 + len(crline))
	}
	f.Close()
	os.MkdirAll(filepath.Join(dir, "md", "new"), 0o700)
	if err := os.Rename(filepath.Join(dir, "msg"), filepath.Join(dir, "md", "new", "1.M1P1.big")); err != nil {
		t.Fatal(err)
	}
	m := open(t, filepath.Join(dir, "md"))
	size, err := m.Size(0)
	if err != nil || size != want {
		t.Fatalf("Size = %d, %v; want %d", size, err, want)
	}
	r, err := m.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if err != nil || n != want {
		t.Fatalf("read %d, %v; want %d", n, err, want)
	}
}

func FuzzCRLFReader(f *testing.F) {
	for _, tc := range crlfCases() {
		if len(tc.in) < 1000 {
			f.Add([]byte(tc.in), uint8(1), uint8(3))
		}
	}
	f.Add([]byte("\r\r\n\n\r"), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, chunk, dst uint8) {
		want := refCRLF(in)
		src := &chunkReader{data: bytes.Clone(in), sizes: []int{int(chunk%17) + 1, 1, int(chunk) + 1}}
		got, err := readAllWith(maildir.NewCRLFReader(src), []int{int(dst%9) + 1, int(dst) + 1})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("in %q: got %q, want %q", in, got, want)
		}
		if n := maildir.NetworkSize(in, int(chunk%17)+1); n != int64(len(want)) {
			t.Fatalf("in %q: size %d, want %d", in, n, len(want))
		}
	})
}
