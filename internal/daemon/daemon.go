// Package daemon is popd's composition root. Run wires the pieces — the
// users file (userdb), the POP3 front end (server), the control socket
// (control), the Prometheus endpoint (metrics.go, on package metrics), the
// delivery watcher and usage counts (maildir), and for a fleet behind
// nginx the auth_http endpoint (server) with the nodes' health checker
// (fleet) — binds the sockets, drops privileges, serves until its context
// ends, and reloads on SIGHUP. Its adapter carries out the control API's
// admin operations (admin.go) and keeps the counters behind Stats.
package daemon

import (
	"sync"
	"sync/atomic"
	"time"

	"popd/internal/config"
	"popd/internal/control"
	"popd/internal/event"
	"popd/internal/maildir"
	"popd/internal/server"
	"popd/internal/userdb"
	"popd/internal/version"

	"log/slog"
)

// Version is popd's version, reported by the control API and the
// metrics: version.Get().Version ("1.2.3", "0.2.0-dev").
var Version = version.Get().Version

// daemon is the running popd as the control API sees it.
type daemon struct {
	log     *slog.Logger
	srv     *server.Server
	users   *userdb.File
	started time.Time
	usage   maildir.Usage // maildrop sizes for the users list
	last    *lastLogins   // the users' last logins, kept in state-dir (lastlogin.go)

	pub      atomic.Pointer[control.Publisher] // the control server, once it runs
	logins   minuteCounter
	failures minuteCounter
	hist     history    // the last hour, minute by minute (history.go)
	metrics  *metricSet // what -metrics serves; nil counts nothing

	cfg      atomic.Pointer[config.Config] // as last applied
	reloadMu sync.Mutex
	source   func() (config.Config, error) // reads the configuration again; nil: none
	notify   func(state ...string)         // sd_notify(3) states; never nil

	dropsVer struct { // maildropsVersion's state
		mu   sync.Mutex
		gen  uint64 // users.Generation when last listed
		tmpl string // the maildir template then
		n    uint64 // the version
	}
}

func (d *daemon) config() *config.Config { return d.cfg.Load() }

// publish counts what Stats and the metrics report and passes the event to
// the control server's subscribers.
func (d *daemon) publish(e event.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	switch e.Type {
	case event.Login:
		d.logins.add()
		d.last.record(e.User, e.Time, e.Remote, e.Method)
		d.hist.login(e.Time, false)
	case event.LoginFailed:
		d.failures.add()
		d.hist.login(e.Time, true)
	}
	d.metrics.record(e)
	if p := d.pub.Load(); p != nil {
		(*p).Publish(e)
	}
}

// Stats implements control.Daemon.
func (d *daemon) Stats() control.Stats {
	return control.Stats{
		Version: Version, Uptime: time.Since(d.started), Sessions: d.srv.SessionCount(),
		Logins: d.logins.total(), Failures: d.failures.total(),
		LoginsPerMin: float64(d.logins.lastMinute()), FailuresPerMin: float64(d.failures.lastMinute()),
		BytesSent: d.srv.OctetsSent(), // a counter: live and ended sessions, each once
	}
}

// minuteCounter counts events in all and over the last minute (per-second
// buckets).
type minuteCounter struct {
	mu      sync.Mutex
	all     int64
	buckets [60]int64
	stamps  [60]int64
}

func (m *minuteCounter) add() {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.all++
	i := now % 60
	if m.stamps[i] != now {
		m.stamps[i], m.buckets[i] = now, 0
	}
	m.buckets[i]++
}

func (m *minuteCounter) total() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.all
}

func (m *minuteCounter) lastMinute() int64 {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for i := range m.buckets {
		if now-m.stamps[i] < 60 {
			n += m.buckets[i]
		}
	}
	return n
}
