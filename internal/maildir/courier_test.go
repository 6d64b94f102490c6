package maildir

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The lists below are in the form savepop3dlist writes (pop3dserver.C):
// fprintf(fp, "/%d %lu %lu\n", LISTVERSION, uid, uidv) and one
// fprintf(fp, "%s %lu %lu:%lu:%d\n", name, size, uid, uidv, isutf8) per
// message; version 2 (pop3dserver.c until 2018) wrote "%s %lu %lu:%lu\n".

type courierWant map[string]courierEntry

func TestParseCourierList(t *testing.T) {
	long := strings.Repeat("x", 2020)
	tests := []struct {
		name    string
		in      string
		version int
		uidv    uint64
		want    courierWant // nil: an error
	}{
		{"v3", "/3 4 1700000000\n" +
			"1699990000.M1P10.host:2,S 1024 1:1699990000:0\n" +
			"1699990001.M2P11.host:2, 2048 3:1700000000:1\n",
			3, 1700000000, courierWant{
				"1699990000.M1P10.host": {"UID1-1699990000", 1024},
				"1699990001.M2P11.host": {"UID3-1700000000", 2048},
			}},
		{"v2", "/2 4 1500000000\n" +
			"1400000000.1.host:2,S 512 1:1400000000\n" +
			"1400000001.2.host:2, 600 2:0\n" + // uidv 0: "UID%lu"
			"1400000002.3.host:2,S 700 0:1400000000\n" + // uid 0: the file name
			"1400000003.4.host:2,S 800 3\n", // no uidv: dropped since 2018
			2, 1500000000, courierWant{
				"1400000000.1.host": {"UID1-1400000000", 512},
				"1400000001.2.host": {"UID2", 600},
				"1400000002.3.host": {"1400000002.3.host", 700},
			}},
		{"v2 header, v3 lines", "/2 2 5\nA:2,S 1 1:5:1\n", 2, 5, courierWant{"A": {"UID1-5", 1}}},
		{"v3 header, v2 lines", "/3 2 5\nA:2,S 1 1:5\n", 3, 5, courierWant{"A": {"UID1-5", 1}}},
		{"uid 0 escaped", "/3 2 5\nit's a+\"b\":2,S 9 0:5:0\n", 3, 5,
			courierWant{"it's a+\"b\"": {"it+27s+20a+2B+22b+22", 9}}},
		{"no uidv in header", "/3 7\nA 1 1:5:0\n", 3, 0, courierWant{"A": {"UID1-5", 1}}},
		{"header sscanf", "/+3\t7  9 trailing\n", 3, 9, courierWant{}},
		{"header int truncated", "/4294967299 1 2\n", 3, 2, courierWant{}}, // (int)4294967299 == 3
		{"empty list", "/3 1 2\n", 3, 2, courierWant{}},
		{"header only, no LF", "/3 1 2", 3, 2, courierWant{}},
		{"truncated", "/3 3 2\nA:2,S 1 1:2:0\nB:2,S 2 2:2", 3, 2, courierWant{"A": {"UID1-2", 1}}},
		{"name with spaces", "/3 2 2\nA B  C:2,S 5 1:2:0\n", 3, 2, courierWant{"A B  C": {"UID1-2", 5}}},
		{"CRLF v3", "/3 2 2\r\nA:2,S 5 1:2:0\r\n", 3, 2, courierWant{"A": {"UID1-2", 5}}},
		{"CRLF v2", "/2 2 2\r\nA:2,S 5 1:2\r\n", 2, 2, courierWant{}}, // "1:2\r:0" stops at \r
		{"NUL ends a line", "/3 2 2\nA:2,S 5 1:2:0\x00 6 7:8:0\nB 6 2:2:0\n", 3, 2,
			courierWant{"A": {"UID1-2", 5}, "B": {"UID2-2", 6}}},
		{"skipped lines", "/3 2 2\n\nA\nA 1\n 1 1:2:0\nB x 1:2:0\nC 1 1;2:0\nD 1 1:2:x\nE 1 1:2:0\n", 3, 2,
			courierWant{"E": {"UID1-2", 1}}},
		{"spaces in numbers", "/3 2 2\nA 1\t 1:\t2:\n", 3, 2, courierWant{}}, // ":\n" + ":0": %d sees ":0"
		{"space after colon", "/3 2 2\nA 1 1:\t2:\v7\n", 3, 2, courierWant{"A": {"UID1-2", 1}}},
		{"negative and huge", "/3 2 2\nA -1 -1:2:0\nB 99999999999999999999 99999999999999999999:0:0\n", 3, 2,
			courierWant{"A": {"UID18446744073709551615-2", -1}, "B": {"UID18446744073709551615", -1}}},
		{"duplicate base name", "/3 3 2\nA:2,S 1 1:2:0\nA:2,T 2 2:2:0\nA 3 3:2:0\n", 3, 2,
			courierWant{"A": {"UID1-2", 1}}},
		{"folder in name", "/3 2 2\nnew/A:2,S 1 1:2:0\n:/B 2 0:0:0\nx/ 3 3:2:0\n", 3, 2,
			courierWant{"A": {"UID1-2", 1}, "B": {"B", 2}}},
		{"no info suffix", "/3 2 2\nA 1 1:2:0\n", 3, 2, courierWant{"A": {"UID1-2", 1}}},
		// readpop3dlist keeps 2028 octets of a line: the end of this one
		// is cut to "... 100 1:2", which still scans (the utf8 field is the
		// ":0" appended).
		{"long line cut", "/3 2 2\n" + long + " 100 1:2:0\n", 3, 2, courierWant{long: {"UID1-2", 100}}},
		{"long line cut to nothing", "/3 2 2\n" + long + "xxxx 100 1:2:0\n", 3, 2, courierWant{}},
		// fgets reads 2046 octets of the header: the rest is an entry.
		{"long header", "/3 1 2" + strings.Repeat(" ", 2040) + "X 5 1:2:0\n", 3, 2, courierWant{"X": {"UID1-2", 5}}},

		{"empty", "", 0, 0, nil},
		{"v1", "/1 3\nA 512 1\n", 0, 0, nil},
		{"v4", "/4 3 5\nA 512 1:5:0\n", 0, 0, nil},
		{"v0, no header", "A:2,S 512\n", 0, 0, nil},
		{"no uid in header", "/3\nA 1 1:2:0\n", 0, 0, nil},
		{"bad uid in header", "/3 x 5\nA 1 1:2:0\n", 0, 0, nil},
		{"space before slash", " /3 1 2\n", 0, 0, nil},
		{"NUL in header", "/3\x00 1 2\n", 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := parseCourierList([]byte(tc.in))
			if tc.want == nil {
				if err == nil {
					t.Fatalf("got %+v, want an error", l)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.version != tc.version || l.uidValidity != tc.uidv {
				t.Errorf("version %d, uidValidity %d; want %d, %d", l.version, l.uidValidity, tc.version, tc.uidv)
			}
			if !maps.Equal(l.entries, map[string]courierEntry(tc.want)) {
				t.Errorf("entries\n%+v\nwant\n%+v", l.entries, tc.want)
			}
		})
	}
}

func TestCourierFallbackUIDL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1699990000.M1P10.host:2,S", "1699990000.M1P10.host"},
		{"cur/1699990000.M1P10.host:2,S", "1699990000.M1P10.host"},
		{"new/1699990000.M1P10.host", "1699990000.M1P10.host"},
		{"a:b:2,S", "a"},
		{"a+b", "a+2Bb"},
		{"it's", "it+27s"},
		{`say "hi"`, "say+20+22hi+22"},
		{"tab\there", "tab+09here"},
		{"\x01\x1f\x20\x21\x7e\x7f\x80\xff", "+01+1F+20!~+7F+80+FF"},
		{"é", "+C3+A9"},
		{"+2B", "+2B2B"}, // not reversible either way
		{"!#$%&()*,-.;<=>?@[\\]^_`{|}", "!#$%&()*,-.;<=>?@[\\]^_`{|}"},
		{"", ""},
		{":2,S", ""},
		{"cur/:2,S", ""},
		// Courier bounds nothing: 25 spaces make 75 octets, more than
		// RFC 1939 allows, and Courier prints them.
		{strings.Repeat(" ", 25), strings.Repeat("+20", 25)},
		{strings.Repeat("a", 100) + ":2,", strings.Repeat("a", 100)},
	}
	for _, tc := range tests {
		if got := courierFallbackUIDL(tc.in); got != tc.want {
			t.Errorf("courierFallbackUIDL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQmailUIDL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"new/1234567890.12345.host", "1234567890.12345.host"},
		{"cur/1234567890.12345.host:2,S", "1234567890.12345.host"},
		{"1234567890.12345.host:2,S", "1234567890.12345.host"},
		// qmail-pop3d's QUIT renames new/X:y to cur/X:y:2, (it appends).
		{"cur/1234567890.12345.host:y:2,", "1234567890.12345.host"},
		{"a+b it's", "a+b it's"}, // nothing escaped
		{"\xff\x01", "\xff\x01"},
		{":2,S", ""},
		{"", ""},
		{strings.Repeat("q", 80), strings.Repeat("q", 80)}, // nothing bounded
	}
	for _, tc := range tests {
		if got := qmailUIDL(tc.in); got != tc.want {
			t.Errorf("qmailUIDL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReadCourierList(t *testing.T) {
	tests := []struct {
		file    string
		version int
		want    courierWant // nil: an error
	}{
		{"v3", 3, courierWant{
			"1699990000.M1P10.mail.example.com": {"UID1-1699990000", 1024},
			"1699990001.M2P11.mail.example.com": {"UID2-1699990000", 2048},
			"1699990002.M3P12.mail.example.com": {"UID5-1700000000", 77},
		}},
		{"v2", 2, courierWant{
			"1400000000.12345.old.example.com": {"UID1-1400000000", 512},
			"1400000001.12346.old.example.com": {"UID2", 600},
			"1400000002.12347.old.example.com": {"1400000002.12347.old.example.com", 700},
		}},
		{"truncated", 3, courierWant{"1699990000.M1P10.mail.example.com": {"UID1-1699990000", 1024}}},
		{"v1", 0, nil},
		{"v0", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "courier", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, courierListName), data, 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := readCourierList(openDirFD(t, dir))
			if tc.want == nil {
				if err == nil {
					t.Fatalf("got %+v, want an error", l)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.version != tc.version || !maps.Equal(l.entries, map[string]courierEntry(tc.want)) {
				t.Errorf("version %d, entries\n%+v\nwant %d,\n%+v", l.version, l.entries, tc.version, tc.want)
			}
		})
	}
}

func TestReadCourierListNotAFile(t *testing.T) {
	dir := t.TempDir()
	fd := openDirFD(t, dir)
	p := filepath.Join(dir, courierListName)
	if l, err := readCourierList(fd); l != nil || err != nil {
		t.Fatalf("missing list: %v, %v; want nil, nil", l, err)
	}
	makers := map[string]func() error{
		"fifo":    func() error { return syscall.Mkfifo(p, 0o600) },
		"symlink": func() error { return os.Symlink(filepath.Join("testdata", "courier", "v3"), p) },
		"dir":     func() error { return os.Mkdir(p, 0o700) },
		"too large": func() error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(maxCourierList + 1)
		},
	}
	for name, mk := range makers {
		t.Run(name, func(t *testing.T) {
			os.RemoveAll(p)
			if err := mk(); err != nil {
				t.Fatal(err)
			}
			if l, err := readCourierList(fd); err == nil {
				t.Fatalf("got %+v, want an error", l)
			}
		})
	}
}

func openDirFD(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// FuzzParseCourierList checks that no list makes the parser panic, and
// that what it returns is as documented.
func FuzzParseCourierList(f *testing.F) {
	for _, name := range []string{"v3", "v2", "truncated", "v1", "v0"} {
		data, err := os.ReadFile(filepath.Join("testdata", "courier", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"/3 1 2\n", "/2 2 2\nA:2,S 5 1:2\n", "/3 2 2\nA -1 -1:2:0\n", "/3 2 2\nB 1 0:0:0\n",
		"/3 2 2\n\x00 1 1:1:1\n", "/-3 1\n", "/2 0\n:/0 0 0:0\n",
	} {
		// No seeds of 2 KB lines (the table tests have them): the fuzzer
		// spends its time minimizing what it finds from them.
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parseCourierList(data)
		if err != nil {
			if l != nil {
				t.Fatal("a list and an error")
			}
			return
		}
		if l.version != 2 && l.version != 3 {
			t.Fatalf("version %d", l.version)
		}
		for base, e := range l.entries {
			if strings.ContainsAny(base, ":\x00\n") {
				t.Fatalf("base name %q", base)
			}
			if e.size < -1 {
				t.Fatalf("size %d", e.size)
			}
			if !strings.HasPrefix(e.uidl, "UID") || !validUID(e.uidl) {
				if e.uidl != courierFallbackUIDL(base) {
					t.Fatalf("%q: uidl %q", base, e.uidl)
				}
			}
		}
	})
}
