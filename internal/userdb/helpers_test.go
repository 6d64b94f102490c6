package userdb

import (
	"os"
	"path/filepath"
	"testing"

	"popd/internal/testutil"
)

// writeUsers writes content to a users file in a fresh directory.
func writeUsers(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t testing.TB, content string) (*File, *testutil.Buffer) {
	t.Helper()
	log, lb := testutil.Logger(t)
	f, err := Open(writeUsers(t, content), log)
	if err != nil {
		t.Fatal(err)
	}
	return f, lb
}

func readString(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replaceFile writes content to p the way editors and this package do:
// a new file renamed over the old one.
func replaceFile(t testing.TB, p, content string) {
	t.Helper()
	tmp := p + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}
