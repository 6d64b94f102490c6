package tui

// Golden snapshots of View(), with the fixed clock and data of
// helpers_test.go. Rewrite them with: go test ./internal/tui -update

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"popd/themes"
)

// feedHistory gives the header 40 polls' worth of sparklines.
func feedHistory(d *driver) {
	base := d.fake.stats
	for i := range 40 {
		s := base
		s.Sessions = 3 + (i*7)%9
		s.LoginsPerMin = float64((i*5)%11) / 2
		s.FailuresPerMin = float64((i*3)%4) / 3
		s.BytesSent = base.BytesSent + int64(i*i*20000)
		if i == 39 {
			s.Sessions = len(d.fake.sessions) // now: as many as listed
		}
		d.send(pollMsg{gen: d.ln().gen, seq: d.ln().pollSeq, at: t0.Add(time.Duration(i-39) * time.Second),
			stats: s, gotStats: true, sessions: d.fake.sessions, got: fetchSessions, minutes: popdHour(i)})
	}
}

// sample is a connected dashboard with history and events.
func sample(t *testing.T, w, h int, opts ...driverOpt) *driver {
	t.Helper()
	d := newDriver(t, w, h, opts...).start()
	feedHistory(d)
	d.send(eventsMsg{gen: d.ln().gen, evs: sampleEvents()})
	return d
}

func golden(t *testing.T, view string) {
	t.Helper()
	teatest.RequireEqualOutput(t, []byte(view+"\n"))
}

func TestGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for i, newPage := range registry {
			name := strings.ToLower(newPage(&shared{}).Name())
			t.Run(fmt.Sprintf("%s_%dx%d", name, sz[0], sz[1]), func(t *testing.T) {
				d := sample(t, sz[0], sz[1])
				d.keys(fmt.Sprint(i + 1))
				golden(t, d.view())
			})
		}
	}
}

func TestGoldenScreens(t *testing.T) {
	for _, tc := range []struct {
		name string
		w, h int
		keys []string
		text string // typed after the keys
	}{
		{name: "kick_confirm", keys: []string{"j", "K"}},
		{name: "kick_focus_on_kick", keys: []string{"j", "K", "tab"}},
		{name: "closing", keys: []string{"j", "K", "tab", "enter"}},
		{name: "detail", keys: []string{"j", "j", "j", "enter"}},
		{name: "filter_typing", keys: []string{"/"}, text: "198.51"},
		{name: "command_line", keys: []string{":"}, text: "theme da"},
		{name: "user_add_errors", keys: []string{"2", "a", "enter", "enter", "enter"}},
		{name: "user_delete_confirm", keys: []string{"2", "j", "d", "tab", "tab", "space"}},
		{name: "unlock_confirm", keys: []string{"3", "j", "b"}},
		{name: "events_paused", keys: []string{"4", "p"}},
		{name: "help", keys: []string{"?"}},
		{name: "help_readonly", keys: []string{"?"}, w: 120, h: 30},
		{name: "too_small", w: 59, h: 14},
		{name: "minimum", w: 60, h: 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h := tc.w, tc.h
			if w == 0 {
				w, h = 80, 24
			}
			var opts []driverOpt
			if strings.HasSuffix(tc.name, "readonly") {
				opts = append(opts, readOnly)
			}
			d := sample(t, w, h, opts...)
			d.keys(tc.keys...)
			d.typeText(tc.text)
			if tc.name == "events_paused" {
				d.send(eventsMsg{gen: d.ln().gen, evs: sampleEvents()[:4]})
			}
			golden(t, d.view())
		})
	}
}

func TestGoldenDisconnected(t *testing.T) {
	d := sample(t, 80, 24)
	d.fake.setErr("Sessions", fmt.Errorf("control: who: popd closed the connection"))
	fire[pollTickMsg](d)
	golden(t, d.view())
}

func TestGoldenThemes(t *testing.T) {
	names, err := themes.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		// Every view at both sizes in every theme, in the ASCII profile
		// (where themes differ little: the marker, the name); the
		// TrueColor snapshots below hold their colours.
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			for key, view := range []string{"sessions", "users", "locks", "events"} {
				t.Run(fmt.Sprintf("%s_%s_%dx%d", n, view, size[0], size[1]), func(t *testing.T) {
					d := sample(t, size[0], size[1])
					d.keys(":")
					d.typeText("theme " + n)
					d.keys("enter")
					d.m.s.flash = flash{}
					d.keys(strconv.Itoa(key + 1))
					golden(t, d.view())
				})
			}
		}
		t.Run(n+"_truecolor", func(t *testing.T) {
			d := sample(t, 80, 24)
			th, err := themes.Load(n)
			if err != nil {
				t.Fatal(err)
			}
			d.m.re = renderer(termenv.TrueColor)
			d.m.setTheme(th)
			d.keys("j")
			golden(t, escape(d.view()))
		})
	}
}

// escape makes escape sequences visible in a golden file.
func escape(s string) string { return strings.ReplaceAll(s, "\x1b", `\e`) }

var colourSGR = regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])[;m]`)

func TestGoldenNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	// What lipgloss does under NO_COLOR: the ASCII profile, so no bold or
	// reverse either. The selection shows by its marker.
	d := sample(t, 80, 24)
	d.keys("j")
	v := d.view()
	if !strings.Contains(v, ">    7  bob") {
		t.Fatalf("no > marker on the selected row:\n%s", v)
	}
	golden(t, v)

	// Even on a renderer that could, NO_COLOR gives no colours.
	d.m.re = renderer(termenv.TrueColor)
	d.m.setTheme(d.m.s.st.theme)
	v = d.view()
	if loc := colourSGR.FindStringIndex(v); loc != nil {
		t.Fatalf("colour escape under NO_COLOR: %q", v[max(0, loc[0]-20):loc[1]])
	}
	if !strings.Contains(v, "> ") || !strings.Contains(v, "\x1b[7m") {
		t.Fatal("under NO_COLOR the selection is neither marked nor reversed")
	}
}
