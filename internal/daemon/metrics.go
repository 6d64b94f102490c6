package daemon

import (
	"net/http"
	"strings"
	"time"

	"popd/internal/event"
	"popd/internal/metrics"
	"popd/internal/pop3"
	"popd/internal/sasl"
	"popd/internal/server"
	"popd/internal/version"
)

// metricSet is what the Prometheus endpoint (-metrics) serves:
//
//	popd_build_info{version,commit,goversion}    gauge      always 1
//	popd_uptime_seconds                          gauge      since popd started
//	popd_sessions{state}                         gauge      live sessions: authorization, transaction, update, closing
//	popd_logins_total{method}                    counter    successful logins
//	popd_login_failures_total{method,reason}     counter    failed and refused logins
//	popd_login_duration_seconds                  histogram  successful logins: credential check to TRANSACTION
//	popd_session_duration_seconds                histogram  sessions that ended: connection to close
//	popd_bytes_sent_total                        counter    message octets sent (RETR, TOP)
//	popd_messages_retrieved_total                counter    messages sent (RETR, TOP)
//	popd_messages_deleted_total                  counter    messages removed at QUIT (UPDATE)
//	popd_lock_wait_seconds                       histogram  logins that waited for a maildrop lock
//	popd_lock_breaks_total{by}                   counter    maildrop locks broken: stale, admin
//	popd_penalties_active                        gauge      sources slowed down by failed logins
//	popd_userdb_reloads_total{result}            counter    users file reloads: ok, error
//	popd_deliveries_total                        counter    messages seen arriving in new/
//	popd_connections_refused_total{limit}        counter    connections over max-connections(-per-ip)
//
// method is user, apop, or a SASL mechanism in lower case (plain, login,
// cram-md5, scram-sha-256); auth_http's failures count under the method
// nginx names. reason is the response code: AUTH (bad credentials),
// aborted (an AUTH exchange the client gave up), IN-USE, LOGIN-DELAY,
// SYS/TEMP, SYS/PERM. A value outside these is counted as "other": no
// client can add series. Every series is there from the start, at zero.
//
// Most come from the events (record, called by publish); the server tells
// what is no event through its Hooks; the gauges, popd_bytes_sent_total and
// popd_messages_retrieved_total (which count live sessions too, each
// octet once, like Stats) are read when scraped.
type metricSet struct {
	reg           *metrics.Registry
	logins        *metrics.CounterVec
	failures      *metrics.CounterVec
	loginTime     *metrics.Histogram
	sessionTime   *metrics.Histogram
	deleted       *metrics.Counter
	lockWait      *metrics.Histogram
	lockBreaks    *metrics.CounterVec
	userdbReloads *metrics.CounterVec
	deliveries    *metrics.Counter
	refused       *metrics.CounterVec
}

// loginMethods are the method label's values.
var loginMethods = func() []string {
	out := []string{"user", "apop"}
	for _, m := range sasl.Names {
		out = append(out, strings.ToLower(m))
	}
	return append(out, metrics.Other)
}()

// failureReasons are the reason label's values: pop3's response codes
// for a login that did not get in, and "aborted".
var failureReasons = []string{"AUTH", "aborted", "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", metrics.Other}

// sessionStates are the state label's values, indexed by pop3.State.
var sessionStates = []string{
	pop3.StateAuthorization: "authorization",
	pop3.StateTransaction:   "transaction",
	pop3.StateUpdate:        "update",
	pop3.StateClosed:        "closing", // releasing the maildrop (and the moves after a QUIT)
}

// methodLabel is the method label's value for an event's Method: "USER",
// "APOP", "AUTH SCRAM-SHA-256", or auth_http's "plain". It does not
// allocate.
func methodLabel(m string) string {
	name := strings.TrimPrefix(m, "AUTH ")
	for _, v := range loginMethods {
		if strings.EqualFold(name, v) {
			return v
		}
	}
	return metrics.Other
}

// Histogram buckets, in seconds.
var (
	// A login is a password check (bcrypt: tens of ms) and a maildrop
	// opened; a lock wait, at most 30 s (maildir's settleWait).
	loginBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	// From a probe's instant to a client left open for hours.
	sessionBuckets = []float64{.01, .1, .5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600, 4 * 3600}
)

func newMetricSet(d *daemon) *metricSet {
	r := metrics.NewRegistry()
	m := &metricSet{reg: r}
	in := version.Get()
	commit := in.Commit
	if in.Dirty {
		commit += "+modified"
	}
	r.Info("popd_build_info", "popd's build: version, commit and Go version, as labels; always 1.",
		"version", in.Version, "commit", commit, "goversion", in.Go)
	r.GaugeFunc("popd_uptime_seconds", "Seconds since popd started.",
		func() float64 { return time.Since(d.started).Seconds() })
	r.GaugeVecFunc("popd_sessions", "Live POP3 sessions, by RFC 1939 state (closing: releasing the maildrop).",
		metrics.Label{Name: "state", Values: sessionStates}, func() []float64 {
			out := make([]float64, len(sessionStates))
			if d.srv != nil {
				for i, n := range d.srv.SessionStates() {
					out[i] = float64(n)
				}
			}
			return out
		})
	m.logins = r.CounterVec("popd_logins_total", "Successful logins since popd started, by method.",
		metrics.Label{Name: "method", Values: loginMethods})
	m.failures = r.CounterVec("popd_login_failures_total",
		"Logins that failed (reason AUTH: bad credentials; aborted: an AUTH exchange given up) or were refused (IN-USE, LOGIN-DELAY, SYS/TEMP, SYS/PERM) since popd started, by method and reason.",
		metrics.Label{Name: "method", Values: loginMethods}, metrics.Label{Name: "reason", Values: failureReasons})
	m.loginTime = r.Histogram("popd_login_duration_seconds",
		"Time a successful login took, from the start of the credential check to TRANSACTION (maildrop locked and listed).", loginBuckets)
	m.sessionTime = r.Histogram("popd_session_duration_seconds", "Length of the POP3 sessions that ended.", sessionBuckets)
	r.CounterFunc("popd_bytes_sent_total", "Message octets sent to POP3 clients (RETR and TOP) since popd started.",
		func() float64 { _, n := d.sent(); return float64(n) })
	r.CounterFunc("popd_messages_retrieved_total", "Messages sent to POP3 clients (RETR and TOP) since popd started.",
		func() float64 { n, _ := d.sent(); return float64(n) })
	m.deleted = r.Counter("popd_messages_deleted_total", "Messages removed at QUIT (UPDATE) since popd started.")
	m.lockWait = r.Histogram("popd_lock_wait_seconds",
		"Time logins waited for a maildrop lock held by a session of this popd finishing its QUIT (a lock held otherwise is refused at once: IN-USE).", loginBuckets)
	m.lockBreaks = r.CounterVec("popd_lock_breaks_total", "Maildrop locks broken since popd started: stale ones by a login, or by an administrator (popadm unlock).",
		metrics.Label{Name: "by", Values: []string{"stale", "admin"}})
	r.GaugeFunc("popd_penalties_active", "Client sources whose failed logins are being slowed down.", func() float64 {
		if d.srv == nil {
			return 0
		}
		return float64(d.srv.PenaltiesActive())
	})
	m.userdbReloads = r.CounterVec("popd_userdb_reloads_total", "Reloads of the users file (on change, SIGHUP, popadm reload); error: the old table was kept.",
		metrics.Label{Name: "result", Values: []string{"ok", "error"}})
	m.deliveries = r.Counter("popd_deliveries_total", "Messages seen arriving in a maildrop's new/ since popd started.")
	m.refused = r.CounterVec("popd_connections_refused_total", "Connections refused over a limit since popd started.",
		metrics.Label{Name: "limit", Values: []string{server.RefusedMax, server.RefusedPerSource}})
	return m
}

// sent is the server's messages and octets sent; zero before it exists.
func (d *daemon) sent() (messages, octets int64) {
	if d.srv == nil {
		return 0, 0
	}
	return d.srv.Sent()
}

// record counts an event. It is on the login path: it neither locks nor
// allocates. A nil set counts nothing.
func (m *metricSet) record(e event.Event) {
	if m == nil {
		return
	}
	switch e.Type {
	case event.Login:
		m.logins.With(methodLabel(e.Method)).Inc()
		m.loginTime.ObserveDuration(e.Duration)
	case event.LoginFailed:
		m.failures.With(methodLabel(e.Method), e.Reason).Inc()
	case event.SessionClosed:
		m.sessionTime.ObserveDuration(e.Duration)
		if e.Deleted > 0 {
			m.deleted.Add(uint64(e.Deleted))
		}
	case event.Delivered:
		m.deliveries.Inc()
	case event.Unlocked:
		m.lockBreaks.With("admin").Inc()
	}
}

// usersReloaded counts a reload of the users file.
func (m *metricSet) usersReloaded(err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.userdbReloads.With(result).Inc()
}

// serverHooks are the server's ways to tell what is no event.
func (m *metricSet) serverHooks() server.Hooks {
	if m == nil {
		return server.Hooks{}
	}
	return server.Hooks{
		LockWaited:      m.lockWait.ObserveDuration,
		StaleLockBroken: m.lockBreaks.With("stale").Inc,
		Refused:         func(limit string) { m.refused.With(limit).Inc() },
	}
}

// handler serves the metrics.
func (m *metricSet) handler() http.Handler { return m.reg.Handler() }
