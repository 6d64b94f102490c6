package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/muesli/termenv"
)

// TestStaleEventsDim: while popd is unreachable the Events page's lines
// are dimmed whole (the muted colour, the marks still there), as the
// tables' rows are; back, they are not.
func TestStaleEventsDim(t *testing.T) {
	d := sample(t, 120, 30)
	d.m.re = renderer(termenv.TrueColor)
	d.m.setTheme(d.m.s.st.theme)
	d.keys("4")
	muted := d.m.s.st.fg[kMuted].pre
	if muted == "" {
		t.Fatal("no muted colour")
	}
	line := "#3 alice 192.0.2.10:51234 (USER)"
	if strings.Contains(d.view(), muted+line) {
		t.Fatal("dimmed while connected")
	}
	d.fake.setErr("Sessions", errors.New("control: who: popd closed the connection"))
	fire[pollTickMsg](d)
	v := d.view()
	if !strings.Contains(v, muted+line) || !strings.Contains(v, muted+"* session.kicked") || !strings.Contains(v, muted+"── 17 events not seen") {
		t.Fatalf("not dimmed while popd is unreachable:\n%s", escape(v))
	}
	if !strings.Contains(v, "STALE") || !strings.Contains(v, "! login.failed") {
		t.Fatalf("the marks are gone:\n%s", escape(v))
	}
	d.fake.setErr("Sessions", nil)
	fire[redialMsg](d)
	if strings.Contains(d.view(), muted+line) {
		t.Fatal("still dimmed after reconnecting")
	}
}

// TestGoldenMany: the one dialog for the tagged users (disable, with
// their sessions and the box), for the tagged locks (unlock), and the
// Events page while popd is unreachable (in colour: dimmed), at 80×24
// and 160×48.
func TestGoldenMany(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		w, h := sz[0], sz[1]
		t.Run(fmt.Sprintf("users_disable_%dx%d", w, h), func(t *testing.T) {
			d := sample(t, w, h)
			d.keys("2", "space", "space", "j", "j", "space", "e")
			golden(t, d.view())
		})
		t.Run(fmt.Sprintf("locks_unlock_%dx%d", w, h), func(t *testing.T) {
			d := sample(t, w, h)
			d.keys("3", "space", "space", "b")
			golden(t, d.view())
		})
		t.Run(fmt.Sprintf("events_stale_%dx%d", w, h), func(t *testing.T) {
			d := sample(t, w, h)
			d.keys("4", "k", "k")
			d.fake.setErr("Sessions", errors.New("control: who: popd closed the connection"))
			fire[pollTickMsg](d)
			d.m.re = renderer(termenv.TrueColor)
			d.m.setTheme(d.m.s.st.theme)
			golden(t, escape(d.view()))
		})
	}
}
