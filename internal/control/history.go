package control

import (
	"context"
	"time"
)

// HistoryMinutes is how far back the "history" method reaches: an hour.
const HistoryMinutes = 60

// Minute is one minute of popd's recent history: what happened in the
// minute that starts at Start. The console's header graphs are drawn from
// these, so that a console opened a moment ago shows the last hour, not a
// blank line.
type Minute struct {
	Start     time.Time `json:"start"`
	Sessions  int       `json:"sessions"`   // the most open at once (sampled every few seconds)
	Logins    int64     `json:"logins"`     // successful logins
	Failures  int64     `json:"failures"`   // failed logins
	BytesSent int64     `json:"bytes_sent"` // message octets sent (RETR and TOP)
}

// Historian is a Daemon that keeps its recent history. The "history"
// method answers with it; a Daemon that is not one answers no minutes.
type Historian interface {
	// History is the minutes since the daemon started, at most the last
	// HistoryMinutes, oldest first: the current minute, so far, is last,
	// and a minute with nothing in it is there with zero counts.
	History() []Minute
}

// history is the "history" method.
func history(c *conn) []Minute {
	var ms []Minute
	if h, ok := c.s.d.(Historian); ok {
		ms = h.History()
	}
	return orEmpty(ms)
}

// History returns popd's last hour, minute by minute (Historian).
func (c *Client) History(ctx context.Context) ([]Minute, error) {
	var v []Minute
	return v, c.Call(ctx, "history", nil, &v)
}
