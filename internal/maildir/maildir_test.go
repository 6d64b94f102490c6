package maildir_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"popd/internal/maildir"
	"popd/internal/testutil"
)

// deliver writes a message file into dir/folder.
func deliver(t testing.TB, dir, folder, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, folder), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, folder, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// open opens dir and closes it at the end of the test.
func open(t testing.TB, dir string) *maildir.Mailbox {
	t.Helper()
	m, err := maildir.Open(dir, maildir.Options{Logger: testutil.Log(t), Owner: "test " + t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func readMessage(t testing.TB, m *maildir.Mailbox, i int) string {
	t.Helper()
	r, err := m.Open(i)
	if err != nil {
		t.Fatalf("Open(%d): %v", i, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ls lists the names in dir/folder, sorted.
func ls(t testing.TB, dir, folder string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, folder))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func uids(m *maildir.Mailbox) []string {
	var u []string
	for i := range m.Count() {
		u = append(u, m.UID(i))
	}
	return u
}

func TestOpenMakesMaildir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	m := open(t, dir)
	if m.Count() != 0 {
		t.Fatalf("Count = %d", m.Count())
	}
	for _, sub := range []string{"", "new", "cur", "tmp"} {
		st, err := os.Stat(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		if !st.IsDir() || st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want a directory 0700", sub, st.Mode())
		}
	}
	if n, err := m.TotalSize(); n != 0 || err != nil {
		t.Errorf("TotalSize = %d, %v", n, err)
	}
}

func TestOrder(t *testing.T) {
	dir := t.TempDir()
	// In delivery order.
	want := []struct{ folder, name string }{
		{"cur", "999999999.M5P1.old:2,S"},                       // fewer digits: earlier
		{"new", "1732550000.P5Q1.host"},                         // same second, no M: first
		{"new", "1732550000.M9P1.host"},                         // M9 < M10 numerically
		{"new", "1732550000.M10P1.host"},                        //
		{"cur", "1732550000.V801I2a3bM123P45.host,S=3,W=4:2,S"}, // Dovecot: M inside
		{"cur", "1732550000.M999999P1.host:2,"},                 //
		{"new", "1732550001.M5P1.a"},                            // same second and M: by base name
		{"cur", "1732550001.M5P1.b:2,RS"},                       //
		{"new", "01732550002.M1P1.host"},                        // leading zero does not count
		{"new", "Zeta"},                                         // no number: after, by name
		{"cur", "abc:2,"},                                       //
	}
	for _, w := range want {
		deliver(t, dir, w.folder, w.name, "x\n")
	}
	// Not messages.
	deliver(t, dir, "new", ".hidden", "x\n")
	deliver(t, dir, "cur", ".also:2,S", "x\n")
	deliver(t, dir, "tmp", "1.M1P1.tmp", "x\n")
	os.Mkdir(filepath.Join(dir, "cur", "1.M1P1.dir"), 0o700)
	os.Symlink("/etc/passwd", filepath.Join(dir, "new", "1.M1P1.link"))
	deliver(t, dir, "", "2.M2P2.root", "x\n")

	m := open(t, dir)
	var got []string
	for i := range m.Count() {
		got = append(got, m.UID(i))
	}
	var wantUIDs []string
	for _, w := range want {
		wantUIDs = append(wantUIDs, strings.SplitN(w.name, ":", 2)[0])
	}
	if !slices.Equal(got, wantUIDs) {
		t.Errorf("order:\n got %q\nwant %q", got, wantUIDs)
	}
	for i := range m.Count() {
		if s := readMessage(t, m, i); s != "x\r\n" {
			t.Errorf("message %d: %q", i, s)
		}
	}
	m.Close()
	// The same again: deterministic.
	m2 := open(t, dir)
	if !slices.Equal(uids(m2), got) {
		t.Errorf("second open: %q", uids(m2))
	}
}

func TestUID(t *testing.T) {
	dir := t.TempDir()
	long := "1700000003." + strings.Repeat("L", 70)
	names := []struct{ folder, name, uid string }{
		{"new", "1700000000.M1P1.host", "1700000000.M1P1.host"},
		{"new", "1700000001.M1P1.with space", maildir.HashUID("1700000001.M1P1.with space")},
		{"new", "1700000002.M1P1.h\xc3\xa9", maildir.HashUID("1700000002.M1P1.h\xc3\xa9")},
		{"new", long, maildir.HashUID(long)},
		{"new", "1700000004." + strings.Repeat("k", 59), "1700000004." + strings.Repeat("k", 59)}, // 70 bytes
		// The same base name twice: cur/ keeps it, new/ gets a digest.
		{"cur", "1700000005.M1P1.dup:2,S", "1700000005.M1P1.dup"},
		{"new", "1700000005.M1P1.dup", maildir.HashUID("new/1700000005.M1P1.dup")},
		// A name that is the digest of another.
		{"new", maildir.HashUID(long), ""},
		{"cur", ":2,S", maildir.HashUID("")},
	}
	for _, n := range names {
		deliver(t, dir, n.folder, n.name, "x\n")
	}
	m := open(t, dir)
	if m.Count() != len(names) {
		t.Fatalf("Count = %d", m.Count())
	}
	seen := map[string]bool{}
	for i := range m.Count() {
		u := m.UID(i)
		if len(u) < 1 || len(u) > 70 || strings.IndexFunc(u, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
			t.Errorf("UID(%d) = %q is not valid", i, u)
		}
		if seen[u] {
			t.Errorf("UID %q twice", u)
		}
		seen[u] = true
	}
	for _, n := range names {
		if n.uid != "" && !seen[n.uid] {
			t.Errorf("no UID %q for %s/%q; have %q", n.uid, n.folder, n.name, uids(m))
		}
	}
	if m.UID(-1) != "" || m.UID(m.Count()) != "" {
		t.Error("UID out of range is not empty")
	}
	before := uids(m)
	// UIDs survive the move to cur/. Messages with the same base name are
	// left where they are: moving or flagging one would change the UIDs.
	if err := m.Update(nil, []int{0, 5, 6}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m2 := open(t, dir)
	if !slices.Equal(uids(m2), before) {
		t.Errorf("UIDs changed:\n got %q\nwant %q", uids(m2), before)
	}
	if len(ls(t, dir, "new")) != 1 {
		t.Errorf("new/ = %q, want only the duplicate", ls(t, dir, "new"))
	}
}

func TestRange(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "a\n")
	m := open(t, dir)
	for _, i := range []int{-1, 1, 1 << 40} {
		if _, err := m.Size(i); !errors.Is(err, maildir.ErrNoMessage) {
			t.Errorf("Size(%d): %v", i, err)
		}
		if _, err := m.Open(i); !errors.Is(err, maildir.ErrNoMessage) {
			t.Errorf("Open(%d): %v", i, err)
		}
	}
	if err := m.Update([]int{-1, 5}, []int{7}); err != nil {
		t.Errorf("Update out of range: %v", err)
	}
	if ls(t, dir, "cur")[0] != "1.M1P1.h:2," {
		t.Errorf("cur/ = %q", ls(t, dir, "cur"))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Size(0); !errors.Is(err, maildir.ErrClosed) {
		t.Errorf("Size after Close: %v", err)
	}
	if _, err := m.Open(0); !errors.Is(err, maildir.ErrClosed) {
		t.Errorf("Open after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	for i := range 50 {
		deliver(t, dir, "new", fmt.Sprintf("%d.M%dP1.host", 1700000000+i, i), strings.Repeat("line\n", i))
	}
	deliver(t, dir, "cur", "1800000000.M1P1.host,S=6:2,S", "a\r\nbc\n")

	// Without a cache, a session that does not ask for sizes reads nothing.
	m := open(t, dir)
	for i := range m.Count() {
		m.UID(i)
	}
	if n := maildir.FileReads(m); n != 0 {
		t.Errorf("UIDs read %d files", n)
	}
	total, err := m.TotalSize()
	if err != nil {
		t.Fatal(err)
	}
	if n := maildir.FileReads(m); n != int64(m.Count()) {
		t.Errorf("TotalSize read %d files, want %d", n, m.Count())
	}
	m.Close()
	if _, err := os.Stat(filepath.Join(dir, maildir.CacheName)); err != nil {
		t.Fatalf("no cache: %v", err)
	}

	// With the cache: nothing read at all.
	m = open(t, dir)
	if got, err := m.TotalSize(); got != total || err != nil {
		t.Errorf("cached TotalSize = %d, %v; want %d", got, err, total)
	}
	for i := range m.Count() {
		m.Size(i)
	}
	if n := maildir.FileReads(m); n != 0 {
		t.Errorf("cached sizes read %d files", n)
	}
	m.Close()

	// A corrupt or truncated cache is recomputed and rewritten.
	good, _ := os.ReadFile(filepath.Join(dir, maildir.CacheName))
	for _, bad := range []string{"garbage", "", string(good[:len(good)-8]), strings.Replace(string(good), " ", "x", 1)} {
		os.WriteFile(filepath.Join(dir, maildir.CacheName), []byte(bad), 0o600)
		m = open(t, dir)
		if got, err := m.TotalSize(); got != total || err != nil {
			t.Errorf("TotalSize with cache %q = %d, %v; want %d", trunc([]byte(bad)), got, err, total)
		}
		if maildir.FileReads(m) == 0 {
			t.Errorf("cache %q was trusted", trunc([]byte(bad)))
		}
		m.Close()
		if now, _ := os.ReadFile(filepath.Join(dir, maildir.CacheName)); string(now) != string(good) {
			t.Errorf("cache not rewritten:\n%s", now)
		}
	}

	// A ",S=" in the name that disagrees with the cache: recomputed.
	os.WriteFile(filepath.Join(dir, maildir.CacheName),
		[]byte(strings.Replace(string(good), "6 7 1800000000", "5 7 1800000000", 1)), 0o600)
	m = open(t, dir)
	m.TotalSize()
	if n := maildir.FileReads(m); n != 1 {
		t.Errorf("read %d files, want 1", n)
	}
	m.Close()

	// Deleted messages leave the cache.
	m = open(t, dir)
	if err := m.Update([]int{0, 1}, nil); err != nil {
		t.Fatal(err)
	}
	m.Close()
	now, _ := os.ReadFile(filepath.Join(dir, maildir.CacheName))
	if strings.Contains(string(now), " 1700000000.") || strings.Contains(string(now), " 1700000001.") ||
		!strings.Contains(string(now), " 1700000002.") {
		t.Errorf("cache after deletion:\n%s", now)
	}
}

// TestCacheWrongSize: a cache entry whose raw size is wrong is caught when
// the message is opened, before anything is sent: Open fails with
// ErrChanged, the session keeps the size it announced (LIST stays as it
// was), and the next session counts the message again.
func TestCacheWrongSize(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "a\nb\n")
	deliver(t, dir, "new", "2.M1P1.h", "c\n")
	os.WriteFile(filepath.Join(dir, maildir.CacheName),
		[]byte("popd-sizes 1\n99 100 1.M1P1.h\n2 3 2.M1P1.h\nend 2\n"), 0o600)
	m := open(t, dir)
	if n, _ := m.Size(0); n != 100 {
		t.Fatalf("Size = %d, want the cached 100", n)
	}
	if _, err := m.Open(0); !errors.Is(err, maildir.ErrChanged) {
		t.Fatalf("Open(0) = %v, want ErrChanged", err)
	}
	if n, _ := m.Size(0); n != 100 {
		t.Errorf("Size after Open = %d, want what was announced, 100", n)
	}
	maildir.WaitCache(m)
	m.Close()
	m = open(t, dir)
	if n, _ := m.Size(0); n != 6 {
		t.Errorf("next session: Size = %d, want 6", n)
	}
	if s := readMessage(t, m, 0); s != "a\r\nb\r\n" {
		t.Fatalf("read %q", s)
	}
	m.Update(nil, nil)
	m.Close()
	if b, _ := os.ReadFile(filepath.Join(dir, maildir.CacheName)); !strings.Contains(string(b), "4 6 1.M1P1.h\n") {
		t.Errorf("cache not corrected:\n%s", b)
	}
}

// TestMovedBySomeoneElse: a message moved to cur/ (or given other flags)
// after Open is still found; one that is gone is ErrVanished.
func TestMovedBySomeoneElse(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "one\n")
	deliver(t, dir, "new", "2.M1P1.h", "two\n")
	deliver(t, dir, "cur", "3.M1P1.h:2,", "three\n")
	deliver(t, dir, "new", "4.M1P1.h", "four\n")
	m := open(t, dir)
	mv := func(from, to string) {
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	mv("new/1.M1P1.h", "cur/1.M1P1.h:2,S")
	mv("new/2.M1P1.h", "cur/2.M1P1.h:2,S")
	mv("cur/3.M1P1.h:2,", "cur/3.M1P1.h:2,FS")
	os.Remove(filepath.Join(dir, "new/4.M1P1.h"))

	if n, err := m.Size(1); n != 5 || err != nil {
		t.Errorf("Size(1) = %d, %v", n, err)
	}
	if _, err := m.Size(3); !errors.Is(err, maildir.ErrVanished) {
		t.Errorf("Size of a deleted message: %v", err)
	}
	if _, err := m.TotalSize(); !errors.Is(err, maildir.ErrVanished) {
		t.Errorf("TotalSize with a deleted message: %v", err)
	}
	if s := readMessage(t, m, 0); s != "one\r\n" {
		t.Errorf("message 0: %q", s)
	}
	if s := readMessage(t, m, 2); s != "three\r\n" {
		t.Errorf("message 2: %q", s)
	}
	if _, err := m.Open(3); !errors.Is(err, maildir.ErrVanished) {
		t.Errorf("Open of a deleted message: %v", err)
	}
	// Update deletes where the message is now, and flags the moved one.
	if err := m.Update([]int{1, 3}, []int{0, 2}); err != nil {
		t.Errorf("Update: %v", err)
	}
	if got := ls(t, dir, "cur"); !slices.Equal(got, []string{"1.M1P1.h:2,S", "3.M1P1.h:2,FS"}) {
		t.Errorf("cur/ = %q", got)
	}
	if got := ls(t, dir, "new"); len(got) != 0 {
		t.Errorf("new/ = %q", got)
	}
}

// TestKick: Close from another goroutine while the session works.
func TestKick(t *testing.T) {
	dir := t.TempDir()
	for i := range 200 {
		deliver(t, dir, "new", fmt.Sprintf("%d.M1P1.h", 1000+i), "Subject: x\n\nbody\n")
	}
	m := open(t, dir)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i = (i + 1) % m.Count() {
			if _, err := m.Size(i); err != nil {
				if !errors.Is(err, maildir.ErrClosed) {
					t.Errorf("Size: %v", err)
				}
				return
			}
			r, err := m.Open(i)
			if err != nil {
				if !errors.Is(err, maildir.ErrClosed) {
					t.Errorf("Open: %v", err)
				}
				return
			}
			io.Copy(io.Discard, r)
			r.Close()
		}
	})
	wg.Go(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	wg.Wait()
	if _, ok, _ := maildir.ReadLock(dir); ok {
		t.Error("lock left after Close")
	}
}

// TestQuitWithoutSizesKeepsCache: a session that asks for no size (login
// and QUIT) does not rewrite the sizes cache, also when a message came
// that the cache lacks (issue 11: login+QUIT ran slower than
// login+STAT+QUIT because each rewrote it, with an fsync).
func TestQuitWithoutSizesKeepsCache(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "cur", "1.M1P1.h:2,S", "a\n")
	m := open(t, dir)
	m.TotalSize()
	m.Update(nil, nil)
	maildir.WaitCache(m)
	m.Close()
	cache := filepath.Join(dir, maildir.CacheName)
	long := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(cache, long, long)
	deliver(t, dir, "cur", "2.M2P1.h:2,S", "b\n")
	for range 2 {
		m = open(t, dir)
		m.Update(nil, nil)
		maildir.WaitCache(m)
		m.Close()
	}
	if st, _ := os.Stat(cache); !st.ModTime().Equal(long) {
		t.Error("login+QUIT rewrote the sizes cache")
	}
}
