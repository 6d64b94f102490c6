package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"popd/internal/control"
	"popd/internal/testutil"
	"popd/internal/testutil/fleettest"
	"popd/internal/testutil/site"
)

// The frame: the header's graphs over popd's history, stale mode, the :
// history, and bugs 1, 5 and 7 of issue 14.

// sampleMinutes is popd's last hour as it gives it to a console that
// connects at t0: the hour up to t0's minute, busy now and then.
func sampleMinutes() []control.Minute {
	var ms []control.Minute
	for i := range 60 {
		ms = append(ms, control.Minute{
			Start:     t0.Truncate(time.Minute).Add(time.Duration(i-59) * time.Minute),
			Sessions:  4 + (i*7)%9,
			Logins:    int64((i * 5) % 13),
			Failures:  int64((i * 3) % 5 / 4),
			BytesSent: int64((i*i)%17) * 400_000,
		})
	}
	return ms
}

// popdHour is popd's last hour for the first of feedHistory's polls, as a
// console is given it when it connects.
func popdHour(poll int) []control.Minute {
	if poll == 0 {
		return sampleMinutes()
	}
	return nil
}

// histFake is a popd that keeps its history (a historian).
type histFake struct {
	*fakeBackend
	mu      sync.Mutex
	minutes []control.Minute
	asked   int
}

func (h *histFake) History(context.Context) ([]control.Minute, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked++
	return h.minutes, h.errs["History"]
}

func (h *histFake) timesAsked() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.asked
}

// withHistory makes the driver's popd one that keeps its history.
func withHistory(d *driver) *histFake {
	h := &histFake{fakeBackend: d.fake, minutes: sampleMinutes()}
	d.dial = func(int) (Backend, error) { return h, nil }
	return h
}

func (d *driver) setNow(t time.Time) { d.m.s.now = func() time.Time { return t } }

// line is the view's line i.
func (d *driver) line(i int) string { return strings.Split(d.view(), "\n")[i] }

func TestHistoryFromPopd(t *testing.T) {
	d := newDriver(t, 160, 48)
	h := withHistory(d)
	d.start()
	if h.timesAsked() != 1 {
		t.Fatalf("history asked %d times on connecting", h.timesAsked())
	}
	hist := &d.ln().hist
	if len(hist.minutes) != 60 || hist.minutes[59].at != unixMinute(t0) {
		t.Fatalf("%d minutes, the last %d", len(hist.minutes), hist.minutes[len(hist.minutes)-1].at)
	}
	// A fresh console's graphs are full: the last 10 minutes, one bar a
	// minute, with their scale.
	g := d.line(1)
	for _, want := range []string{"last 10m", "sessions 8", "max 12", "logins/min 4.5", "max 12", "sent/s"} {
		if !strings.Contains(g, want) {
			t.Fatalf("header lacks %q:\n%s", want, g)
		}
	}
	cs := hist.cells(unixMinute(t0), 1, 10, metric{of: func(m *minute) float64 { return float64(m.logins) }, per: 1})
	for i, c := range cs {
		if want := float64(((50 + i) * 5) % 13); !c.ok || c.v != want {
			t.Fatalf("cell %d: %+v, want %v", i, c, want)
		}
	}

	// The console's polls add to the minute going on.
	before := hist.minutes[59]
	d.fake.stats.Logins += 3
	d.fake.stats.Failures += 2
	d.fake.stats.BytesSent += 5000
	fire[pollTickMsg](d)
	now := d.ln().hist.minutes[59]
	if now.logins != before.logins+3 || now.failures != before.failures+2 || now.bytesSent != before.bytesSent+5000 {
		t.Fatalf("minute going on: %+v, was %+v", now, before)
	}
	if h.timesAsked() != 1 {
		t.Fatal("history asked again within the minute")
	}

	// A new minute: popd's count of the one that ended replaces the
	// console's, and a new bucket starts.
	d.setNow(t0.Add(time.Minute))
	h.mu.Lock()
	h.minutes = append(sampleMinutes()[1:], control.Minute{Start: t0.Truncate(time.Minute).Add(time.Minute), Logins: 1})
	h.minutes[58].Logins = 99
	h.mu.Unlock()
	d.fake.stats.Logins += 1
	fire[pollTickMsg](d)
	hist = &d.ln().hist
	if h.timesAsked() != 2 || len(hist.minutes) != 60 || hist.minutes[58].logins != 99 || hist.minutes[59].logins != 1 {
		t.Fatalf("after a new minute: asked %d, minutes %+v", h.timesAsked(), hist.minutes[57:])
	}

	// :span changes what the graphs cover; nonsense is refused.
	d.keys(":")
	d.typeText("span 60m")
	d.keys("enter")
	d.mustContain("last 1h", "the graphs show the last 1h")
	for _, bad := range []string{"span 0", "span 2h", "span 90s", "span soon"} {
		d.keys(":")
		d.typeText(bad)
		d.keys("enter")
		d.mustContain("span: whole minutes from 1m to 1h")
	}
	if d.m.span != time.Hour {
		t.Fatalf("span %v after nonsense", d.m.span)
	}
	d.keys(":")
	d.typeText("span 5")
	d.keys("enter")
	if d.m.span != 5*time.Minute {
		t.Fatalf(":span 5 gave %v", d.m.span)
	}
}

// TestHistoryOlderPopd: a popd without the history method leaves the
// console to count from its polls, and it is not asked again.
func TestHistoryOlderPopd(t *testing.T) {
	d := newDriver(t, 160, 48)
	h := withHistory(d)
	h.setErr("History", &control.Error{Code: control.CodeBadRequest, Message: `unknown method "history"`})
	d.start()
	d.mustNotContain("refused")
	d.fake.stats.Logins += 4
	fire[pollTickMsg](d)
	d.setNow(t0.Add(time.Minute))
	fire[pollTickMsg](d)
	if h.timesAsked() != 1 {
		t.Fatalf("asked %d times", h.timesAsked())
	}
	ms := d.ln().hist.minutes
	if len(ms) != 2 || ms[0].logins != 4 || ms[1].logins != 0 {
		t.Fatalf("minutes %+v", ms)
	}
}

// TestGraphLayouts: the header's second line fits every width, says its
// span and scale while there is room, and on a narrow terminal keeps the
// graphs of the failed logins and the sessions.
func TestGraphLayouts(t *testing.T) {
	d := newDriver(t, 160, 48)
	withHistory(d)
	d.start()
	for _, tc := range []struct {
		w        int
		has, not []string
	}{
		{200, []string{"last 10m", "sessions 8 ", "max 12", "logins/min 4.5 ", "failed/min 0.5 ", "sent/s "}, nil},
		{160, []string{"last 10m", "max 12"}, nil},
		{120, []string{"last 10m", "max 12", "sent/s - "}, nil},
		{80, []string{"10m ", "sessions 8 ", "failed/min 0.5 "}, []string{"max"}},
		{60, []string{"sessions 8"}, nil},
	} {
		d.send(tea.WindowSizeMsg{Width: tc.w, Height: 30})
		g := d.line(1)
		if n := width(g); n != tc.w {
			t.Errorf("at %d: line is %d cells:\n%s", tc.w, n, g)
		}
		for _, s := range tc.has {
			if !strings.Contains(g, s) {
				t.Errorf("at %d: no %q in\n%s", tc.w, s, g)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(g, s) {
				t.Errorf("at %d: %q in\n%s", tc.w, s, g)
			}
		}
	}
}

func TestBucketing(t *testing.T) {
	for _, tc := range []struct{ span, n, per, cells int }{
		{10, 40, 1, 10}, {10, 10, 1, 10}, {10, 9, 2, 5}, {10, 5, 2, 5}, {60, 30, 2, 30}, {60, 25, 3, 20}, {60, 12, 5, 12},
	} {
		per, cells, ok := bucketing(tc.span, tc.n)
		if per != tc.per || cells != tc.cells || !ok {
			t.Errorf("bucketing(%d, %d) = %d, %d, %v; want %d, %d", tc.span, tc.n, per, cells, ok, tc.per, tc.cells)
		}
	}
	if _, _, ok := bucketing(10, 4); ok {
		t.Error("4 cells for 10 minutes")
	}
	// Unknown minutes are blank; 0 is the lowest bar; the scale is the top.
	bars, top := graph([]cell{{}, {v: 0, ok: true}, {v: 1, ok: true}, {v: 8, ok: true}})
	if bars != " ▁▂█" || top != 8 {
		t.Errorf("graph %q top %v", bars, top)
	}
}

// TestStaleMode: while popd is unreachable the rows are dimmed, the
// clocks of the data stand still, and the action keys say they are off;
// when popd is back all goes on.
func TestStaleMode(t *testing.T) {
	d := newDriver(t, 120, 30).start()
	d.mustContain("3m12s") // session 3, connected for
	if d.m.s.offline || d.m.s.st.dim {
		t.Fatal("stale while connected")
	}
	d.keys("K") // a dialog open when the connection breaks
	d.fake.setErr("Sessions", errors.New("control: who: popd closed the connection"))
	fire[pollTickMsg](d)
	d.keys("tab", "enter") // confirmed: refused, with why
	d.mustContain("could not kick session 3: not connected to popd")
	if !d.m.s.offline || !d.m.s.st.dim {
		t.Fatalf("offline %v, dim %v after the connection broke", d.m.s.offline, d.m.s.st.dim)
	}
	// An hour later nothing on screen has aged but the STALE badge.
	d.setNow(t0.Add(time.Hour))
	d.send(uiTickMsg{})
	d.mustContain("STALE 1h00m", "3m12s", "disconnected from popd")
	d.mustNotContain("1h03m")
	// The keys that change things are off, and say so.
	d.keys("K")
	if d.m.dialog() != nil {
		t.Fatal("K opened a dialog while popd is unreachable")
	}
	d.mustContain("popd unreachable: K is off until it is back")
	d.mustNotContain("K kick")
	d.keys("2", "d")
	d.mustContain("popd unreachable: d is off until it is back")
	d.keys("a")
	if d.m.form() != nil {
		t.Fatal("a opened the form while popd is unreachable")
	}
	d.keys("3", "b")
	d.mustContain("popd unreachable: b is off until it is back")
	d.keys("1", "j") // moving still works
	if d.selected() != "7" {
		t.Fatalf("selected %q", d.selected())
	}
	wantActions(t, d.fake)

	// Back: the clocks run, the keys work.
	d.fake.setErr("Sessions", nil)
	fire[redialMsg](d)
	if d.m.s.offline || d.m.s.st.dim {
		t.Fatal("still stale after reconnecting")
	}
	d.mustContain("1h03m", "● live")
	d.mustNotContain("STALE")
	d.keys("K")
	if d.m.dialog() == nil {
		t.Fatal("K does nothing after reconnecting")
	}
}

// TestStaleModeReadOnly: read-only, the keys are off for that reason,
// and stale mode does not claim them.
func TestStaleModeReadOnly(t *testing.T) {
	d := newDriver(t, 120, 30, readOnly).start()
	d.fake.setErr("Sessions", errors.New("broken pipe"))
	fire[pollTickMsg](d)
	d.keys("K")
	d.mustNotContain("popd unreachable")
}

func TestCommandHistory(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	run := func(line string) {
		d.keys(":")
		d.typeText(line)
		d.keys("enter")
	}
	run("sort idle")
	run("sort user")
	run("  sort   idle ") // the same line: it moves to the end
	if got := strings.Join(d.m.cmds.lines, "|"); got != "sort user|sort idle" {
		t.Fatalf("history %q", got)
	}
	d.keys(":")
	d.typeText("so")
	walk := func(k, want string) {
		t.Helper()
		d.keys(k)
		if got := d.m.input.Value(); got != want {
			t.Fatalf("after %s: %q, want %q", k, got, want)
		}
	}
	walk("up", "sort idle")
	walk("up", "sort user")
	walk("up", "sort user") // the oldest
	walk("down", "sort idle")
	walk("down", "so") // what was typed
	walk("down", "so")
	walk("up", "sort idle")
	d.keys("enter")
	if d.sessions().t.sortName() != "idle ▲" {
		t.Fatalf("sort %q", d.sessions().t.sortName())
	}
	// The filter prompt has no history of its own, nor the command line's.
	d.keys("/", "up")
	if d.m.input.Value() != "" {
		t.Fatalf("the filter took %q from the command history", d.m.input.Value())
	}
	d.keys("esc")
	// Bounded, for the run of the console.
	for i := range maxCmdHistory + 20 {
		d.m.cmds.add(fmt.Sprintf("sort x%d", i))
	}
	if n := len(d.m.cmds.lines); n != maxCmdHistory || d.m.cmds.lines[0] != "sort x20" {
		t.Fatalf("%d lines kept, the oldest %q", n, d.m.cmds.lines[0])
	}
}

// TestFilterPromptFresh (issue 14, bug 1): the / prompt shows nothing left
// from the : line, and Tab does not complete with its suggestions.
func TestFilterPromptFresh(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	d.keys(":")
	d.typeText("the") // completes to "theme "…
	d.mustContain(":theme")
	d.keys("esc")
	d.keys("/", "tab")
	if d.m.input.Value() != "" || d.sessions().t.filter != "" {
		t.Fatalf("tab in the filter took %q", d.m.input.Value())
	}
	d.typeText("t")
	if status := d.line(22); strings.Contains(status, "heme") {
		t.Fatalf("the filter prompt shows the command line's leftovers: %q", status)
	}
	d.keys("backspace")
	d.typeText("bob")
	d.keys("enter")
	if d.sessions().t.filter != "bob" {
		t.Fatalf("filter %q", d.sessions().t.filter)
	}
	// And the : line does not start with the filter's text.
	d.keys(":")
	if d.m.input.Value() != "" {
		t.Fatalf("the command line starts with %q", d.m.input.Value())
	}
}

// TestCommandClearsError (issue 14, bug 7): an error from one command does
// not stay on screen after the next command worked.
func TestCommandClearsError(t *testing.T) {
	d := newDriver(t, 80, 24).start()
	run := func(line string) {
		d.keys(":")
		d.typeText(line)
		d.keys("enter")
	}
	run("sort bogus")
	d.mustContain("no column bogus here")
	run("sort idle")
	d.mustNotContain("no column bogus")
	if d.m.s.flash.text != "" {
		t.Fatalf("flash %q after a command that worked", d.m.s.flash.text)
	}
	run("nonsense")
	d.mustContain("unknown command :nonsense")
	run("users")
	d.mustNotContain("unknown command")
	// An error replaces an error.
	run("sort bogus")
	run("span 3h")
	d.mustNotContain("no column bogus")
	d.mustContain("span: whole minutes")
}

// longHolderLocks are locks of which one's holder is longer than the
// HOLDER column's max.
func longHolderLocks() []control.Lock {
	ls := sampleLocks()
	ls[1].Owner, ls[1].Host, ls[1].PID = "maildrop-cleanup", "mx2.mail.example-hosting.org", 424242
	return ls
}

const longHolder = "maildrop-cleanup@mx2.mail.example-hosting.org pid 424242" // 56 cells

// TestLocksHolderNotCut (issue 14, bug 5): with room to spare, a holder
// longer than its column's max is shown whole.
func TestLocksHolderNotCut(t *testing.T) {
	d := newDriver(t, 200, 30)
	d.fake.locks = longHolderLocks()
	d.start()
	d.keys("3")
	d.mustContain(longHolder)
	// Narrower, it is cut, and the other columns still show.
	d.send(tea.WindowSizeMsg{Width: 90, Height: 30})
	d.mustNotContain(longHolder)
	d.mustContain("maildrop-cleanup@mx2", "…", "REFRESHED", "STALE")
}

// TestWidthsFitContent: room goes first to what the content needs, then
// to content beyond a column's max, then up to the max.
func TestWidthsFitContent(t *testing.T) {
	type row struct{ a, b string }
	col := func(title string, w, mx int, f func(r *row) string) column[row] {
		return column[row]{title: title, width: w, max: mx, cell: func(r *row, _ time.Time) string { return f(r) }}
	}
	tb := table[row]{key: func(r *row) string { return r.a }, cols: []column[row]{
		col("A", 4, 30, func(r *row) string { return r.a }),
		col("B", 4, 10, func(r *row) string { return r.b }),
	}}
	tb.setData([]row{{"abcdef", strings.Repeat("x", 16)}})
	widths := func(w int) string {
		tb.measure(t0)
		return fmt.Sprint(tb.layout(w))
	}
	// gutter 2 + sep 2 + minimums 8 = 12.
	for _, tc := range []struct {
		w    int
		want string
	}{
		{12, "[4 4]"},
		{16, "[6 6]"},   // both towards their content, a cell at a time
		{20, "[6 10]"},  // A's content fits; B up to its max
		{26, "[6 16]"},  // then B's content beyond its max
		{40, "[20 16]"}, // what is left stretches A to its max
		{60, "[30 16]"},
	} {
		if got := widths(tc.w); got != tc.want {
			t.Errorf("width %d: %s, want %s", tc.w, got, tc.want)
		}
	}
}

// TestGoldenFrame: the header's graphs with their span and scale, the
// stale screen, and the Locks page with a holder longer than its column's
// max, at 80×24 and 160×48 (and Locks at 200 columns).
func TestGoldenFrame(t *testing.T) {
	connected := func(t *testing.T, w, h int) *driver {
		d := newDriver(t, w, h)
		d.fake.locks = longHolderLocks()
		d.start()
		feedHistory(d)
		d.send(eventsMsg{gen: d.ln().gen, evs: sampleEvents()})
		return d
	}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		w, h := sz[0], sz[1]
		t.Run(fmt.Sprintf("header_span_%dx%d", w, h), func(t *testing.T) {
			d := connected(t, w, h)
			d.keys(":")
			d.typeText("span 30m")
			d.keys("enter")
			golden(t, d.view())
		})
		t.Run(fmt.Sprintf("stale_%dx%d", w, h), func(t *testing.T) {
			d := connected(t, w, h)
			d.fake.setErr("Sessions", errors.New("control: who: popd closed the connection"))
			fire[pollTickMsg](d)
			d.setNow(t0.Add(90 * time.Second))
			d.keys("j", "K")
			golden(t, d.view())
		})
		t.Run(fmt.Sprintf("stale_truecolor_%dx%d", w, h), func(t *testing.T) {
			// The rows dimmed: in the muted colour, the selection still
			// shown.
			d := connected(t, w, h)
			d.fake.setErr("Sessions", errors.New("control: who: popd closed the connection"))
			fire[pollTickMsg](d)
			d.m.re = renderer(termenv.TrueColor)
			d.m.setTheme(d.m.s.st.theme)
			golden(t, escape(d.view()))
		})
		t.Run(fmt.Sprintf("locks_long_holder_%dx%d", w, h), func(t *testing.T) {
			d := connected(t, w, h)
			d.keys("3")
			golden(t, d.view())
		})
	}
	t.Run("locks_long_holder_200x30", func(t *testing.T) {
		d := connected(t, 200, 30)
		d.keys("3")
		if !strings.Contains(d.view(), longHolder) {
			t.Fatalf("the holder is cut at 200 columns:\n%s", d.view())
		}
		golden(t, d.view())
	})
}

// TestFleetHeaderHistory: on a fleet the header's graphs are the nodes'
// that are up, added minute by minute.
func TestFleetHeaderHistory(t *testing.T) {
	f := newFleetDriver(t, 160, 48)
	f.start()
	for n := range 2 {
		l := f.m.links[n]
		f.send(pollMsg{node: n, gen: l.gen, seq: l.pollSeq, at: t0, stats: f.nodes[n].stats, gotStats: true,
			minutes: sampleMinutes()})
	}
	h := f.m.headerHist()
	want := sampleMinutes()
	if len(h.minutes) != len(want) {
		t.Fatalf("%d minutes", len(h.minutes))
	}
	for i, m := range h.minutes {
		w := want[i]
		if m.at != unixMinute(w.Start) || m.logins != 2*w.Logins || m.failures != 2*w.Failures ||
			m.bytesSent != 2*w.BytesSent || m.sessions < 2*w.Sessions {
			t.Fatalf("minute %d: %+v, want twice %+v", i, m, w)
		}
	}
	f.mustContain("last 10m", "max 24") // twice pop1's 12 sessions

	// pop2 goes down: the header is pop1's.
	f.nodes[1].setErr("Sessions", errors.New("broken pipe"))
	l := f.m.links[1]
	f.send(pollTickMsg{node: 1, gen: l.gen, seq: l.pollSeq})
	if h := f.m.headerHist(); h.minutes[0].logins != want[0].Logins {
		t.Fatalf("with pop2 down: %+v", h.minutes[0])
	}
	f.mustContain("max 12")
}

// TestFleetAllDownKeysOff: when no node of a fleet answers, the keys that
// change things say so; while one does, K goes to it as before.
func TestFleetAllDownKeysOff(t *testing.T) {
	f := newFleetDriver(t, 120, 30)
	f.start()
	for n := range 2 {
		f.nodes[n].setErr("Sessions", errors.New("broken pipe"))
		l := f.m.links[n]
		f.send(pollTickMsg{node: n, gen: l.gen, seq: l.pollSeq})
		if n == 0 {
			f.keys("K")
			if f.m.dialog() == nil {
				t.Fatal("K is off while pop2 is up")
			}
			f.keys("esc")
		}
	}
	f.keys("K")
	if f.m.dialog() != nil {
		t.Fatal("K opened a dialog with every node down")
	}
	f.mustContain("no node answers: K is off until one is back")
}

// TestDaemonHistoryOnConnect: a console opened after the logins shows
// them: a real popd gives it the minutes it counted (the console's own
// polls only count what happens after they start).
func TestDaemonHistoryOnConnect(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	s := site.New(t, daemonAccounts)
	n := fleettest.StartNode(t, s, "pop1")
	start := time.Now()
	fleettest.Login(t, n, daemonAccounts[0]).OK("QUIT")
	fleettest.Login(t, n, daemonAccounts[1]).OK("QUIT")
	bad := testutil.DialPOP3(t, n.Addr)
	bad.OK("USER carol")
	bad.Send("PASS wrong")
	bad.Expect("-ERR")

	opt := Options{Refresh: 50 * time.Millisecond,
		Dial: func(ctx context.Context) (Backend, error) { return control.Dial(ctx, n.Control) }}
	tm := teatest.NewTestModel(t, NewModel(opt), teatest.WithInitialTermSize(160, 48))
	waitScreen(t, tm, "● live", "last 10m")
	tm.Send(tea.QuitMsg{})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	m := tm.FinalModel(t).(Model)
	m.shutdown()
	var logins, failures int64
	for _, mi := range m.links[0].hist.minutes {
		if mi.at >= unixMinute(start) {
			logins += mi.logins
			failures += mi.failures
		}
	}
	if logins != 2 || failures != 1 {
		t.Fatalf("the console's minutes have %d logins and %d failures, want 2 and 1: %+v",
			logins, failures, m.links[0].hist.minutes)
	}
}
