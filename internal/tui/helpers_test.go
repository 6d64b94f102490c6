package tui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"popd/internal/control"
	"popd/internal/event"
)

// t0 is the fixed "now" of every test.
var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// fakeBackend stands in for *control.Client: canned data, recorded calls.
type fakeBackend struct {
	mu       sync.Mutex
	role     string
	sessions []control.Session
	stats    control.Stats
	users    []control.User
	locks    []control.Lock
	errs     map[string]error // by method name
	penalty  []control.Penalty
	calls    []string
	events   chan control.Event
	closed   bool
}

var _ Backend = (*fakeBackend)(nil)

func newFake() *fakeBackend {
	return &fakeBackend{
		role:     control.RoleAdmin,
		sessions: sampleSessions(),
		stats:    sampleStats(),
		users:    sampleUsers(),
		locks:    sampleLocks(),
		penalty:  samplePenalties(),
		errs:     map[string]error{},
		events:   make(chan control.Event, 1000),
	}
}

func (f *fakeBackend) call(name string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := name
	for _, a := range args {
		c += " " + fmt.Sprint(a)
	}
	f.calls = append(f.calls, c)
	return f.errs[name]
}

// actions are the calls that change something, in order.
func (f *fakeBackend) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		switch strings.Fields(c)[0] {
		case "Sessions", "Stats", "Users", "Locks", "Events", "Penalties":
		default:
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeBackend) setErr(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[method] = err
}

func (f *fakeBackend) Sessions(context.Context) ([]control.Session, error) {
	err := f.call("Sessions")
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]control.Session(nil), f.sessions...), err
}

func (f *fakeBackend) Stats(context.Context) (control.Stats, error) {
	err := f.call("Stats")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats, err
}

func (f *fakeBackend) Users(context.Context) ([]control.User, error) {
	err := f.call("Users")
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]control.User(nil), f.users...), err
}

func (f *fakeBackend) Locks(context.Context) ([]control.Lock, error) {
	err := f.call("Locks")
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]control.Lock(nil), f.locks...), err
}

func (f *fakeBackend) Kick(_ context.Context, id string) error { return f.call("Kick", id) }
func (f *fakeBackend) AddUser(_ context.Context, name, pw string) error {
	return f.call("AddUser", name, pw)
}
func (f *fakeBackend) SetPassword(_ context.Context, name, pw string) error {
	return f.call("SetPassword", name, pw)
}
func (f *fakeBackend) DeleteUser(_ context.Context, name string, purge bool) error {
	return f.call("DeleteUser", name, purge)
}
func (f *fakeBackend) SetDisabled(_ context.Context, name string, d bool) error {
	return f.call("SetDisabled", name, d)
}
func (f *fakeBackend) Unlock(_ context.Context, user string) error { return f.call("Unlock", user) }

func (f *fakeBackend) Events(context.Context) (<-chan control.Event, error) {
	if err := f.call("Events"); err != nil {
		return nil, err
	}
	return f.events, nil
}

func (f *fakeBackend) Role() string { return f.role }

func (f *fakeBackend) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func sampleSessions() []control.Session {
	s := func(id, user, remote string, tls bool, state, last string, n int, oct int64, conn, idle time.Duration) control.Session {
		return control.Session{ID: id, User: user, Remote: remote, Local: "203.0.113.1:995", TLS: tls, State: state,
			LastCommand: last, Retrieved: n, Octets: oct, Since: t0.Add(-conn), Idle: idle,
			Locked: state == "transaction"}
	}
	return []control.Session{
		s("3", "alice", "192.0.2.10:51234", true, "transaction", "RETR", 12, 1_234_567, 3*time.Minute+12*time.Second, 2*time.Second),
		s("7", "bob", "198.51.100.7:40022", true, "transaction", "UIDL", 0, 4_210, 45*time.Second, 1*time.Second),
		s("8", "", "203.0.113.99:33310", false, "authorization", "CAPA", 0, 312, 12*time.Second, 10*time.Second),
		s("12", "carol@example.org", "[2001:db8::42]:60111", true, "transaction", "STAT", 3, 88_000, 2*time.Hour+5*time.Minute, 7*time.Minute),
		s("15", "dave", "192.0.2.200:50500", true, "update", "QUIT", 40, 52_428_800, 61*time.Second, 0),
		s("21", "erin", "198.51.100.23:41000", true, "transaction", "LIST", 1, 9_999, 3*24*time.Hour+4*time.Hour, 30*time.Second),
		s("22", "", "192.0.2.77:44444", true, "authorization", "AUTH", 0, 0, 2*time.Second, 2*time.Second),
		s("30", "frank", "203.0.113.5:12345", false, "transaction", "TOP", 2, 2048, 9*time.Minute, 11*time.Second),
	}
}

func sampleStats() control.Stats {
	return control.Stats{Version: "0.1.0", Uptime: 3*24*time.Hour + 4*time.Hour + 5*time.Minute, Sessions: 8,
		Logins: 1234, Failures: 56, LoginsPerMin: 4.5, FailuresPerMin: 0.5, BytesSent: 1_000_000_000}
}

func sampleUsers() []control.User {
	return []control.User{
		{Name: "alice", Scheme: "BLF-CRYPT", Messages: 120, Octets: 12_345_678, Locked: true, LastLogin: t0.Add(-3 * time.Minute)},
		{Name: "bob", Scheme: "SHA512-CRYPT", Messages: 3, Octets: 10_240, Locked: true, LastLogin: t0.Add(-45 * time.Second)},
		{Name: "carol@example.org", Scheme: "ARGON2ID", Messages: 0, Octets: 0, LastLogin: t0.Add(-26 * time.Hour)},
		{Name: "dave", Scheme: "BLF-CRYPT", Messages: 4012, Octets: 2_147_483_648, Locked: true, LastLogin: t0.Add(-61 * time.Second)},
		{Name: "mallory", Scheme: "SHA512-CRYPT", Disabled: true, Messages: 7, Octets: 70_000},
	}
}

func sampleLocks() []control.Lock {
	return []control.Lock{
		{User: "alice", Session: "3", Owner: "popd", Host: "mx1", PID: 811, Since: t0.Add(-3 * time.Minute), Refreshed: t0.Add(-10 * time.Second)},
		{User: "dave", Owner: "popd", Host: "mx2", PID: 4242, Since: t0.Add(-50 * time.Minute), Refreshed: t0.Add(-20 * time.Minute), Stale: true},
	}
}

func sampleEvents() []control.Event {
	at := func(s int) time.Time { return t0.Add(time.Duration(s-120) * time.Second) }
	return []control.Event{
		{Type: event.SessionOpened, Time: at(1), Session: "3", Remote: "192.0.2.10:51234"},
		{Type: event.Login, Time: at(2), Session: "3", User: "alice", Remote: "192.0.2.10:51234", Reason: "USER"},
		{Type: event.LoginFailed, Time: at(10), Session: "5", User: "root", Remote: "203.0.113.66:1234", Reason: "AUTH"},
		{Type: event.Penalty, Time: at(11), Remote: "203.0.113.66", Reason: "5 failed logins"},
		{Type: event.Delivered, Time: at(20), User: "alice"},
		{Type: event.SessionClosed, Time: at(30), Session: "4", User: "bob", Remote: "198.51.100.7:40000", Retrieved: 3, Deleted: 3, Octets: 12345, Reason: "quit"},
		{Type: event.Kicked, Time: at(40), Session: "6", User: "eve", Remote: "192.0.2.66:999", By: "uid 0"},
		{Type: event.Unlocked, Time: at(50), User: "dave", By: "uid 0"},
		{Type: event.UsersReloaded, Time: at(60), Count: 5},
		{Type: event.UserChanged, Time: at(61), User: "mallory", Reason: "disabled", By: "uid 0"},
		{Type: event.Dropped, Time: at(70), Count: 17},
		{Type: event.Login, Time: at(80), Session: "7", User: "bob", Remote: "198.51.100.7:40022", Reason: "APOP"},
	}
}

// renderer returns a renderer with a fixed colour profile.
func renderer(p termenv.Profile) *lipgloss.Renderer {
	re := lipgloss.NewRenderer(io.Discard)
	re.SetColorProfile(p)
	return re
}

// testTick is a timer the driver holds instead of waiting for it.
type testTick struct {
	d   time.Duration
	msg tea.Msg
}

// testWait is the event reader, held until the test pumps events.
type testWait struct {
	ctx       context.Context
	ch        <-chan control.Event
	node, gen int
}

// driver runs a Model the way bubbletea would, synchronously: it feeds each
// Cmd's message back into Update. Timers and the event reader are held for
// the test to fire.
type driver struct {
	t     *testing.T
	m     Model
	fake  *fakeBackend
	ticks []testTick
	wait  *testWait
	quit  bool
	dials int
	dial  func(n int) (Backend, error) // nil: always the fake
}

type driverOpt func(*driver, *Options)

func readOnly(d *driver, o *Options) { o.ReadOnly = true }

func newDriver(t *testing.T, w, h int, opts ...driverOpt) *driver {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no user themes
	d := &driver{t: t, fake: newFake()}
	opt := Options{Theme: "default", Dial: func(context.Context) (Backend, error) {
		d.dials++
		if d.dial != nil {
			return d.dial(d.dials)
		}
		return d.fake, nil
	}}
	for _, o := range opts {
		o(d, &opt)
	}
	d.m = testModel(opt, renderer(termenv.Ascii))
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	return d
}

// testModel is a Model with the fixed clock and held timers.
func testModel(opt Options, re *lipgloss.Renderer) Model {
	m := newModel(opt, re)
	m.s.now = func() time.Time { return t0 }
	m.s.loc = time.UTC
	m.tick = func(d time.Duration, f func(time.Time) tea.Msg) tea.Cmd {
		return func() tea.Msg { return testTick{d: d, msg: f(t0.Add(d))} }
	}
	m.wait = func(ctx context.Context, ch <-chan control.Event, node, gen int) tea.Cmd {
		return func() tea.Msg { return testWait{ctx: ctx, ch: ch, node: node, gen: gen} }
	}
	return m
}

// start runs Init: dial, first poll, event subscription.
func (d *driver) start() *driver {
	d.t.Helper()
	d.run(d.m.Init())
	return d
}

func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	nm, cmd := d.m.Update(msg)
	d.m = nm.(Model)
	d.run(cmd)
}

func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	case testTick:
		d.ticks = append(d.ticks, msg)
	case testWait:
		d.wait = &msg
	case tea.QuitMsg:
		d.quit = true
	default:
		d.send(msg)
	}
}

// keys types each argument: a key name ("enter", "tab") or runes.
func (d *driver) keys(ks ...string) {
	d.t.Helper()
	for _, k := range ks {
		d.send(keyMsg(k))
	}
}

func keyMsg(k string) tea.KeyMsg {
	names := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "esc": tea.KeyEsc,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"ctrl+c": tea.KeyCtrlC, "ctrl+d": tea.KeyCtrlD, "ctrl+u": tea.KeyCtrlU, "backspace": tea.KeyBackspace,
		"space": tea.KeySpace,
	}
	if t, ok := names[k]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// typeText types each rune of s as its own key.
func (d *driver) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// fire delivers the held timers whose message is a T.
func fire[T any](d *driver) int {
	d.t.Helper()
	var keep, due []testTick
	for _, tk := range d.ticks {
		if _, ok := tk.msg.(T); ok {
			due = append(due, tk)
		} else {
			keep = append(keep, tk)
		}
	}
	d.ticks = keep
	for _, tk := range due {
		d.send(tk.msg)
	}
	return len(due)
}

// held returns the held timers whose message is a T.
func held[T any](d *driver) []testTick {
	var out []testTick
	for _, tk := range d.ticks {
		if _, ok := tk.msg.(T); ok {
			out = append(out, tk)
		}
	}
	return out
}

// pump lets the held event reader take what is in the channel now.
func (d *driver) pump() {
	d.t.Helper()
	if d.wait == nil {
		d.t.Fatal("no event reader is waiting")
	}
	w := d.wait
	d.wait = nil
	d.run(waitEvents(w.ctx, w.ch, w.node, w.gen))
}

// poll feeds one poll result as if it came from popd at at.
func (d *driver) poll(sessions []control.Session, at time.Time) {
	d.t.Helper()
	d.send(pollMsg{gen: d.ln().gen, seq: d.ln().pollSeq, at: at, sessions: sessions, got: fetchSessions,
		stats: d.fake.stats, gotStats: true})
}

func (d *driver) view() string { return d.m.View() }

// ln is the connection of a dashboard on one popd.
func (d *driver) ln() *link { return d.m.links[0] }

// The pages, through the test hooks.
func (d *driver) sessions() *sessionsPage { return pageOf[*sessionsPage](d.m) }
func (d *driver) users() *usersPage       { return pageOf[*usersPage](d.m) }
func (d *driver) locks() *locksPage       { return pageOf[*locksPage](d.m) }
func (d *driver) events() *eventsPage     { return pageOf[*eventsPage](d.m) }

func (d *driver) selected() string {
	if s := d.sessions().t.selected(); s != nil {
		return s.ID
	}
	return ""
}

func (d *driver) mustContain(what ...string) {
	d.t.Helper()
	v := d.view()
	for _, w := range what {
		if !strings.Contains(v, w) {
			d.t.Fatalf("view does not contain %q:\n%s", w, v)
		}
	}
}

func (d *driver) mustNotContain(what ...string) {
	d.t.Helper()
	v := d.view()
	for _, w := range what {
		if strings.Contains(v, w) {
			d.t.Fatalf("view contains %q:\n%s", w, v)
		}
	}
}

// waitScreen waits for a running program to have drawn every one of what.
func waitScreen(t *testing.T, tm *teatest.TestModel, what ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, x := range what {
			if !bytes.Contains(b, []byte(x)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}
