package pop3

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// headerOf is the header as TOP n 0 sends it (topReader), the reference
// for asciiHeader.
func headerOf(msg string) string {
	b, _ := io.ReadAll(newTopReader(strings.NewReader(msg), 0))
	return string(b)
}

// asciiHeader is readHeader's verdict.
func asciiHeader(r io.Reader) (bool, error) {
	_, ascii, err := readHeader(r, make([]byte, 0, 16))
	return ascii, err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzASCIIHeader: asciiHeader judges exactly the octets TOP n 0 would
// send, however the reads split them.
func FuzzASCIIHeader(f *testing.F) {
	for _, s := range []string{
		"", "Subject: a\r\n\r\n\xe9\r\n", "Subject: \xc3\xa9\r\n\r\nb\r\n", "\r\n\xff", "\n\xff",
		"a\r\r\n\xff\r\n\r\n", "a\rb\r\n\xff\r\n", "no header end \xe9", "X: " + strings.Repeat("a", 40000) + "\xe9\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		want := isASCII(headerOf(msg))
		for _, r := range []io.Reader{strings.NewReader(msg), iotest.OneByteReader(strings.NewReader(msg))} {
			head, got, err := readHeader(r, make([]byte, 0, 16))
			if err != nil || got != want {
				t.Fatalf("readHeader(%q) = %v, %v; want %v", msg, got, err, want)
			}
			// What send goes on with: nothing read is lost.
			rest, _ := io.ReadAll(r)
			if string(head)+string(rest) != msg {
				t.Fatalf("readHeader(%q) lost octets: %q + %q", msg, head, rest)
			}
		}
	})
}

func TestASCIIHeaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("Subject: a\r\n"), iotest.ErrReader(boom))
	if ok, err := asciiHeader(r); ok || !errors.Is(err, boom) {
		t.Errorf("asciiHeader = %v, %v; want the read error", ok, err)
	}
	// The header is whole before the error: the body is never read.
	r = io.MultiReader(strings.NewReader("Subject: a\r\n\r\n"), iotest.ErrReader(boom))
	if ok, err := asciiHeader(r); !ok || err != nil {
		t.Errorf("asciiHeader = %v, %v; want true", ok, err)
	}
}

func TestPrepareName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"alice", "alice", nil},
		{"a-b.c+d@e.example", "a-b.c+d@e.example", nil},
		{"two  words", "two  words", nil},
		{"jose\u0301", "jos\u00e9", nil},
		{"jose\u0301 zoe\u0308", "jos\u00e9 zo\u00eb", nil},
		{"\uff41\uff4c\uff49\uff43\uff45", "alice", nil},
		{"\u05d0\u05d1", "\u05d0\u05d1", nil},
		{"Jos\u00e9", "Jos\u00e9", nil}, // case is kept
		{"jos\xe9", "", errNameNotUTF8},
		{"\xed\xa0\x80", "", errNameNotUTF8},
		{"a\x00b", "", errNameChars},
		{"a\tb", "", errNameChars},
		{"\ufb01ona", "", errNameChars},   // a compatibility ligature
		{"1\u05d0", "", errNameChars},     // the Bidi Rule
		{"a\u00a0b", "", errNameChars},    // a no-break space
		{"x\U000e0001", "", errNameChars}, // a tag
	} {
		got, err := prepareName(tc.in)
		if got != tc.want || err != tc.err {
			t.Errorf("prepareName(%+q) = %+q, %v; want %+q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
