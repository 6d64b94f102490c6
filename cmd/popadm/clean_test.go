package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"popd/internal/control"
	"popd/internal/control/controltest"
	"popd/internal/event"
	"popd/internal/testutil"
)

var hostile = testutil.Hostile

// unsafeRune is what must never reach the terminal from popd's data (a
// line ending is popadm's own).
func unsafeRune(r rune) bool {
	return r != '\n' && (unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || r == unicode.ReplacementChar)
}

// checkOutput fails when out has an unsafe rune, or lacks the shown form
// of any hostile text.
func checkOutput(t *testing.T, what, out string) {
	t.Helper()
	if i := strings.IndexFunc(out, unsafeRune); i >= 0 {
		t.Errorf("%s prints %q:\n%q", what, []rune(out[i:])[0], out)
	}
	for _, h := range hostile {
		if !strings.Contains(out, h.Shown) {
			t.Errorf("%s: no %q for %s text in:\n%q", what, h.Shown, h.Class, out)
		}
	}
}

// TestHostileTextCLI runs every listing against a popd whose data carries
// hostile text in every field a client can choose: tables, stats, event
// lines, errors, and the JSON (whose escapes keep the text exact).
func TestHostileTextCLI(t *testing.T) {
	d := controltest.NewDaemon()
	srv := controltest.Start(t, d)
	since := time.Now().Add(-time.Minute)
	for i, h := range hostile {
		id := string(rune('a' + i))
		d.AddSession(control.Session{ID: id, User: h.Text, Remote: h.Text, State: h.Text, LastCommand: h.Text, Since: since})
		d.PutUser(control.User{Name: h.Text, Scheme: h.Text}, "pw")
		d.AddLock(control.Lock{User: h.Text, Session: h.Text, Owner: h.Text, Host: h.Text, Since: since})
		d.AddPenalty(control.Penalty{Source: h.Text, Failures: 1, Last: since, Users: []string{h.Text, "root"}})
	}
	var version strings.Builder
	for _, h := range hostile {
		version.WriteString(h.Text + " ")
	}
	d.SetStats(control.Stats{Version: version.String()})
	c := "-control=" + srv.Path

	for _, args := range [][]string{{"who"}, {"user", "list"}, {"locks"}, {"penalties"}, {"stats"}} {
		r := run(t, append([]string{c}, args...)...)
		r.want(t, 0, "")
		checkOutput(t, strings.Join(args, " "), r.stdout)
	}

	// JSON: escaped, and exactly the text popd sent.
	r := run(t, c, "who", "--json")
	if i := strings.IndexFunc(r.stdout, unsafeRune); i >= 0 {
		t.Errorf("who --json prints %q:\n%q", []rune(r.stdout[i:])[0], r.stdout)
	}
	var ss []control.Session
	if err := json.Unmarshal([]byte(r.stdout), &ss); err != nil || len(ss) != len(hostile) {
		t.Fatalf("who --json: %v, %d sessions", err, len(ss))
	}
	for i, h := range hostile {
		if ss[i].User != h.Text || ss[i].LastCommand != h.Text {
			t.Errorf("who --json changed the %s text: %q", h.Class, ss[i].User)
		}
	}

	// popd's errors quote what they are about.
	for _, h := range hostile {
		d.FailReload(errors.New("cannot read " + h.Text))
		r := run(t, c, "reload")
		r.want(t, 1, "^$")
		if r.stderr != "popadm: cannot read "+h.Shown+"\n" {
			t.Errorf("reload error for %s text: %q", h.Class, r.stderr)
		}
	}

	// Events, as lines and as JSON.
	for _, asJSON := range []bool{false, true} {
		ctx, cancel := context.WithCancel(t.Context())
		var out, errOut testutil.Buffer
		e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
		args := []string{c, "events"}
		if asJSON {
			args = append(args, "--json")
		}
		done := make(chan int)
		go func() { done <- e.run(args) }()
		testutil.Eventually(t, 10*time.Second, "no marker event", func() bool {
			if strings.Contains(out.String(), "marker") {
				return true
			}
			srv.Publish(control.Event{Type: "marker"})
			return false
		})
		for _, h := range hostile {
			srv.Publish(control.Event{Type: event.LoginFailed, User: h.Text, Session: h.Text, Remote: h.Text, Reason: h.Text, By: h.Text})
		}
		srv.Publish(control.Event{Type: "end"})
		testutil.Eventually(t, 10*time.Second, "no end event", func() bool { return strings.Contains(out.String(), "end") })
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("events: exit %d: %s", code, errOut.String())
		}
		got := out.String()
		if !asJSON {
			checkOutput(t, "events", got)
			continue
		}
		if i := strings.IndexFunc(got, unsafeRune); i >= 0 {
			t.Errorf("events --json prints %q:\n%q", []rune(got[i:])[0], got)
		}
		n := 0
		for line := range strings.Lines(got) {
			var ev control.Event
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if ev.Type == event.LoginFailed {
				if h := hostile[n]; ev.User != h.Text || ev.Reason != h.Text || ev.By != h.Text {
					t.Errorf("events --json changed the %s text: %+v", h.Class, ev)
				}
				n++
			}
		}
		if n != len(hostile) {
			t.Errorf("events --json: %d of %d events", n, len(hostile))
		}
	}
}
