package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/charmbracelet/x/exp/teatest"

	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/testutil"
)

var hostile = testutil.Hostile

// unsafeText is a rune that must not reach the screen from popd's data:
// format characters, line and paragraph separators, C1 controls; with
// c0, C0 controls too (a view has its own line endings).
func unsafeText(c0 bool) func(rune) bool {
	return func(r rune) bool {
		switch {
		case r == '\n':
			return false
		case r < 0x20 || r == 0x7f:
			return c0
		}
		return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
	}
}

// hostileData puts each hostile text in every client-chosen field the
// fake serves.
func hostileData(f *fakeBackend) {
	f.sessions, f.users, f.locks = nil, nil, nil
	for i, h := range hostile {
		id := string(rune('a' + i))
		f.sessions = append(f.sessions, control.Session{ID: id, User: h.Text, Remote: h.Text, Local: h.Text,
			State: h.Text, LastCommand: h.Text, Since: t0.Add(-time.Minute)})
		f.users = append(f.users, control.User{Name: h.Text, Scheme: h.Text})
		f.locks = append(f.locks, control.Lock{User: h.Text, Session: id, Owner: h.Text, Host: h.Text, Since: t0})
	}
}

func checkView(t *testing.T, what, v string, shown ...string) {
	t.Helper()
	if i := strings.IndexFunc(v, unsafeText(true)); i >= 0 {
		t.Fatalf("%s shows %q:\n%q", what, []rune(v[i:])[0], v)
	}
	for _, s := range shown {
		if !strings.Contains(v, s) {
			t.Errorf("%s: no %q in\n%s", what, s, v)
		}
	}
}

// TestHostileTextDashboard: every page, the detail pane, the status line
// with popd's errors, the user form and the connection banner show
// client-chosen text of every class with "?" for what a terminal would
// act on.
func TestHostileTextDashboard(t *testing.T) {
	d := newDriver(t, 200, 40)
	hostileData(d.fake)
	d.start()
	var all []string
	for _, h := range hostile {
		all = append(all, h.Shown)
		d.fake.events <- control.Event{Type: event.LoginFailed, Time: t0, Session: h.Text, User: h.Text,
			Remote: h.Text, Reason: h.Text, By: h.Text}
	}
	d.pump()
	for _, page := range []string{"1", "2", "3", "4"} {
		d.keys(page)
		fire[pollTickMsg](d) // users and locks are polled while on screen
		checkView(t, "page "+page, d.view(), all...)
	}

	d.keys("1", "g", "j", "j", "enter") // the bidi override's session
	checkView(t, "detail", d.view(), hostile[2].Shown)
	d.keys("esc")

	for _, h := range hostile {
		d.fake.setErr("Kick", &control.Error{Code: control.CodeNotFound, Message: "no session " + h.Text})
		d.keys("g", "K", "tab", "enter")
		checkView(t, "kick error", d.view(), "no session "+h.Shown)
	}

	d.fake.setErr("AddUser", &control.Error{Code: control.CodeInvalid, Message: "bad name " + hostile[2].Text})
	d.keys("2", "a")
	d.typeText("x")
	d.keys("enter")
	d.typeText("pw")
	d.keys("enter")
	d.typeText("pw")
	d.keys("enter")
	checkView(t, "user form", d.view(), "bad name "+hostile[2].Shown)
	d.keys("esc")

	d.fake.setErr("Sessions", errors.New("popd said "+hostile[2].Text))
	d.keys("1")
	fire[pollTickMsg](d)
	checkView(t, "disconnected", d.view(), "popd said "+hostile[2].Shown)
}

// TestGoldenHostile: how hostile text looks on the Sessions page.
func TestGoldenHostile(t *testing.T) {
	d := newDriver(t, 120, 20)
	hostileData(d.fake)
	d.start()
	golden(t, d.view())
}

// TestHostileTextProgram runs the dashboard as a real program over a
// backend serving hostile text: what it writes to the terminal has the
// "?"s and none of the format characters, separators or C1 controls.
func TestHostileTextProgram(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	fake := newFake()
	hostileData(fake)
	m := NewModel(Options{
		Dial:    func(context.Context) (Backend, error) { return fake, nil },
		Refresh: 50 * time.Millisecond,
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(200, 40))
	var bad string
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		if i := strings.IndexFunc(string(b), unsafeText(false)); i >= 0 && bad == "" {
			bad = string([]rune(string(b[i:]))[:1])
		}
		for _, h := range hostile {
			if !strings.Contains(string(b), h.Shown) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	if bad != "" {
		t.Errorf("the program wrote %q", bad)
	}
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
