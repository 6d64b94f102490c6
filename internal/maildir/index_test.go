package maildir_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"popd/internal/maildir"
)

// settle waits until the folders' last change is more than a second old:
// only then is an index written (a change in the same clock tick as the
// listing would not show in the folders' times).
func settle() { time.Sleep(1100 * time.Millisecond) }

// listing is what a client can see of m: UIDL and size of each message,
// in order.
func listing(t *testing.T, m *maildir.Mailbox) []string {
	t.Helper()
	var out []string
	for i := range m.Count() {
		size, err := m.Size(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d", m.UID(i), size))
	}
	return out
}

// openClose opens dir, lists it (which computes sizes) and closes it,
// waiting for the cache and index writers.
func openClose(t *testing.T, dir string, opt maildir.Options) (list []string, fromIndex bool) {
	t.Helper()
	m, err := maildir.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	list = listing(t, m)
	maildir.WaitCache(m)
	return list, maildir.FromIndex(m)
}

func init() { maildir.SetIndexMin(10) } // the fixture has 32 messages

func indexFixture(t *testing.T) string {
	dir := t.TempDir()
	for i := range 30 {
		name := fmt.Sprintf("%d.M%dP1.h,S=%d", 1700000000+i, i, 8)
		if i%3 == 0 {
			deliver(t, dir, "cur", name+":2,S", "body  \n")
		} else {
			deliver(t, dir, "new", name, "body  \n")
		}
	}
	deliver(t, dir, "cur", "1700000005.M5P1.h,S=8:2,S", "dup   \n") // same base name as one in new/
	deliver(t, dir, "new", "noseconds", "x\n")
	return dir
}

// TestIndex: an unchanged maildrop is listed from the index, exactly as
// from the folders, without reading them or any message.
func TestIndex(t *testing.T) {
	t.Parallel()
	for _, migrated := range []bool{false, true} {
		t.Run(fmt.Sprint("migrated=", migrated), func(t *testing.T) {
			t.Parallel()
			testIndex(t, migrated)
		})
	}
}

func testIndex(t *testing.T, migrated bool) {
	dir := indexFixture(t)
	if migrated {
		// Dovecot's order and UIDLs for some, in reverse delivery order.
		deliver(t, dir, ".", "dovecot-uidlist", "3 V1700000000 N100 G0123456789abcdef0123456789abcdef\n"+
			"7 :1700000004.M4P1.h,S=8\n8 :1700000001.M1P1.h,S=8\n")
	}
	settle()
	want, idx := openClose(t, dir, maildir.Options{})
	if idx {
		t.Fatal("the first Open used an index")
	}
	if _, err := os.Stat(filepath.Join(dir, maildir.IndexName)); err != nil {
		t.Fatalf("no index written: %v", err)
	}
	m := open(t, dir)
	if !maildir.FromIndex(m) {
		t.Fatal("the second Open did not use the index")
	}
	if got := listing(t, m); !slices.Equal(got, want) {
		t.Errorf("from the index:\n%q\nfrom the folders:\n%q", got, want)
	}
	if migrated && !strings.HasPrefix(want[0], "00000007") {
		t.Errorf("not in Dovecot's order: %q", want)
	}
	if n := maildir.FileReads(m); n != 0 {
		t.Errorf("read %d message files", n)
	}
	if got := readMessage(t, m, 0); got == "" {
		t.Error("message 1 is empty")
	}
	// What Update does to the folders makes the index stale.
	if err := m.Update([]int{0}, []int{1}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	got, idx := openClose(t, dir, maildir.Options{})
	if idx || len(got) != len(want)-1 {
		t.Errorf("after a deletion: %d messages, from index %v", len(got), idx)
	}
}

// TestIndexStale: every change that can change the list makes the index
// unused: deliveries, deletions and renames by others, a popd-uidls,
// dovecot-uidlist or courierpop3dsizelist that changed, other options.
func TestIndexStale(t *testing.T) {
	t.Parallel()
	changes := map[string]func(t *testing.T, dir string) maildir.Options{
		"delivery": func(t *testing.T, dir string) maildir.Options {
			deliver(t, dir, "new", "1800000000.M1P1.h", "new\n")
			return maildir.Options{}
		},
		"deletion": func(t *testing.T, dir string) maildir.Options {
			os.Remove(filepath.Join(dir, "cur", "1700000003.M3P1.h,S=8:2,S"))
			return maildir.Options{}
		},
		"flags": func(t *testing.T, dir string) maildir.Options {
			os.Rename(filepath.Join(dir, "cur", "1700000003.M3P1.h,S=8:2,S"), filepath.Join(dir, "cur", "1700000003.M3P1.h,S=8:2,ST"))
			return maildir.Options{}
		},
		"dovecot-uidlist": func(t *testing.T, dir string) maildir.Options {
			deliver(t, dir, ".", "dovecot-uidlist", "3 V1700000000 N100 G0123456789abcdef0123456789abcdef\n7 :1700000001.M1P1.h,S=8\n")
			return maildir.Options{}
		},
		"courier": func(t *testing.T, dir string) maildir.Options {
			deliver(t, dir, ".", "courierpop3dsizelist", "/2 1700000000\n1700000001.M1P1.h,S=8 8 5:1700000000\n")
			return maildir.Options{}
		},
		"popd-uidls": func(t *testing.T, dir string) maildir.Options {
			b, _ := os.ReadFile(filepath.Join(dir, "popd-uidls"))
			s := strings.Replace(string(b), "1700000001.M1P1.h,S=8\t1700000001.M1P1.h,S=8", "1700000001.M1P1.h,S=8\tkept-from-before", 1)
			deliver(t, dir, ".", "popd-uidls", s)
			return maildir.Options{}
		},
		"uidl-format": func(t *testing.T, dir string) maildir.Options {
			return maildir.Options{UIDLFormat: "%v.%u"}
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := indexFixture(t)
			settle()
			openClose(t, dir, maildir.Options{})
			if _, idx := openClose(t, dir, maildir.Options{}); !idx {
				t.Fatal("the index was not used before the change")
			}
			opt := change(t, dir)
			want, idx := openClose(t, dir, opt)
			if idx {
				t.Fatal("the index was used after the change")
			}
			// The list of a fresh scan, for comparison: without the index.
			os.Remove(filepath.Join(dir, maildir.IndexName))
			fresh, _ := openClose(t, dir, opt)
			if !slices.Equal(want, fresh) {
				t.Errorf("after the change:\n%q\nfresh:\n%q", want, fresh)
			}
		})
	}
}

// TestIndexNotWhileChanging: a maildrop changed less than a second ago
// gets no index, so a delivery in the same clock tick as the listing is
// never hidden by one.
func TestIndexNotWhileChanging(t *testing.T) {
	t.Parallel()
	dir := indexFixture(t)
	openClose(t, dir, maildir.Options{})
	if _, err := os.Stat(filepath.Join(dir, maildir.IndexName)); err == nil {
		t.Fatal("an index was written for folders changed just now")
	}
}

// TestIndexHostile: an index the user wrote is believed only when each of
// its lines could be true; otherwise the folders are listed.
func TestIndexHostile(t *testing.T) {
	t.Parallel()
	dir := indexFixture(t)
	settle()
	want, _ := openClose(t, dir, maildir.Options{})
	good, err := os.ReadFile(filepath.Join(dir, maildir.IndexName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	head, body := strings.Join(lines[:7], ""), lines[7:len(lines)-2]
	line := body[0]
	bad := map[string]string{
		"escape":    strings.Replace(line, "1700000000", "../../../etc/passwd#", 1),
		"slash":     strings.Replace(line, "1700000000.", "x/", 1),
		"dot":       line[:strings.LastIndexByte(line, ' ')+1] + ".hidden\n",
		"uid":       strings.Replace(line, " = ", " bad\x01uid ", 1),
		"sizes":     strings.Replace(line, " 7 8 ", " 7 100 ", 1),
		"negative":  strings.Replace(line, " 7 8 ", " -5 -5 ", 1),
		"folder":    "x" + line[1:],
		"truncated": line[:10],
	}
	for name, l := range bad {
		t.Run(name, func(t *testing.T) {
			content := head + l + strings.Join(body[1:], "") + fmt.Sprintf("end %d\n", len(body))
			if err := os.WriteFile(filepath.Join(dir, maildir.IndexName), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := maildir.Open(dir, maildir.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if maildir.FromIndex(m) {
				t.Errorf("index with a bad line (%q) used", l)
			}
			if got := listing(t, m); !slices.Equal(got, want) {
				t.Errorf("listed %q, want %q", got, want)
			}
		})
	}
	// A fifo in its place does not hang Open.
	os.Remove(filepath.Join(dir, maildir.IndexName))
	if err := syscall.Mkfifo(filepath.Join(dir, maildir.IndexName), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, idx := openClose(t, dir, maildir.Options{}); idx || !slices.Equal(got, want) {
		t.Errorf("with a FIFO as index: %q (from index %v)", got, idx)
	}
}
