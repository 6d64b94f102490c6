package tui

import (
	"fmt"
	"strings"
	"time"

	"popd/internal/control"
	"popd/internal/human"
)

// Stuck sessions, decided in the console from what the session list
// carries: a session idle in TRANSACTION for longer than a while (it holds
// its maildrop's lock meanwhile), or one writing a RETR or TOP response
// whose bytes have not moved for a while (its client stopped reading).
// The Sessions page marks them ("!" and the warning colour), its filter
// "stuck" (:stuck) shows only them, and the header counts them.

// The thresholds when Options leave them 0.
const (
	DefaultStuckIdle = 5 * time.Minute
	DefaultStuckSend = 30 * time.Second
)

// stuckRule is the thresholds; 0 turns that rule off.
type stuckRule struct{ idle, send time.Duration }

func stuckRuleOf(opt Options) stuckRule {
	pick := func(d, def time.Duration) time.Duration {
		switch {
		case d == 0:
			return def
		case d < 0:
			return 0
		}
		return d
	}
	return stuckRule{idle: pick(opt.StuckIdle, DefaultStuckIdle), send: pick(opt.StuckSend, DefaultStuckSend)}
}

// why says why s is stuck ("idle 7m00s", "RETR stalled 45s"), or "".
func (r stuckRule) why(s *control.Session) string {
	switch {
	case r.send > 0 && s.Sending && s.Stalled > r.send:
		return strings.TrimSpace(s.LastCommand+" stalled") + " " + human.Duration(s.Stalled)
	case r.idle > 0 && s.State == "transaction" && s.Idle > r.idle:
		return "idle " + human.Duration(s.Idle)
	}
	return ""
}

// String says the rule: "idle in TRANSACTION over 5m, a response stalled
// over 30s".
func (r stuckRule) String() string {
	var parts []string
	if r.idle > 0 {
		parts = append(parts, "idle in TRANSACTION over "+human.Setting(r.idle))
	}
	if r.send > 0 {
		parts = append(parts, "a RETR/TOP stalled over "+human.Setting(r.send))
	}
	if len(parts) == 0 {
		return "nothing (both rules are off)"
	}
	return strings.Join(parts, ", or ")
}

// parseThreshold reads :stuck-idle's and :stuck-send's argument: a
// duration ("10m", "90s") or "off".
func parseThreshold(arg string) (time.Duration, error) {
	switch strings.ToLower(arg) {
	case "off", "0", "none":
		return 0, nil
	case "":
		return 0, fmt.Errorf("missing duration")
	}
	d, err := time.ParseDuration(arg)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("not a duration: %q (e.g. 10m, 90s, off)", arg)
	}
	return d, nil
}

// stuckCounter is a page that counts stuck rows, for the header.
type stuckCounter interface{ Stuck() int }

// stuckCount is what the header shows: how many sessions are stuck.
func (m *Model) stuckCount() int {
	n := 0
	for _, p := range m.pages {
		if c, ok := p.(stuckCounter); ok {
			n += c.Stuck()
		}
	}
	return n
}
