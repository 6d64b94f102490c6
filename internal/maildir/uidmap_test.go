package maildir_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"popd/internal/maildir"
)

// A maildir Dovecot served: its dovecot-uidlist (version 3, UIDVALIDITY
// 1700000000 = 0x6553f100) lists three messages; a fourth came after.
// Dovecot numbered the second delivery first.
const uidlist = "3 V1700000000 N4 G3085f01b8e2a5a6582190000d9ba4bf0\n" +
	"1 :1700000002.M2P1.host\n" +
	"2 :1700000001.M1P1.host\n" +
	"3 Pcustom-uidl :1700000003.M3P1.host\n"

func dovecotMaildir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	deliver(t, dir, "cur", "1700000001.M1P1.host:2,S", "one\n")
	deliver(t, dir, "cur", "1700000002.M2P1.host:2,", "two\n")
	deliver(t, dir, "new", "1700000003.M3P1.host", "three\n")
	deliver(t, dir, "new", "1700000004.M4P1.host", "four\n")
	if err := os.WriteFile(filepath.Join(dir, "dovecot-uidlist"), []byte(uidlist), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mustOpen is openOpt that fails the test on an error.
func mustOpen(t *testing.T, dir string, opt maildir.Options) *maildir.Mailbox {
	t.Helper()
	m, err := openOpt(t, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDovecotUIDLs: messages in dovecot-uidlist keep Dovecot's UIDLs
// (%08Xu%08Xv; P wins) in Dovecot's order (by UID); one it never listed
// gets its base name, after them.
func TestDovecotUIDLs(t *testing.T) {
	dir := dovecotMaildir(t)
	before, _ := os.ReadFile(filepath.Join(dir, "dovecot-uidlist"))
	m := mustOpen(t, dir, maildir.Options{})
	want := []string{"000000016553f100", "000000026553f100", "custom-uidl", "1700000004.M4P1.host"}
	if got := readMessage(t, m, 0); got != "two\r\n" {
		t.Errorf("message 1 is %q, want Dovecot's first (UID 1), two", got)
	}
	if got := uids(m); !slices.Equal(got, want) {
		t.Fatalf("UIDLs %q, want %q", got, want)
	}
	if err := m.Update(nil, []int{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if after, _ := os.ReadFile(filepath.Join(dir, "dovecot-uidlist")); string(after) != string(before) {
		t.Errorf("dovecot-uidlist changed:\n%s", after)
	}
	// The next session, after the moves to cur/: the same.
	m = mustOpen(t, dir, maildir.Options{})
	if got := uids(m); !slices.Equal(got, want) {
		t.Errorf("second session: UIDLs %q, want %q", got, want)
	}
}

// TestUIDLsNeverChange: Dovecot (still serving IMAP) later lists the
// message popd showed with its base name; popd keeps the UIDL it showed.
// Without popd-uidls, the messages Dovecot had listed keep theirs still.
func TestUIDLsNeverChange(t *testing.T) {
	dir := dovecotMaildir(t)
	m := mustOpen(t, dir, maildir.Options{})
	shown := uids(m)
	m.Close()
	os.WriteFile(filepath.Join(dir, "dovecot-uidlist"),
		[]byte(uidlist+"4 :1700000004.M4P1.host\n"), 0o600)
	m = mustOpen(t, dir, maildir.Options{})
	if got := uids(m); !slices.Equal(got, shown) {
		t.Errorf("after Dovecot listed message 4: %q, want %q", got, shown)
	}
	m.Close()
	// A truncated, corrupt or huge dovecot-uidlist changes nothing popd
	// showed.
	for _, bad := range []string{uidlist[:40], "3 V1700000000 N4\nX :garbage\n", uidlist + strings.Repeat("9", 1<<20)} {
		os.WriteFile(filepath.Join(dir, "dovecot-uidlist"), []byte(bad), 0o600)
		m = mustOpen(t, dir, maildir.Options{})
		// (The numbering may change: Dovecot's order is unknown.)
		if got := uids(m); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(shown))) {
			t.Errorf("with a broken dovecot-uidlist: %q, want %q", got, shown)
		}
		m.Close()
	}
	os.WriteFile(filepath.Join(dir, "dovecot-uidlist"), []byte(uidlist+"4 :1700000004.M4P1.host\n"), 0o600)
	os.Remove(filepath.Join(dir, "popd-uidls"))
	m = mustOpen(t, dir, maildir.Options{})
	if got := uids(m); !slices.Equal(got[:3], shown[:3]) {
		t.Errorf("without popd-uidls: %q, want %q for Dovecot's", got, shown[:3])
	}
}

// TestUIDLFormats: pop3-uidl-format in the 2.3 and 2.4 syntaxes. (2.3's
// %X prints lower case, like 2.4's hex: var-expand.c m_str_hex, "%llx";
// seen from a live 2.3.19.1.)
func TestUIDLFormats(t *testing.T) {
	for format, first := range map[string]string{
		"%08Xu%08Xv":                             "000000016553f100",
		"%{uid | hex(8)}%{uidvalidity | hex(8)}": "000000016553f100",
		"%u.%v":                                  "1.1700000000",
		"%f":                                     "1700000002.M2P1.host",
		"%{uidvalidity}-%{uid}":                  "1700000000-1",
		"UID%u-%v":                               "UID1-1700000000",
		"%Xv%08Xu":                               "6553f10000000001",
		"%{uid | hex(8)}x":                       "00000001x",
		"%08Xu%08Xv-%f":                          "000000016553f100-1700000002.M2P1.host",
		"%{uid}%{uidvalidity | hex}":             "16553f100",
		"%{uid | hex(8)}%{uidvalidity | hex(8)}.x": "000000016553f100.x",
	} {
		if err := maildir.CheckUIDLFormat(format); err != nil {
			t.Errorf("%q: %v", format, err)
			continue
		}
		m := mustOpen(t, dovecotMaildir(t), maildir.Options{UIDLFormat: format})
		if got := m.UID(0); got != first {
			t.Errorf("%q: first UIDL %q, want %q", format, got, first)
		}
		m.Close()
	}
	if err := maildir.CheckUIDLFormat("%q"); err == nil {
		t.Error("an unknown variable was accepted")
	}
}

// TestControlDir: with CONTROL=, dovecot-uidlist is in another directory.
func TestControlDir(t *testing.T) {
	dir := dovecotMaildir(t)
	control := t.TempDir()
	os.Rename(filepath.Join(dir, "dovecot-uidlist"), filepath.Join(control, "dovecot-uidlist"))
	m := mustOpen(t, dir, maildir.Options{Control: control})
	if got := m.UID(0); got != "000000016553f100" {
		t.Errorf("first UIDL %q", got)
	}
}

// TestSizeHints: Dovecot's ,S= and ,W= in names are used without reading
// the messages, but W does not count the CRLF added to a last line without
// one, and a lying W is not believed: LIST equals what RETR sends.
func TestSizeHints(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"1700000001.M1P1.host,S=6,W=8":  "a\nbc\n",                     // right
		"1700000002.M2P1.host,S=5,W=6":  "a\nbcd",                      // no final newline: 8
		"1700000003.M3P1.host,S=4,W=99": "x\ny\n",                      // impossible W
		"1700000004.M4P1.host,S=9,W=10": "short\n",                     // wrong S: counted
		"1700000005.M5P1.host,S=3,W=4":  ".a\n",                        // dot line
		"1700000006.M6P1.host,S=1,W=2":  "\n",                          // empty line
		"1700000007.M7P1.host,S=0,W=0":  "",                            // empty
		"1700000008.M8P1.host,S=8,W=10": "a\r\nb\nc\n",                 // mixed
		"1700000009.M9P1.host,S=9,W=10": strings.Repeat("x", 8) + "\n", // right
	}
	for name, body := range files {
		deliver(t, dir, "new", name, body)
	}
	m := open(t, dir)
	for i := range m.Count() {
		size, err := m.Size(i)
		if err != nil {
			t.Fatal(err)
		}
		if got := readMessage(t, m, i); int64(len(got)) != size {
			t.Errorf("message %s: Size %d, RETR sends %d", m.UID(i), size, len(got))
		}
	}
	m.Close()

	// A W that could be true but is not is as wrong as a wrong cache
	// entry: the reader fails rather than send other than announced, and
	// the next session counts the message.
	dir = t.TempDir()
	deliver(t, dir, "new", "1700000001.M1P1.host,S=9,W=11", strings.Repeat("x", 8)+"\n")
	m = open(t, dir)
	if n, _ := m.Size(0); n != 11 {
		t.Fatalf("Size = %d, want the hint, 11", n)
	}
	r, _ := m.Open(0)
	if _, err := io.ReadAll(r); !errors.Is(err, maildir.ErrChanged) {
		t.Errorf("reading a message with a lying W: %v", err)
	}
	r.Close()
	maildir.WaitCache(m)
	m.Close()
	m = open(t, dir)
	if n, _ := m.Size(0); n != 10 {
		t.Errorf("next session: Size = %d, want 10", n)
	}
}

// TestUIDLMemoryDiskFull: on a full disk popd-uidls cannot be written; the
// login still works, with the UIDLs that need no memory.
func TestUIDLMemoryDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := filepath.Join(mnt, "alice")
	deliver(t, dir, "cur", "1700000001.M1P1.host:2,S", "one\n")
	deliver(t, dir, "cur", "1700000002.M2P1.host:2,", "two\n")
	deliver(t, dir, "new", "1700000003.M3P1.host", "three\n")
	os.WriteFile(filepath.Join(dir, "dovecot-uidlist"), []byte(uidlist), 0o600)
	m := mustOpen(t, dir, maildir.Options{}) // the lock file is made once
	want := uids(m)
	m.Close()
	os.Remove(filepath.Join(dir, "popd-uidls"))
	fill, _ := os.Create(filepath.Join(mnt, "fill"))
	for chunk := make([]byte, 4096); ; {
		if _, err := fill.Write(chunk); err != nil {
			break
		}
	}
	fill.Close()
	m = mustOpen(t, dir, maildir.Options{})
	if got := uids(m); !slices.Equal(got, want) {
		t.Errorf("on a full disk: %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "popd-uidls")); err == nil {
		t.Error("popd-uidls written on a full disk?")
	}
}
