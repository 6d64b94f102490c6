package accounts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"popd/internal/control"
	"popd/internal/testutil"
	"popd/internal/userdb"
)

func TestControlError(t *testing.T) {
	other := errors.New("userdb: users: permission denied")
	for _, tt := range []struct {
		err  error
		code control.ErrorCode
		msg  string
	}{
		{userdb.ErrUnknownUser, control.CodeNotFound, "unknown user"},
		{fmt.Errorf("%w: bob", userdb.ErrUnknownUser), control.CodeNotFound, "unknown user: bob"},
		{userdb.ErrUserExists, control.CodeConflict, "user already exists"},
		{userdb.ValidName("a:b"), control.CodeInvalid, "invalid user name: character U+003A not allowed"},
		{fmt.Errorf("%w: empty", userdb.ErrInvalidPassword), control.CodeInvalid, "invalid new password: empty"},
	} {
		var ce *control.Error
		if !errors.As(ControlError(tt.err), &ce) || ce.Code != tt.code || ce.Message != tt.msg {
			t.Errorf("ControlError(%v) = %v, want %s: %s", tt.err, ControlError(tt.err), tt.code, tt.msg)
		}
	}
	if err := ControlError(nil); err != nil {
		t.Errorf("ControlError(nil) = %v", err)
	}
	if err := ControlError(other); err != other {
		t.Errorf("ControlError(other) = %v, want it unchanged", err)
	}
}

// code is the control error code of err, "" for none.
func code(err error) control.ErrorCode {
	var ce *control.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if _, err := OpenFile(path, false, testutil.Log(t)); err == nil {
		t.Fatal("opened a missing file without create")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the file was created without create")
	}
	f, err := OpenFile(path, true, testutil.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 0 {
		t.Fatalf("new users file: %v, %v", fi, err)
	}
	if us := f.List(); us == nil || len(us) != 0 {
		t.Errorf("empty file: List() = %#v, want an empty slice", us)
	}

	// verify checks a password against the file as on disk now.
	verify := func(name, pw string) error {
		t.Helper()
		db, err := userdb.Open(path, testutil.Log(t))
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Verify(name, pw)
		return err
	}
	for _, u := range []struct{ name, pw string }{{"bob", "bob pw"}, {"alice", "alice pw"}} {
		if err := f.Add(u.name, u.pw); err != nil {
			t.Fatalf("Add(%s): %v", u.name, err)
		}
		if err := verify(u.name, u.pw); err != nil {
			t.Errorf("%s after Add: %v", u.name, err)
		}
	}
	if err := f.SetPassword("alice", "new pw"); err != nil {
		t.Fatal(err)
	}
	if err := verify("alice", "new pw"); err != nil {
		t.Errorf("alice after SetPassword: %v", err)
	}
	if err := f.SetDisabled("bob", true); err != nil {
		t.Fatal(err)
	}
	if err := verify("bob", "bob pw"); !errors.Is(err, userdb.ErrDisabled) {
		t.Errorf("bob after SetDisabled: %v", err)
	}
	want := []control.User{
		{Name: "alice", Scheme: userdb.DefaultScheme},
		{Name: "bob", Scheme: userdb.DefaultScheme, Disabled: true},
	}
	if got := f.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("List() = %+v, want %+v", got, want)
	}
	if err := f.SetDisabled("bob", false); err != nil {
		t.Fatal(err)
	}
	if err := verify("bob", "bob pw"); err != nil {
		t.Errorf("bob after enabling: %v", err)
	}
	if err := f.Delete("bob"); err != nil {
		t.Fatal(err)
	}
	if got := f.List(); len(got) != 1 || got[0].Name != "alice" {
		t.Errorf("after Delete: %+v", got)
	}

	// Errors come as the daemon's would, and change nothing.
	before := readFile(t, path)
	for what, tt := range map[string]struct {
		err  error
		want control.ErrorCode
	}{
		"add existing":     {f.Add("alice", "x"), control.CodeConflict},
		"add bad name":     {f.Add("a:b", "x"), control.CodeInvalid},
		"add bad password": {f.Add("carol", "a\nb"), control.CodeInvalid},
		"passwd unknown":   {f.SetPassword("bob", "x"), control.CodeNotFound},
		"passwd empty":     {f.SetPassword("alice", ""), control.CodeInvalid},
		"disable unknown":  {f.SetDisabled("bob", true), control.CodeNotFound},
		"delete unknown":   {f.Delete("bob"), control.CodeNotFound},
		"delete bad name":  {f.Delete("../x"), control.CodeInvalid},
	} {
		if got := code(tt.err); got != tt.want {
			t.Errorf("%s: %v (code %q), want code %q", what, tt.err, got, tt.want)
		}
	}
	if after := readFile(t, path); after != before {
		t.Errorf("the failed edits changed the file:\n%s\nwas:\n%s", after, before)
	}

	// Opening with create keeps an existing file.
	f, err = OpenFile(path, true, testutil.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.List(); len(got) != 1 || got[0].Name != "alice" {
		t.Errorf("reopened with create: %+v", got)
	}
}

// Two Files on the same path, as popadm and popd: each edit applies to
// what is on disk, never to a stale copy.
func TestFileSharedEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	a, err := OpenFile(path, true, testutil.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenFile(path, false, testutil.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add("alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := b.Add("bob", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := a.Add("bob", "pw"); code(err) != control.CodeConflict {
		t.Errorf("a added bob again: %v", err)
	}
	if got := a.List(); len(got) != 2 {
		t.Errorf("a sees %+v, want alice and bob", got)
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenFile(dir, true, nil); err == nil {
		t.Error("opened a directory")
	}
	if _, err := OpenFile(filepath.Join(dir, "no", "users"), true, nil); err == nil {
		t.Error("created a file in a missing directory")
	}
	// A symlink is not followed to create a file elsewhere.
	target := filepath.Join(dir, "elsewhere")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	OpenFile(link, true, nil)
	if _, err := os.Lstat(target); err == nil {
		t.Error("create followed a dangling symlink")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
