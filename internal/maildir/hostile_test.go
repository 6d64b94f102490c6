package maildir_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"popd/internal/maildir"
	"popd/internal/testutil"
)

// Tests for what a user who can write into their own maildir may place
// there: nothing may make popd read, move or delete files elsewhere, or
// block it.

// within fails the test if f does not return within a generous bound: a
// hang detector, not a speed test.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s hung", what)
	}
}

func openErr(dir string) (*maildir.Mailbox, error) {
	return maildir.Open(dir, maildir.Options{})
}

// TestFolderSymlinkRefused: alice's new/ or cur/ is a link to bob's folder.
// On bed2491 alice was served bob's mail and her DELE deleted it.
func TestFolderSymlinkRefused(t *testing.T) {
	for _, folder := range []string{"new", "cur"} {
		t.Run(folder, func(t *testing.T) {
			root := t.TempDir()
			alice, bob := filepath.Join(root, "alice"), filepath.Join(root, "bob")
			deliver(t, bob, folder, "1.M1P1.bob", "bob's secret\n")
			os.MkdirAll(filepath.Join(alice, "tmp"), 0o700)
			os.MkdirAll(filepath.Join(alice, otherFolder(folder)), 0o700)
			if err := os.Symlink(filepath.Join(bob, folder), filepath.Join(alice, folder)); err != nil {
				t.Fatal(err)
			}
			m, err := openErr(alice)
			if err == nil {
				n := m.Count()
				m.Update([]int{0}, nil)
				m.Close()
				t.Fatalf("Open through a linked %s/ succeeded with %d messages", folder, n)
			}
			if !errors.Is(err, maildir.ErrUnsafe) {
				t.Errorf("err = %v, want ErrUnsafe", err)
			}
			if got := ls(t, bob, folder); len(got) != 1 {
				t.Errorf("bob's %s/ = %q", folder, got)
			}
		})
	}
}

func otherFolder(f string) string {
	if f == "new" {
		return "cur"
	}
	return "new"
}

// TestFolderLinkToRootOnlyDir: as root, UPDATE moved a 0600 file out of a
// root-only directory that new/ linked to.
func TestFolderLinkToRootOnlyDir(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(root, "secret")
	os.Mkdir(secret, 0o700)
	os.WriteFile(filepath.Join(secret, "1.M1P1.shadow"), []byte("root:x:0\n"), 0o600)
	md := filepath.Join(root, "alice")
	os.MkdirAll(filepath.Join(md, "cur"), 0o700)
	os.Symlink(secret, filepath.Join(md, "new"))
	if m, err := openErr(md); err == nil {
		m.Update(nil, []int{0})
		m.Close()
		t.Error("Open succeeded")
	}
	if _, err := os.Stat(filepath.Join(secret, "1.M1P1.shadow")); err != nil {
		t.Errorf("the root-only file moved: %v", err)
	}
	if got := ls(t, md, "cur"); len(got) != 0 {
		t.Errorf("cur/ = %q", got)
	}
}

// TestSwapDuringSession: new/ is replaced by a link to bob's folder while
// alice's session runs; RETR and DELE still work on alice's folder.
func TestSwapDuringSession(t *testing.T) {
	root := t.TempDir()
	alice, bob := filepath.Join(root, "alice"), filepath.Join(root, "bob")
	deliver(t, alice, "new", "1.M1P1.same", "alice\n")
	deliver(t, bob, "new", "1.M1P1.same", "bob\n")
	m := open(t, alice)
	if err := os.Rename(filepath.Join(alice, "new"), filepath.Join(alice, "new.old")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(bob, "new"), filepath.Join(alice, "new"))
	if got := readMessage(t, m, 0); got != "alice\r\n" {
		t.Errorf("RETR after the swap read %q", got)
	}
	if err := m.Update([]int{0}, nil); err != nil {
		t.Fatal(err)
	}
	if got := ls(t, bob, "new"); len(got) != 1 {
		t.Errorf("bob's new/ = %q: alice's DELE deleted bob's mail", got)
	}
	if got := ls(t, alice, "new.old"); len(got) != 0 {
		t.Errorf("alice's message is still there: %q", got)
	}
}

// TestMaildirRootSymlink: a maildir that is a link is used only when the
// link is the administrator's (owned by root or by popd's user); a user's
// link to another user's maildir is refused, also in the middle of the path.
func TestMaildirRootSymlink(t *testing.T) {
	root := t.TempDir()
	bob := filepath.Join(root, "bob")
	deliver(t, bob, "new", "1.M1P1.bob", "bob\n")
	os.MkdirAll(filepath.Join(bob, "cur"), 0o700)

	admin := filepath.Join(root, "admin-link")
	os.Symlink(bob, admin)
	m, err := openErr(admin)
	if err != nil {
		t.Fatalf("an administrator's link: %v", err)
	}
	if m.Count() != 1 {
		t.Errorf("Count = %d", m.Count())
	}
	m.Close()

	if os.Geteuid() != 0 {
		t.Skip("needs root to make a link owned by another user")
	}
	user := filepath.Join(root, "alice")
	os.Symlink(bob, user)
	if err := os.Lchown(user, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if m, err := openErr(user); !errors.Is(err, maildir.ErrUnsafe) {
		if m != nil {
			m.Close()
		}
		t.Errorf("a user's link: err = %v, want ErrUnsafe", err)
	}
	// In the middle: /root/home-alice/Maildir with home-alice -> bob's home.
	home := filepath.Join(root, "home-alice")
	os.Symlink(root, home)
	os.Lchown(home, 4242, 4242)
	if m, err := openErr(filepath.Join(home, "bob")); !errors.Is(err, maildir.ErrUnsafe) {
		if m != nil {
			m.Close()
		}
		t.Errorf("a user's link in the path: err = %v, want ErrUnsafe", err)
	}
	if _, _, err := maildir.ReadLock(user); err == nil {
		t.Error("ReadLock through a user's link: no error")
	}
	if err := maildir.Purge(user); !errors.Is(err, maildir.ErrUnsafe) {
		t.Errorf("Purge through a user's link = %v", err)
	}
	if got := ls(t, bob, "new"); len(got) != 1 {
		t.Errorf("bob's new/ = %q", got)
	}
}

// TestLockFileNotAFile: a popd.lock that is a FIFO, a link or junk. On
// bed2491 a FIFO hung logins past the login timeout and froze `popadm
// locks`; a link to /dev/zero made popd grow to 1.4 GB.
func TestLockFileNotAFile(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside")
	os.WriteFile(outside, []byte("keep me\n"), 0o600)
	cases := map[string]func(path string) error{
		"fifo":         func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"dev-zero":     func(p string) error { return os.Symlink("/dev/zero", p) },
		"link-outside": func(p string) error { return os.Symlink(outside, p) },
		"huge": func(p string) error {
			f, err := os.Create(p)
			if err == nil {
				err = f.Truncate(10 << 30) // sparse
				f.Close()
			}
			return err
		},
		"junk": func(p string) error { return os.WriteFile(p, []byte("#!/bin/sh\n"), 0o600) },
	}
	for name, make := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			deliver(t, dir, "new", "1.M1P1.h", "a\n")
			os.MkdirAll(filepath.Join(dir, "cur"), 0o700)
			if err := make(filepath.Join(dir, maildir.LockName)); err != nil {
				t.Fatal(err)
			}
			within(t, "ReadLock", func() {
				if _, _, err := maildir.ReadLock(dir); err != nil {
					t.Errorf("ReadLock: %v", err)
				}
			})
			var u maildir.Usage
			within(t, "Usage.Count", func() { u.Count(dir) })
			within(t, "Open", func() {
				m, err := openErr(dir)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				if m.Count() != 1 {
					t.Errorf("Count = %d", m.Count())
				}
				m.Close()
			})
			if b, _ := os.ReadFile(outside); string(b) != "keep me\n" {
				t.Errorf("the link's target changed: %q", b)
			}
		})
	}
}

// TestCacheFileNotAFile: a popd-sizes that is a FIFO or a link to
// /dev/zero is ignored (and replaced), never read.
func TestCacheFileNotAFile(t *testing.T) {
	for name, make := range map[string]func(string) error{
		"fifo":     func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"dev-zero": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			deliver(t, dir, "new", "1.M1P1.h", "a\nb\n")
			make(filepath.Join(dir, maildir.CacheName))
			within(t, "Open", func() {
				m, err := maildir.Open(dir, maildir.Options{Logger: testutil.Log(t)})
				if err != nil {
					t.Error(err)
					return
				}
				if n, err := m.Size(0); n != 6 || err != nil {
					t.Errorf("Size = %d, %v", n, err)
				}
				maildir.WaitCache(m)
				m.Close()
			})
		})
	}
}

// TestCacheLies: well-formed but wrong entries. On bed2491 LIST said 9000
// octets and RETR sent 14, and huge values made STAT negative.
func TestCacheLies(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "hello\nworld\n") // raw 12, network 14
	deliver(t, dir, "new", "2.M1P1.h", "x\n")
	deliver(t, dir, "new", "3.M1P1.h", "y\n")
	huge := "9223372036854775000"
	os.WriteFile(filepath.Join(dir, maildir.CacheName), []byte("popd-sizes 1\n"+
		"2 "+huge+" 2.M1P1.h\n"+
		huge+" "+huge+" 3.M1P1.h\n"+
		"end 2\n"), 0o600)
	m, err := maildir.Open(dir, maildir.Options{Logger: testutil.Log(t)})
	if err != nil {
		t.Fatal(err)
	}
	total, err := m.TotalSize()
	if err != nil || total != 14+3+3 {
		t.Errorf("TotalSize = %d, %v: the impossible entries were believed", total, err)
	}
	maildir.WaitCache(m)
	m.Close()

	// Right raw size, wrong (but possible) network size.
	os.WriteFile(filepath.Join(dir, maildir.CacheName), []byte("popd-sizes 1\n"+
		"12 20 1.M1P1.h\n2 3 2.M1P1.h\n2 3 3.M1P1.h\nend 3\n"), 0o600)
	m, err = maildir.Open(dir, maildir.Options{Logger: testutil.Log(t)})
	if err != nil {
		t.Fatal(err)
	}
	announced, _ := m.Size(0)
	r, err := m.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if int64(len(b)) == announced && err == nil {
		t.Fatal("the lie was not caught")
	}
	if int64(len(b)) > announced || !errors.Is(err, maildir.ErrChanged) {
		t.Errorf("read %d octets of %d announced, err %v: want at most what was announced, then ErrChanged",
			len(b), announced, err)
	}
	m.Close()
	m = open(t, dir)
	if n, _ := m.Size(0); n != 14 {
		t.Errorf("next session: Size = %d, want 14", n)
	}
	if s := readMessage(t, m, 0); s != "hello\r\nworld\r\n" {
		t.Errorf("next session read %q", s)
	}
}

// TestFileChangesWhileOpen: a message file that grows or shrinks after
// its size was announced: the reader never yields more or fewer octets
// without failing with ErrChanged; one changed before Open fails at Open.
func TestFileChangesWhileOpen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(path string)
	}{
		{"grows", func(p string) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString(strings.Repeat("more\n", 100000))
			f.Close()
		}},
		{"shrinks", func(p string) { os.Truncate(p, 3) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			body := strings.Repeat("line\n", 40000)
			deliver(t, dir, "new", "1.M1P1.h", body)
			path := filepath.Join(dir, "new", "1.M1P1.h")
			m := open(t, dir)
			size, _ := m.Size(0)
			r, err := m.Open(0)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			io.ReadFull(r, buf)
			tc.change(path)
			rest, err := io.ReadAll(r)
			r.Close()
			got := int64(len(buf) + len(rest))
			if !errors.Is(err, maildir.ErrChanged) || got > size {
				t.Errorf("read %d of %d octets, err %v; want ErrChanged and never more than announced", got, size, err)
			}
			// Changed again before the next Open: -ERR before anything is sent.
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString("one more line\n")
			f.Close()
			if _, err := m.Open(0); !errors.Is(err, maildir.ErrChanged) {
				t.Errorf("Open after a change = %v, want ErrChanged", err)
			}
		})
	}
}

// TestSameBaseNameCache: new/X and cur/X:2,S of different sizes never share
// a cache entry.
func TestSameBaseNameCache(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "cur", "1.M1P1.dup:2,S", "short\n")
	deliver(t, dir, "new", "1.M1P1.dup", "a much longer message\nwith two lines\n")
	want := map[string]int64{}
	m := open(t, dir)
	for i := range m.Count() {
		n, _ := m.Size(i)
		want[m.UID(i)] = n
	}
	maildir.WaitCache(m)
	m.Close()
	m = open(t, dir)
	for i := range m.Count() {
		if n, _ := m.Size(i); n != want[m.UID(i)] || int64(len(readMessage(t, m, i))) != n {
			t.Errorf("message %s: Size %d, want %d", m.UID(i), n, want[m.UID(i)])
		}
	}
}

// TestEmptyBaseName: a file named ":2,S" must not make every session
// rewrite the cache.
func TestEmptyBaseName(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "cur", ":2,S", "x\n")
	deliver(t, dir, "cur", "1.M1P1.h:2,S", "y\n")
	m := open(t, dir)
	m.TotalSize()
	maildir.WaitCache(m)
	m.Close()
	cache := filepath.Join(dir, maildir.CacheName)
	// Marked with an old mtime: a rewrite makes a new file.
	long := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(cache, long, long); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		m = open(t, dir)
		m.TotalSize()
		m.Update(nil, nil)
		maildir.WaitCache(m)
		m.Close()
	}
	if after, _ := os.Stat(cache); !after.ModTime().Equal(long) {
		t.Error("the cache was rewritten by sessions that changed nothing")
	}
}

// TestTempFilesCleaned: .popd-sizes-*.tmp left by a killed writer are
// removed by the next cache write; one being written right now is not.
func TestTempFilesCleaned(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "new", "1.M1P1.h", "x\n")
	old := filepath.Join(dir, ".popd-sizes-123.tmp")
	fresh := filepath.Join(dir, ".popd-sizes-456.tmp")
	oldUIDLs := filepath.Join(dir, ".popd-uidls-789.tmp")
	os.WriteFile(oldUIDLs, []byte("partial"), 0o600)
	os.WriteFile(old, []byte("partial"), 0o600)
	os.WriteFile(fresh, []byte("partial"), 0o600)
	long := time.Now().Add(-time.Hour)
	os.Chtimes(old, long, long)
	os.Chtimes(oldUIDLs, long, long)
	m := open(t, dir)
	m.TotalSize()
	maildir.WaitCache(m)
	m.Close()
	for _, p := range []string{old, oldUIDLs} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("left-over temporary file %s is still there", filepath.Base(p))
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary file was removed")
	}
}

// TestDuplicateSurvivorKeepsUID: of new/X and cur/X:2,S, the one with X's
// id is deleted; the survivor keeps its own id, not X.
func TestDuplicateSurvivorKeepsUID(t *testing.T) {
	dir := t.TempDir()
	deliver(t, dir, "cur", "1.M1P1.dup:2,S", "first\n")
	deliver(t, dir, "new", "1.M1P1.dup", "second\n")
	m := open(t, dir)
	var keeper, survivor int = -1, -1
	for i := range m.Count() {
		if m.UID(i) == "1.M1P1.dup" {
			keeper = i
		} else {
			survivor = i
		}
	}
	if keeper < 0 || survivor < 0 {
		t.Fatalf("UIDs %q", uids(m))
	}
	survivorUID := m.UID(survivor)
	survivorBody := readMessage(t, m, survivor)
	if err := m.Update([]int{keeper}, nil); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m = open(t, dir)
	if m.Count() != 1 || m.UID(0) != survivorUID || readMessage(t, m, 0) != survivorBody {
		t.Errorf("after deleting %q: UIDs %q, want [%q]", "1.M1P1.dup", uids(m), survivorUID)
	}
}

// TestHardLinkToOthersFile: where fs.protected_hardlinks is off, a user
// can hard-link another user's file into their new/; popd, as root, must
// not serve it. The owner's own file under two names (new/X and cur/X
// after a crash between link and unlink) still is a message.
func TestHardLinkToOthersFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file of another owner")
	}
	root := t.TempDir()
	secret := filepath.Join(root, "bob-secret")
	os.WriteFile(secret, []byte("bob's mail\n"), 0o600)
	os.Chown(secret, 4242, 4242)
	md := filepath.Join(root, "alice")
	deliver(t, md, "new", "1.M1P1.own", "mine\n")
	os.MkdirAll(filepath.Join(md, "cur"), 0o700)
	os.Link(filepath.Join(md, "new", "1.M1P1.own"), filepath.Join(md, "cur", "1.M1P1.own:2,"))
	if err := os.Link(secret, filepath.Join(md, "new", "2.M1P1.stolen")); err != nil {
		t.Fatal(err)
	}
	m := open(t, md)
	if m.Count() != 3 {
		t.Fatalf("Count = %d", m.Count())
	}
	for i := range m.Count() {
		size, serr := m.Size(i)
		r, oerr := m.Open(i)
		var body []byte
		if oerr == nil {
			body, _ = io.ReadAll(r)
			r.Close()
		}
		stolen := strings.Contains(string(body), "bob") || m.UID(i) == "2.M1P1.stolen" && (serr == nil || oerr == nil)
		if stolen {
			t.Errorf("message %s served: size %d %v, open %v, %q", m.UID(i), size, serr, oerr, body)
		}
		if m.UID(i) != "2.M1P1.stolen" && (serr != nil || oerr != nil) {
			t.Errorf("message %s refused: %v %v", m.UID(i), serr, oerr)
		}
	}
}
