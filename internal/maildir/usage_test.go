package maildir

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUsageCache(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"new", "cur"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	os.WriteFile(filepath.Join(dir, "new", "1.a"), []byte("12345"), 0o600)
	os.WriteFile(filepath.Join(dir, "cur", "2.b:2,S"), []byte("123"), 0o600)
	os.WriteFile(filepath.Join(dir, "cur", ".hidden"), []byte("x"), 0o600)
	var c Usage
	if n, o := c.Count(dir); n != 2 || o != 8 {
		t.Fatalf("got %d messages, %d octets; want 2, 8", n, o)
	}
	// Folders changed just now are counted, not kept.
	if len(c.m) != 0 {
		t.Fatal("a count of freshly changed folders was cached")
	}
	// Once quiet, the count is kept...
	old := time.Now().Add(-time.Minute)
	for _, sub := range []string{"new", "cur"} {
		os.Chtimes(filepath.Join(dir, sub), old, old)
	}
	c.Count(dir)
	if len(c.m) != 1 {
		t.Fatal("a count of quiet folders was not cached")
	}
	// ...and a delivery (which changes new/'s time) is seen.
	os.WriteFile(filepath.Join(dir, "new", "3.c"), []byte("1"), 0o600)
	if n, o := c.Count(dir); n != 3 || o != 9 {
		t.Fatalf("after a delivery: %d messages, %d octets; want 3, 9", n, o)
	}
}
