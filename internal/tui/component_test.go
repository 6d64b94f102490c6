package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// fakePage is a page from outside the dashboard's own four: what it is
// given and what it draws are its own.
type fakePage struct {
	s    *shared
	keys []string // the keys it was given
	w, h int
	zap  key.Binding
}

func newFakePage(s *shared) page {
	return &fakePage{s: s, zap: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "frobnicate"))}
}

func (p *fakePage) Name() string              { return "Fake" }
func (p *fakePage) Badge() string             { return "7" }
func (p *fakePage) Status() []string          { return []string{"fake status"} }
func (p *fakePage) SetSize(w, h int)          { p.w, p.h = w, h }
func (p *fakePage) ShortHelp() []key.Binding  { return p.s.short(false, p.zap) }
func (p *fakePage) FullHelp() [][]key.Binding { return p.s.full([]key.Binding{p.zap}) }

func (p *fakePage) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		p.keys = append(p.keys, k.String())
	}
	return nil
}

func (p *fakePage) View() string {
	return fmt.Sprintf("FAKE BODY %dx%d, keys %s", p.w, p.h, strings.Join(p.keys, ","))
}

// TestRegisterPage: a page registered in one line gets a tab, its number
// key, the keys the frame does not take, the help bar, the full help, the
// status line, a : command and the body.
func TestRegisterPage(t *testing.T) {
	registerPage(t, newFakePage)
	d := newDriver(t, 120, 30).start()
	d.mustContain("4 Events", "5 Penalties", "6 Fake 7")
	d.mustNotContain("FAKE BODY")

	d.keys("6")
	fake := pageOf[*fakePage](d.m)
	if d.m.pageName() != "Fake" {
		t.Fatalf("6 went to %s", d.m.pageName())
	}
	d.mustContain("FAKE BODY 120x25, keys ", "fake status", "x frobnicate", "1-6 views")
	d.mustNotContain("K kick")

	// Its keys reach it; the frame's do not.
	d.keys("x", "j", "tab")
	if !slices.Equal(fake.keys, []string{"x", "j"}) {
		t.Fatalf("the page got %q", fake.keys)
	}
	if d.m.pageName() != "Sessions" {
		t.Fatalf("tab went to %s", d.m.pageName())
	}
	// Only the page on screen gets keys.
	d.keys("x", "4", "x")
	if len(fake.keys) != 2 {
		t.Fatalf("a key for another page reached the fake one: %q", fake.keys)
	}

	// : names it; ? shows its keys.
	d.keys(":")
	d.typeText("fake")
	d.keys("enter", "?")
	d.mustContain("KEYS — FAKE", "x frobnicate", "1-6       views")
	d.keys("esc")
	d.mustContain("FAKE BODY 120x25, keys x,j")
}

// TestActions: every action has its words and its call, and says what it
// did the way popadm and the API name it.
func TestActions(t *testing.T) {
	for a := actKick; int(a) < len(actions); a++ {
		s := a.spec()
		if s.name == "" || s.do == nil || !strings.Contains(s.verb, "%s") || !strings.Contains(s.done, "%s") {
			t.Errorf("action %d: %+v", a, s)
		}
	}
	for _, tc := range []struct {
		r         request
		done, bad string
	}{
		{request{act: actKick, target: "7"}, "session 7 kicked", "could not kick session 7: x"},
		{request{act: actUnlock, target: "dave"}, "maildrop of dave unlocked", "could not unlock the maildrop of dave: x"},
		{request{act: actDelete, target: "bob", purge: true}, "user bob and their mail deleted", "could not delete bob: x"},
		{request{act: actPasswd, target: "bob", password: "secret"}, "password of bob set", "could not set the password of bob: x"},
	} {
		if got := tc.r.succeeded(); got != tc.done {
			t.Errorf("%v: %q, want %q", tc.r, got, tc.done)
		}
		if got := tc.r.failed(errString("x")); got != tc.bad {
			t.Errorf("%v: %q, want %q", tc.r, got, tc.bad)
		}
	}
	if s := fmt.Sprintf("%v %+v", request{act: actAdd, target: "zoe", password: "secret"}, request{password: "secret"}); strings.Contains(s, "secret") {
		t.Errorf("a request prints its password: %s", s)
	}
}
