package event

import (
	"strings"
	"testing"
	"time"
)

func TestBootTags(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a, b := newBoot(at), newBoot(at.Add(tagUnit))
	if len(a.Tag) != 4 || !strings.HasPrefix(a.ID, a.Tag) || len(a.ID) != 12 {
		t.Fatalf("boot %+v", a)
	}
	if a.Tag == b.Tag {
		t.Fatalf("runs a tenth of a second apart share the tag %q", a.Tag)
	}
	if a.Tag >= b.Tag {
		t.Errorf("tags %q, %q do not sort as their times", a.Tag, b.Tag)
	}
	if a.ID == newBoot(at).ID {
		t.Error("two runs at the same time have the same id")
	}
	if id := a.SessionID(12); id != a.Tag+"-12" {
		t.Errorf("session id %q", id)
	}
	for _, c := range a.ID {
		if !strings.ContainsRune(alphabet, c) {
			t.Fatalf("%q in boot id %q", c, a.ID)
		}
	}
	// The tags come round after 2^20 tenths of a second (29 hours), not before.
	seen := map[string]bool{}
	for i := range 1900 { // 1900 × 53 s < 29 h
		tag := newBoot(at.Add(time.Duration(i) * 53 * time.Second)).Tag
		if seen[tag] {
			t.Fatalf("tag %q repeats within 29 hours", tag)
		}
		seen[tag] = true
	}
}

// Settle returns once the tag's tenth of a second is over: a run that
// starts then has another tag.
func TestBootSettle(t *testing.T) {
	b := NewBoot()
	b.Settle()
	if next := NewBoot(); next.Tag == b.Tag {
		t.Fatalf("a run after Settle has the same tag %q", b.Tag)
	}
}
