package userdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"popd/internal/testutil"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir, nil); err == nil {
		t.Error("directory opened")
	}
	f, err := Open(writeUsers(t, ""), nil) // nil logger is allowed
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Users()); n != 0 {
		t.Errorf("%d users in an empty file", n)
	}
}

func TestVerify(t *testing.T) {
	bob, err := Hash("", "bobpw")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("p", MaxPasswordLen)
	f, _ := open(t, "alice:{PLAIN}alicepw:1000:1000::/home/alice\n"+
		"long:{PLAIN}"+long+"\n"+
		"bob:"+bob+"\n"+
		"carol:{PLAIN}carolpw::::::nologin\n"+
		"dave:{SSHA}xyz\n")

	u, err := f.Verify("alice", "alicepw")
	if err != nil || u.Name != "alice" || u.Home != "/home/alice" || u.Scheme != "PLAIN" {
		t.Errorf("alice: %#v, %v", u, err)
	}
	if _, err := f.Verify("long", long); err != nil {
		t.Errorf("longest password: %v", err)
	}
	if u, err := f.Verify("bob", "bobpw"); err != nil || u.Scheme != "BLF-CRYPT" {
		t.Errorf("bob: %#v, %v", u, err)
	}
	tests := []struct {
		name, pw string
		want     error
	}{
		{"alice", "nope", ErrBadPassword},
		{"alice", "", ErrBadPassword},
		{"alice", "ALICEPW", ErrBadPassword},
		{"Alice", "alicepw", ErrUnknownUser},
		{"bob", "bobpw ", ErrBadPassword},
		{"carol", "carolpw", ErrDisabled},
		{"carol", "nope", ErrBadPassword},
		{"dave", "xyz", ErrUnsupportedScheme},
		{"nobody", "alicepw", ErrUnknownUser},
		{"alice", strings.Repeat("a", MaxPasswordLen+1), ErrBadPassword},
		{"nobody", strings.Repeat("a", MaxPasswordLen+1), ErrUnknownUser},
		{"../alice", "alicepw", ErrInvalidName},
		{"", "x", ErrInvalidName},
		{"alice\x00", "alicepw", ErrInvalidName},
	}
	for _, tt := range tests {
		u, err := f.Verify(tt.name, tt.pw)
		if !errors.Is(err, tt.want) {
			t.Errorf("Verify(%q, %q) = %v, want %v", tt.name, tt.pw, err, tt.want)
		}
		if u.Name != "" {
			t.Errorf("Verify(%q, %q) returned user %q with an error", tt.name, tt.pw, u.Name)
		}
		if err != nil && tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// An unknown user costs about what a real bcrypt check costs. Loose on
// purpose: the minimum of a few runs, compared with a third of the real one.
func TestVerifyTiming(t *testing.T) {
	h, err := Hash("", "pw")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := open(t, "alice:"+h+"\nweird:{SSHA}abc\n")
	best := func(name string) time.Duration {
		d := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			f.Verify(name, "pw")
			d = min(d, time.Since(start))
		}
		return d
	}
	known, unknown, unsupported := best("alice"), best("nobody"), best("weird")
	t.Logf("bcrypt: %v, unknown user: %v, unsupported scheme: %v", known, unknown, unsupported)
	if unknown < known/3 || unsupported < known/3 {
		t.Errorf("unknown user %v or unsupported scheme %v much faster than a real check %v", unknown, unsupported, known)
	}
	if unknown < 10*time.Millisecond {
		t.Errorf("unknown user took only %v", unknown)
	}
}

func TestReload(t *testing.T) {
	f, _ := open(t, "alice:{PLAIN}a\n")
	replaceFile(t, f.Path(), "# now bob\nbob:{PLAIN}b\n")
	if _, ok := f.Lookup("bob"); ok {
		t.Fatal("changed before Reload")
	}
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Lookup("alice"); ok {
		t.Error("alice still there")
	}
	if _, err := f.Verify("bob", "b"); err != nil {
		t.Error(err)
	}

	// A failed reload keeps the table.
	if err := os.Remove(f.Path()); err != nil {
		t.Fatal(err)
	}
	if err := f.Reload(); err == nil {
		t.Error("Reload of a missing file succeeded")
	}
	if _, err := f.Verify("bob", "b"); err != nil {
		t.Errorf("after failed reload: %v", err)
	}
}

// Generation changes with the table, and only then.
func TestGeneration(t *testing.T) {
	f, _ := open(t, "alice:{PLAIN}a\n")
	g := f.Generation()
	if err := f.Reload(); err != nil || f.Generation() != g {
		t.Fatalf("a reload of the same file: generation %d -> %d, %v", g, f.Generation(), err)
	}
	replaceFile(t, f.Path(), "bob:{PLAIN}b\n")
	if err := f.Reload(); err != nil || f.Generation() == g {
		t.Fatalf("a reload of a changed file: generation %d -> %d, %v", g, f.Generation(), err)
	}
	g = f.Generation()
	if err := f.Add("carol", "c"); err != nil || f.Generation() == g {
		t.Fatalf("an edit: generation %d -> %d, %v", g, f.Generation(), err)
	}
	g = f.Generation()
	os.Remove(f.Path())
	if err := f.Reload(); err == nil || f.Generation() != g {
		t.Fatalf("a failed reload: generation %d -> %d, %v", g, f.Generation(), err)
	}
}

func TestWatch(t *testing.T) {
	f, _ := open(t, "alice:{PLAIN}a\n")
	var reloads atomic.Int32
	f.OnReload = func(n int, err error) {
		if err == nil {
			reloads.Add(1)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Watch(ctx) }()

	has := func(name string) func() bool {
		return func() bool { _, ok := f.Lookup(name); return ok }
	}
	// Replaced by rename, as editors and our own edits do.
	replaceFile(t, f.Path(), "alice:{PLAIN}a\nbob:{PLAIN}b\n")
	testutil.Eventually(t, 2*time.Second, "bob after rename", has("bob"))

	// Written in place.
	if err := os.WriteFile(f.Path(), []byte("alice:{PLAIN}a\nbob:{PLAIN}b\ncarol:{PLAIN}c\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Second, "carol after in-place write", has("carol"))

	// Our own edit, from another File (as popadm would).
	other, err := Open(f.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Add("dave", "d"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 2*time.Second, "dave after Add", has("dave"))
	if reloads.Load() < 3 {
		t.Errorf("OnReload called %d times", reloads.Load())
	}

	// Removed and put back: the old table stays meanwhile.
	if err := os.Remove(f.Path()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * watchDebounce)
	if !has("dave")() {
		t.Error("users lost when the file vanished")
	}
	replaceFile(t, f.Path(), "erin:{PLAIN}e\n")
	testutil.Eventually(t, 2*time.Second, "erin after re-create", has("erin"))

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

const editFixture = "# popd users\r\n" +
	"#   managed by hand and by popadm\n" +
	"\n" +
	"alice:{PLAIN}a:1000:1000:Alice:/home/alice:/bin/false:userdb_mail=maildir:~/Maildir\n" +
	"  # indented comment\n" +
	"broken line without colon\n" +
	"bob:{PLAIN}b\n" +
	"bob:{PLAIN}shadowed\n" +
	"carol:{PLAIN}c::::::nologin popd_disabled=yes reason=x\n" +
	"dave:{PLAIN}d" // no final newline

func TestEdits(t *testing.T) {
	f, _ := open(t, editFixture)
	p := f.Path()
	if err := os.Chmod(p, 0o604); err != nil {
		t.Fatal(err)
	}
	check := func(what, want string) {
		t.Helper()
		if got := readString(t, p); got != want {
			t.Fatalf("%s: file is\n%q\nwant\n%q", what, got, want)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o604 {
			t.Errorf("%s: mode %v", what, fi.Mode())
		}
		ents, _ := os.ReadDir(filepath.Dir(p))
		for _, e := range ents {
			if e.Name() != "users" && e.Name() != "users.lock" {
				t.Errorf("%s: left %s behind", what, e.Name())
			}
		}
	}

	// Add: appended, after terminating the last line.
	if err := f.Add("erin", "erin pw"); err != nil {
		t.Fatal(err)
	}
	got := readString(t, p)
	prefix := editFixture + "\r\n" // the first line ending found is CRLF
	if !strings.HasPrefix(got, prefix+"erin:{BLF-CRYPT}$2y$10$") || !strings.HasSuffix(got, "\r\n") || strings.Count(got[len(prefix):], "\n") != 1 {
		t.Fatalf("after Add: %q", got)
	}
	if _, err := f.Verify("erin", "erin pw"); err != nil {
		t.Errorf("new user: %v", err)
	}
	again, _ := Open(p, nil)
	if _, err := again.Verify("erin", "erin pw"); err != nil {
		t.Errorf("new user, read back: %v", err)
	}
	for _, name := range []string{"alice", "bob", "erin"} {
		if err := f.Add(name, "x"); !errors.Is(err, ErrUserExists) {
			t.Errorf("Add(%s) existing: %v", name, err)
		}
	}
	for _, name := range []string{"../x", "a:b", ".x", ""} {
		if err := f.Add(name, "x"); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Add(%q): %v", name, err)
		}
	}
	if err := f.Add("frank", ""); !errors.Is(err, ErrInvalidPassword) {
		t.Errorf("Add empty password: %v", err)
	}
	afterAdd := readString(t, p)
	check("failed adds", afterAdd)

	// SetPassword: only the password field of the first entry changes.
	if err := f.SetPassword("alice", "new alice"); err != nil {
		t.Fatal(err)
	}
	got = readString(t, p)
	aliceLine := strings.Split(got, "\n")[3]
	if !strings.HasPrefix(aliceLine, "alice:{BLF-CRYPT}$2y$10$") || !strings.HasSuffix(aliceLine, ":1000:1000:Alice:/home/alice:/bin/false:userdb_mail=maildir:~/Maildir") {
		t.Errorf("alice's line: %q", aliceLine)
	}
	if strings.Replace(got, aliceLine, "alice:{PLAIN}a:1000:1000:Alice:/home/alice:/bin/false:userdb_mail=maildir:~/Maildir", 1) != afterAdd {
		t.Errorf("SetPassword changed other lines:\n%q", got)
	}
	if _, err := f.Verify("alice", "a"); !errors.Is(err, ErrBadPassword) {
		t.Errorf("old password: %v", err)
	}
	if u, err := f.Verify("alice", "new alice"); err != nil || u.Home != "/home/alice" {
		t.Errorf("new password: %v", err)
	}
	if err := f.SetPassword("nobody", "x"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("SetPassword(nobody): %v", err)
	}
	if err := f.SetPassword("bob", "b"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readString(t, p), "bob:{PLAIN}shadowed\n") {
		t.Error("SetPassword touched the shadowed duplicate")
	}
	if err := f.SetPassword("bob", "b"); err != nil { // and back, for what follows
		t.Fatal(err)
	}
	beforeState := readString(t, p)

	// SetDisabled: on and off gives the same bytes back.
	if err := f.SetDisabled("dave", true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readString(t, p), "\ndave:{PLAIN}d::::::popd_disabled\r\n") {
		t.Errorf("dave not disabled: %q", readString(t, p))
	}
	if _, err := f.Verify("dave", "d"); !errors.Is(err, ErrDisabled) {
		t.Errorf("disabled dave: %v", err)
	}
	if err := f.SetDisabled("dave", true); err != nil { // no-op
		t.Fatal(err)
	}
	if err := f.SetDisabled("dave", false); err != nil {
		t.Fatal(err)
	}
	check("disable, enable", beforeState)
	if _, err := f.Verify("dave", "d"); err != nil {
		t.Errorf("enabled dave: %v", err)
	}
	if err := f.SetDisabled("alice", false); err != nil { // already enabled: no write
		t.Fatal(err)
	}
	check("no-op enable", beforeState)
	if err := f.SetDisabled("carol", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readString(t, p), "\ncarol:{PLAIN}c::::::reason=x\n") {
		t.Errorf("carol: %q", readString(t, p))
	}
	if _, err := f.Verify("carol", "c"); err != nil {
		t.Errorf("enabled carol: %v", err)
	}
	if err := f.SetDisabled("nobody", true); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("SetDisabled(nobody): %v", err)
	}

	// Delete: every line of the user, nothing else.
	if err := f.Delete("bob"); err != nil {
		t.Fatal(err)
	}
	got = readString(t, p)
	if strings.Contains(got, "bob") {
		t.Errorf("bob left: %q", got)
	}
	if _, ok := f.Lookup("bob"); ok {
		t.Error("bob still loaded")
	}
	if err := f.Delete("bob"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("Delete again: %v", err)
	}
	for _, keep := range []string{"# popd users\r\n#   managed by hand and by popadm\n\n", "  # indented comment\nbroken line without colon\n"} {
		if !strings.Contains(got, keep) {
			t.Errorf("lost %q", keep)
		}
	}
	check("final", got)
}

func TestEditNewFileEndings(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "a:"},
		{"# x\n", "# x\na:"},
		{"# x", "# x\na:"},
		{"# x\r\n", "# x\r\na:"},
	} {
		f, _ := open(t, c.in)
		if err := f.Add("a", "p"); err != nil {
			t.Fatal(err)
		}
		got := readString(t, f.Path())
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%q + a = %q", c.in, got)
		}
	}
}

// A hand edit made after Open, without any reload, is kept by the next edit.
func TestEditKeepsHandEdit(t *testing.T) {
	f, logs := open(t, "alice:{PLAIN}a\n")
	p := f.Path()
	// An editor replaces the file...
	replaceFile(t, p, "# bob added by hand\nalice:{PLAIN}a\nbob:{PLAIN}b\n")
	if err := f.Add("carol", "c"); err != nil {
		t.Fatal(err)
	}
	got := readString(t, p)
	if !strings.HasPrefix(got, "# bob added by hand\nalice:{PLAIN}a\nbob:{PLAIN}b\ncarol:") {
		t.Errorf("hand edit lost: %q", got)
	}
	if _, ok := f.Lookup("bob"); !ok {
		t.Error("bob not loaded")
	}
	if !strings.Contains(logs.String(), "changed on disk") {
		t.Error("merge not logged")
	}
	// ... or writes into it; and the edit depends on the new content.
	if err := os.WriteFile(p, []byte("alice:{PLAIN}a\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := f.SetPassword("bob", "x"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("SetPassword of a user deleted by hand: %v", err)
	}
	if err := f.Add("bob", "b2"); err != nil {
		t.Errorf("Add of a user deleted by hand: %v", err)
	}
	if got := readString(t, p); !strings.HasPrefix(got, "alice:{PLAIN}a\nbob:{BLF-CRYPT}") || strings.Contains(got, "carol") {
		t.Errorf("after in-place hand edit: %q", got)
	}
}

// Two Files on the same path (two processes, in effect) editing at once lose
// nothing, while readers verify concurrently.
func TestConcurrentEdits(t *testing.T) {
	p := writeUsers(t, "# shared\nreader:{PLAIN}r\n")
	f1, err := Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go f1.Watch(ctx)

	var wg sync.WaitGroup
	const n = 6
	for i := range n {
		wg.Go(func() {
			f := f1
			if i%2 == 1 {
				f = f2
			}
			if err := f.Add(fmt.Sprintf("u%d", i), "pw"); err != nil {
				t.Error(err)
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f1.Verify("reader", "r"); err != nil {
				t.Error(err)
				return
			}
			f1.Users()
			f1.Reload()
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()

	final, err := Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range final.Users() {
		names = append(names, u.Name)
	}
	want := []string{"reader", "u0", "u1", "u2", "u3", "u4", "u5"}
	if !slices.Equal(names, want) {
		t.Errorf("users %v, want %v", names, want)
	}
	if !strings.HasPrefix(readString(t, p), "# shared\nreader:{PLAIN}r\n") {
		t.Error("head of file changed")
	}
}

// Editing through a symlink changes the target and keeps the link.
func TestEditSymlink(t *testing.T) {
	target := writeUsers(t, "alice:{PLAIN}a\n")
	link := filepath.Join(t.TempDir(), "users-link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	f, err := Open(link, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Add("bob", "b"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced: %v %v", fi.Mode(), err)
	}
	if !strings.Contains(readString(t, target), "bob:") {
		t.Error("target not edited")
	}
	if _, err := os.Stat(target + ".lock"); err != nil {
		t.Errorf("lock not beside the target: %v", err)
	}
}

// The logs of a whole load-verify-edit cycle never show a password or hash.
func TestNoSecretsInLogs(t *testing.T) {
	secrets := []string{"alicepw", "S3cr3t", "svn8UoSVapNtMuq1", "saltstring", "BCryptRequires22", "c29tZXNhbHQ", "abJnggxhB", "pasted-password"}
	f, logs := open(t, strings.Join([]string{
		"alice:{PLAIN}alicepw",
		"bob:{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
		"bob:{BLF-CRYPT}$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq",
		"carol:{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"dave:abJnggxhB/yWI",
		"pasted-password",
		"S3cr3t:{PLAIN}x y",
	}, "\n"))
	var errs []string
	for _, pw := range []string{"S3cr3t"} {
		for _, name := range []string{"alice", "bob", "carol", "dave", "nobody"} {
			if _, err := f.Verify(name, pw); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	for _, err := range []error{f.Add("erin", "S3cr3t"), f.SetPassword("alice", "S3cr3t"), f.Add("x", "S3cr3t\n"), f.SetDisabled("erin", true), f.Delete("erin")} {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	all := logs.String() + strings.Join(errs, "\n")
	for _, s := range secrets[:len(secrets)-1] {
		if strings.Contains(all, s) {
			t.Errorf("%q appears in logs or errors:\n%s", s, all)
		}
	}
	if strings.Contains(all, "pasted-password") {
		t.Error("a bad line's content was logged")
	}
}

// As root, an edit keeps the file's owner and group.
func TestEditKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	f, _ := open(t, "alice:{PLAIN}a\n")
	if err := os.Chown(f.Path(), 4321, 8765); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDisabled("alice", true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if id := identify(fi); id.uid != 4321 || id.gid != 8765 {
		t.Errorf("owner %d:%d after edit", id.uid, id.gid)
	}
	li, err := os.Stat(f.Path() + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	if id := identify(li); id.uid != 4321 || li.Mode().Perm() != 0o640 {
		t.Errorf("lock file owner %d mode %v", id.uid, li.Mode())
	}
}
