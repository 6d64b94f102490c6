package userdb

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// SetDisabledMany: the users named change in one write, the others and
// every other line stay byte for byte, and each name has its outcome.
func TestSetDisabledMany(t *testing.T) {
	const content = "# users\nalice:{PLAIN}a\nbob:{PLAIN}b::::::reason=x\r\ncarol:{PLAIN}c::::::popd_disabled\ndave:{PLAIN}d\n"
	f, _ := open(t, content)
	p := f.Path()
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := f.SetDisabledMany([]string{"alice", "nobody", "bob", "carol", "bad:name"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 5 || errs[0] != nil || !errors.Is(errs[1], ErrUnknownUser) || errs[2] != nil || errs[3] != nil || errs[4] == nil {
		t.Fatalf("errs %v", errs)
	}
	want := "# users\nalice:{PLAIN}a::::::popd_disabled\nbob:{PLAIN}b::::::reason=x popd_disabled\r\ncarol:{PLAIN}c::::::popd_disabled\ndave:{PLAIN}d\n"
	if got := readString(t, p); got != want {
		t.Fatalf("file:\n%q\nwant\n%q", got, want)
	}
	for _, n := range []string{"alice", "bob", "carol"} {
		if _, err := f.Verify(n, n[:1]); !errors.Is(err, ErrDisabled) {
			t.Errorf("%s: %v", n, err)
		}
	}
	after, _ := os.Stat(p)
	if os.SameFile(before, after) {
		t.Error("the file was not replaced")
	}

	// Nothing to change: no write.
	errs, err = f.SetDisabledMany([]string{"alice", "carol"}, true)
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("again: %v %v", errs, err)
	}
	again, _ := os.Stat(p)
	if !os.SameFile(after, again) {
		t.Error("a no-op rewrote the file")
	}

	// And back: the same bytes.
	if _, err := f.SetDisabledMany([]string{"alice", "bob", "carol"}, false); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, p); got != strings.Replace(content, "carol:{PLAIN}c::::::popd_disabled", "carol:{PLAIN}c", 1) {
		t.Errorf("enabled again:\n%q", got)
	}
}
