package daemon

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"popd/internal/config"
	"popd/internal/event"
	"popd/internal/maildir"
	"popd/internal/metrics"
	"popd/internal/sasl"
	"popd/internal/testutil"
	"popd/internal/version"
)

// withMetrics serves the metrics endpoint on a port the system chooses.
func withMetrics(more func(*config.Config)) func(*config.Config) {
	return func(c *config.Config) {
		c.Metrics = "127.0.0.1:0"
		if more != nil {
			more(c)
		}
	}
}

var metricsAddrRE = regexp.MustCompile(`msg=metrics addr=(\S+)`)

// metricsURL is the endpoint's URL, from the line popd logs when it
// binds it.
func (e *env) metricsURL() string {
	e.t.Helper()
	m := metricsAddrRE.FindStringSubmatch(e.log.String())
	if m == nil {
		e.t.Fatalf("popd did not log the metrics address:\n%s", e.log)
	}
	return "http://" + m[1] + "/metrics"
}

// exposition is one scrape: its text and what Prometheus's own parser
// makes of it.
type exposition struct {
	t    testing.TB
	text string
	fams map[string]*dto.MetricFamily
}

// scrape GETs the endpoint and parses it with expfmt's text parser, the
// one Prometheus uses for the 0.0.4 format.
func (e *env) scrape() exposition {
	e.t.Helper()
	resp, err := http.Get(e.metricsURL())
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		e.t.Fatalf("GET /metrics: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if expfmt.ResponseFormat(resp.Header).FormatType() != expfmt.TypeTextPlain {
		e.t.Fatalf("Content-Type %q is not the text format to Prometheus", resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		e.t.Fatalf("the exposition does not parse: %v\n%s", err, body)
	}
	return exposition{t: e.t, text: string(body), fams: fams}
}

// series is the sample of name whose labels include kv (name, value,
// name, value...); a histogram's is its count.
func (x exposition) value(name string, kv ...string) float64 {
	x.t.Helper()
	f, ok := x.fams[name]
	if !ok {
		x.t.Fatalf("no %s in:\n%s", name, x.text)
	}
	var found []float64
	for _, m := range f.Metric {
		if hasLabels(m, kv) {
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				found = append(found, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				found = append(found, m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				found = append(found, float64(m.GetHistogram().GetSampleCount()))
			}
		}
	}
	if len(found) != 1 {
		x.t.Fatalf("%d series of %s with %v", len(found), name, kv)
	}
	return found[0]
}

// sum adds up every series of name.
func (x exposition) sum(name string) float64 {
	x.t.Helper()
	var n float64
	for _, m := range x.fams[name].GetMetric() {
		n += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return n
}

// nonZero lists the series of name that are not zero, as
// "label=value,...: n".
func (x exposition) nonZero(name string) []string {
	var out []string
	for _, m := range x.fams[name].GetMetric() {
		if v := m.GetCounter().GetValue() + m.GetGauge().GetValue(); v != 0 {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out = append(out, strings.Join(ls, ",")+": "+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	slices.Sort(out)
	return out
}

func hasLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == kv[i] && l.GetValue() == kv[i+1] }) {
			return false
		}
	}
	return true
}

// writeLock puts a lock file of another host's popd in name's maildrop,
// refreshed at mtime.
func (e *env) writeLock(name string, mtime time.Time) {
	e.t.Helper()
	path := filepath.Join(e.Maildir(name), "popd.lock")
	content := "popd-lock 1\nhost: elsewhere.example\npid: 4242\nsince: " + mtime.UTC().Format(time.RFC3339Nano) + "\ntoken: 0123456789abcdef\nowner: a test\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		e.t.Fatal(err)
	}
}

// octets is the size a "+OK n octets" response announces.
func octets(t testing.TB, ok string) float64 {
	f := strings.Fields(ok)
	n, err := strconv.ParseFloat(f[1], 64)
	if err != nil || len(f) < 3 || f[2] != "octets" {
		t.Fatalf("RETR: %q", ok)
	}
	return n
}

func authPlain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// The endpoint, scraped from a real popd after real sessions over TCP and
// parsed with Prometheus's text parser, says exactly what happened: logins
// by method, failures by method and reason, sessions by state, messages
// and octets sent (live sessions included), messages deleted at QUIT,
// deliveries, lock breaks (stale, admin), penalties, users file reloads,
// connections refused, and the build.
func TestMetricsEndpoint(t *testing.T) {
	bob := account{Name: "bob", Pass: "bob's pw", Scheme: "PLAIN"}
	e := newEnv(t, []account{alice, bob}, withMetrics(func(c *config.Config) { c.MaxConnectionsPerIP = 4 }))
	ctx := context.Background()
	ctl := e.control()
	// The delivery watcher has looked at the maildrops (none exists yet:
	// each is made by its first delivery, all of which are then told).
	time.Sleep(700 * time.Millisecond)

	x := e.scrape()
	// Every family, with HELP and TYPE, every series from the start.
	types := map[string]dto.MetricType{
		"popd_build_info": dto.MetricType_GAUGE, "popd_uptime_seconds": dto.MetricType_GAUGE,
		"popd_sessions": dto.MetricType_GAUGE, "popd_logins_total": dto.MetricType_COUNTER,
		"popd_login_failures_total": dto.MetricType_COUNTER, "popd_login_duration_seconds": dto.MetricType_HISTOGRAM,
		"popd_session_duration_seconds": dto.MetricType_HISTOGRAM, "popd_bytes_sent_total": dto.MetricType_COUNTER,
		"popd_messages_retrieved_total": dto.MetricType_COUNTER, "popd_messages_deleted_total": dto.MetricType_COUNTER,
		"popd_lock_wait_seconds": dto.MetricType_HISTOGRAM, "popd_lock_breaks_total": dto.MetricType_COUNTER,
		"popd_penalties_active": dto.MetricType_GAUGE, "popd_userdb_reloads_total": dto.MetricType_COUNTER,
		"popd_deliveries_total": dto.MetricType_COUNTER, "popd_connections_refused_total": dto.MetricType_COUNTER,
	}
	for name, typ := range types {
		if f := x.fams[name]; f == nil || f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("%s: %v, want type %v with help", name, f, typ)
		}
	}
	if len(x.fams) != len(types) {
		var names []string
		for n := range x.fams {
			names = append(names, n)
		}
		t.Errorf("families %v, want the %d above", names, len(types))
	}
	if n := len(x.fams["popd_logins_total"].Metric); n != len(sasl.Names)+3 { // user, apop, other
		t.Errorf("%d series of popd_logins_total", n)
	}
	if n := len(x.fams["popd_login_failures_total"].Metric); n != (len(sasl.Names)+3)*len(failureReasons) {
		t.Errorf("%d series of popd_login_failures_total", n)
	}
	in := version.Get()
	if x.value("popd_build_info", "version", in.Version, "goversion", in.Go) != 1 {
		t.Error("popd_build_info")
	}
	if up := x.value("popd_uptime_seconds"); up <= 0 || up > 60 {
		t.Errorf("popd_uptime_seconds %v", up)
	}
	for _, st := range []string{"authorization", "transaction", "update", "closing"} {
		if x.value("popd_sessions", "state", st) != 0 {
			t.Errorf("a session in %s before any connection", st)
		}
	}

	// Three deliveries, seen by the watcher.
	e.deliver("alice", "Subject: one\n\nThe first message.\n")
	e.deliver("alice", "Subject: two\n\nThe second message.\n")
	e.deliver("bob", "Subject: hello bob\n\nHi.\n")
	testutil.Eventually(t, 5*time.Second, "deliveries not counted", func() bool {
		return e.scrape().value("popd_deliveries_total") == 3
	})

	// Failed logins: a bad password (USER/PASS), an AUTH exchange
	// cancelled, bad credentials over AUTH PLAIN.
	c := e.dial()
	c.OK("USER alice")
	c.Err("PASS wrong", "-ERR [AUTH] invalid user name or password")
	x = e.scrape()
	if x.value("popd_sessions", "state", "authorization") != 1 || x.value("popd_penalties_active") != 1 {
		t.Errorf("after a failed login: %v, %v penalties", x.nonZero("popd_sessions"), x.value("popd_penalties_active"))
	}
	c.Send("AUTH PLAIN")
	c.Expect("+ ")
	c.Err("*", "-ERR authentication cancelled")
	c.OK("QUIT")
	closed := 1
	c = e.dial()
	c.Err("AUTH PLAIN "+authPlain("bob", "wrong"), "-ERR [AUTH] invalid user name or password")
	c.OK("QUIT")
	closed++

	// Right credentials, refused: another host's session holds the lock.
	e.writeLock("alice", time.Now())
	c = e.dial()
	c.OK("USER alice")
	c.Err("PASS "+alice.Pass, "-ERR [IN-USE] maildrop is locked by another session")
	c.OK("QUIT")
	closed++
	// An administrator breaks it.
	if err := ctl.Unlock(ctx, "alice"); err != nil {
		t.Fatal(err)
	}

	// A session: RETR, RETR, DELE, DELE, QUIT. Messages and octets count
	// while it is live.
	c = e.login(alice)
	sent := octets(t, c.OK("RETR 1"))
	c.Multi()
	sent += octets(t, c.OK("RETR 2"))
	c.Multi()
	x = e.scrape()
	if x.value("popd_sessions", "state", "transaction") != 1 || x.value("popd_messages_retrieved_total") != 2 ||
		x.value("popd_bytes_sent_total") != sent {
		t.Errorf("during the session: sessions %v, retrieved %v, bytes %v (want %v)", x.nonZero("popd_sessions"),
			x.value("popd_messages_retrieved_total"), x.value("popd_bytes_sent_total"), sent)
	}
	c.OK("DELE 1")
	c.OK("DELE 2")
	if got := c.OK("QUIT"); got != "+OK bye, 0 messages left" {
		t.Errorf("QUIT: %q", got)
	}
	closed++

	// A stale lock (not refreshed for an hour) is broken by the login.
	e.writeLock("bob", time.Now().Add(-time.Hour))
	c = e.dial()
	c.OK("AUTH PLAIN " + authPlain("bob", bob.Pass))
	c.OK("QUIT")
	closed++

	testutil.Eventually(t, 5*time.Second, "sessions still open", func() bool { return e.scrape().sum("popd_sessions") == 0 })
	x = e.scrape()
	if got, want := x.nonZero("popd_logins_total"), []string{"method=plain: 1", "method=user: 1"}; !slices.Equal(got, want) {
		t.Errorf("popd_logins_total %v, want %v", got, want)
	}
	if got, want := x.nonZero("popd_login_failures_total"), []string{
		"method=plain,reason=AUTH: 1", "method=plain,reason=aborted: 1",
		"method=user,reason=AUTH: 1", "method=user,reason=IN-USE: 1",
	}; !slices.Equal(got, want) {
		t.Errorf("popd_login_failures_total %v, want %v", got, want)
	}
	if n := x.value("popd_login_duration_seconds"); n != 2 {
		t.Errorf("%v logins timed, want 2", n)
	}
	if n := x.value("popd_session_duration_seconds"); n != float64(closed) {
		t.Errorf("%v sessions timed, want %d", n, closed)
	}
	if x.value("popd_messages_retrieved_total") != 2 || x.value("popd_bytes_sent_total") != sent || x.value("popd_messages_deleted_total") != 2 {
		t.Errorf("after the sessions: retrieved %v, bytes %v, deleted %v", x.value("popd_messages_retrieved_total"),
			x.value("popd_bytes_sent_total"), x.value("popd_messages_deleted_total"))
	}
	if got, want := x.nonZero("popd_lock_breaks_total"), []string{"by=admin: 1", "by=stale: 1"}; !slices.Equal(got, want) {
		t.Errorf("popd_lock_breaks_total %v, want %v", got, want)
	}
	if x.value("popd_lock_wait_seconds") != 0 {
		t.Error("a lock wait counted")
	}
	// The control API's counters agree.
	st, err := ctl.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if float64(st.Logins) != x.sum("popd_logins_total") || float64(st.Failures) != x.sum("popd_login_failures_total") ||
		float64(st.BytesSent) != x.value("popd_bytes_sent_total") {
		t.Errorf("stats %+v and metrics disagree", st)
	}

	// The users file: rewritten (the watcher reloads it), popadm reload.
	users, err := os.ReadFile(e.Cfg.Users)
	if err != nil {
		t.Fatal(err)
	}
	tmp := e.Cfg.Users + ".new"
	os.WriteFile(tmp, append(users, "carol:{PLAIN}carol's pw::::"+filepath.Join(e.Dir, "home", "carol")+"::\n"...), 0o600)
	if err := os.Rename(tmp, e.Cfg.Users); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the users file's reload not counted", func() bool {
		return e.scrape().value("popd_userdb_reloads_total", "result", "ok") == 1
	})
	if err := ctl.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if x = e.scrape(); x.value("popd_userdb_reloads_total", "result", "ok") != 2 || x.value("popd_userdb_reloads_total", "result", "error") != 0 {
		t.Errorf("after popadm reload: %v", x.nonZero("popd_userdb_reloads_total"))
	}

	// Connections over max-connections-per-ip (4) are refused; the
	// sessions held meanwhile are in AUTHORIZATION and TRANSACTION.
	held := []*testutil.POP3{e.login(alice), e.dial(), e.dial(), e.dial()}
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	refused := testutil.NewPOP3(t, conn)
	if l := refused.Line(); l != "-ERR [SYS/TEMP] too many connections from your address" {
		t.Errorf("fifth connection: %q", l)
	}
	conn.Close()
	x = e.scrape()
	if got, want := x.nonZero("popd_sessions"), []string{"state=authorization: 3", "state=transaction: 1"}; !slices.Equal(got, want) {
		t.Errorf("popd_sessions %v, want %v", got, want)
	}
	if got, want := x.nonZero("popd_connections_refused_total"), []string{"limit=max-connections-per-ip: 1"}; !slices.Equal(got, want) {
		t.Errorf("popd_connections_refused_total %v, want %v", got, want)
	}
	for _, c := range held {
		c.OK("QUIT")
	}

	// A users file that cannot be read: an error, the old table kept.
	if err := os.Remove(e.Cfg.Users); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the failed reload not counted", func() bool {
		return e.scrape().value("popd_userdb_reloads_total", "result", "error") >= 1 // and again at each poll
	})
	if x = e.scrape(); x.value("popd_userdb_reloads_total", "result", "ok") != 2 {
		t.Errorf("after a failed reload: %v", x.nonZero("popd_userdb_reloads_total"))
	}
}

// A login while a session of this process finishes its QUIT (the moves
// new/ -> cur/ left to Close, holding the lock) waits for it (maildir's
// settle): popd_lock_wait_seconds counts it, and it is no IN-USE. The
// session here is the test's own, in popd's process, so that the wait is
// as long as the test says.
func TestMetricsLockWait(t *testing.T) {
	dora := account{Name: "dora", Pass: "pw", Scheme: "PLAIN"}
	e := newEnv(t, []account{dora}, withMetrics(nil))
	for i := range 300 {
		e.deliver("dora", "Subject: "+strconv.Itoa(i)+"\n\n")
	}
	m, err := maildir.Open(e.Maildir("dora"), maildir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(nil, nil); err != nil || !m.Pending() {
		t.Fatalf("Update: %v; moves left to Close: %v", err, m.Pending())
	}
	c := e.dial()
	c.OK("USER dora")
	c.Send("PASS " + dora.Pass)
	const held = 300 * time.Millisecond
	time.Sleep(held)
	m.Close()
	c.Expect("+OK")
	c.OK("QUIT")
	x := e.scrape()
	if x.value("popd_lock_wait_seconds") != 1 || x.value("popd_login_failures_total", "reason", "IN-USE", "method", "user") != 0 {
		t.Errorf("lock waits %v, IN-USE %v", x.value("popd_lock_wait_seconds"), x.value("popd_login_failures_total", "reason", "IN-USE", "method", "user"))
	}
	if s := x.fams["popd_lock_wait_seconds"].Metric[0].GetHistogram().GetSampleSum(); s <= 0 || s > held.Seconds()+5 {
		t.Errorf("waited %v s", s)
	}
}

var metricNameRE = regexp.MustCompile(`\bpopd_[a-z_]+`)

// Every metric that the Grafana dashboard and the Prometheus alerts name
// is one popd exports, with HELP and TYPE; and the dashboard shows every
// one popd exports. The two files are checked for their shape too: the
// dashboard is JSON Grafana imports, the alerts a rules file with what
// each rule needs.
func TestMetricsDashboardAndAlerts(t *testing.T) {
	e := newEnv(t, []account{alice}, withMetrics(nil))
	x := e.scrape()
	exported := func(name string) string {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && x.fams[base].GetType() == dto.MetricType_HISTOGRAM {
				name = base
			}
		}
		if x.fams[name] == nil || !strings.Contains(x.text, "# HELP "+name+" ") || !strings.Contains(x.text, "# TYPE "+name+" ") {
			t.Errorf("%s is not exported with HELP and TYPE", name)
		}
		return name
	}

	dash, err := os.ReadFile("../../contrib/grafana/popd.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Inputs []struct {
			Name, Type, PluginID string
		} `json:"__inputs"`
		SchemaVersion int    `json:"schemaVersion"`
		UID           string `json:"uid"`
		Title         string `json:"title"`
		Panels        []struct {
			ID         int
			Type       string
			Title      string
			Datasource struct{ Type, UID string }
			GridPos    struct{ X, Y, W, H int }
			Targets    []struct{ Expr, RefID string }
		}
		Templating struct {
			List []struct {
				Name  string
				Query struct{ Query string }
			}
		}
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("popd.json: %v", err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" ||
		d.SchemaVersion < 36 || d.UID == "" || d.Title == "" {
		t.Errorf("popd.json: inputs %+v, schemaVersion %d, uid %q", d.Inputs, d.SchemaVersion, d.UID)
	}
	shown := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${DS_PROMETHEUS}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d targets", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			names := metricNameRE.FindAllString(tg.Expr, -1)
			if len(names) == 0 && !strings.HasPrefix(tg.Expr, "up{") {
				t.Errorf("panel %q: query %q names no popd metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				shown[exported(n)] = true
			}
		}
	}
	for _, v := range d.Templating.List {
		for _, n := range metricNameRE.FindAllString(v.Query.Query, -1) {
			exported(n)
		}
	}
	for name := range x.fams {
		if !shown[name] {
			t.Errorf("the dashboard shows no %s", name)
		}
	}
	// Names in descriptions too.
	for _, n := range metricNameRE.FindAllString(string(dash), -1) {
		exported(n)
	}

	rules, err := os.ReadFile("../../contrib/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	alerts := parseRules(t, string(rules))
	for _, want := range []string{"PopdDown", "PopdLoginFailureSpike", "PopdNoLogins", "PopdLockBreaks"} {
		if _, ok := alerts[want]; !ok {
			t.Errorf("no alert %s", want)
		}
	}
	for name, r := range alerts {
		if r["expr"] == "" || r["labels.severity"] == "" || r["annotations.summary"] == "" || r["annotations.description"] == "" {
			t.Errorf("alert %s lacks expr, severity, summary or description: %q", name, r)
		}
		for _, n := range metricNameRE.FindAllString(r["expr"], -1) {
			exported(n)
		}
	}
	if alerts["PopdNoLogins"]["for"] == "" {
		t.Error("PopdNoLogins has no for:")
	}
	for _, n := range metricNameRE.FindAllString(string(rules), -1) {
		exported(n)
	}
}

// parseRules reads the little of YAML a Prometheus rules file uses: it
// checks the nesting (two-space indents, no tabs, groups: name: rules:)
// and returns each alert's keys, "labels.x" and "annotations.x" for the
// nested ones, with block scalars (|) joined.
func parseRules(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	alerts := map[string]map[string]string{}
	var cur map[string]string
	var section, block string // block: the key whose "|" lines follow
	blockIndent := 0
	sawGroups, sawRules := false, false
	for i, line := range strings.Split(text, "\n") {
		where := "alerts.yml:" + strconv.Itoa(i+1)
		if strings.Contains(line, "\t") {
			t.Errorf("%s: a tab", where)
		}
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if block != "" {
			if trimmed == "" || indent > blockIndent {
				cur[block] += trimmed + "\n"
				continue
			}
			block = ""
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if indent%2 != 0 {
			t.Errorf("%s: odd indent", where)
		}
		key, value, ok := strings.Cut(strings.TrimPrefix(trimmed, "- "), ":")
		if !ok {
			t.Errorf("%s: not a key: %q", where, trimmed)
			continue
		}
		value = strings.TrimSpace(value)
		if unq, err := strconv.Unquote(value); err == nil {
			value = unq
		}
		switch {
		case indent == 0:
			sawGroups = key == "groups" && value == ""
		case key == "rules" && indent == 4:
			sawRules = true
		case key == "alert" && strings.HasPrefix(trimmed, "- "):
			cur = map[string]string{}
			alerts[value] = cur
			section = ""
		case cur != nil && indent == 8 && (key == "labels" || key == "annotations") && value == "":
			section = key
		case cur != nil && indent == 8:
			section = ""
			if value == "|" {
				block, blockIndent = key, indent
				continue
			}
			cur[key] = value
		case cur != nil && indent == 10 && section != "":
			cur[section+"."+key] = value
		default:
			if indent > 4 {
				t.Errorf("%s: unexpected %q", where, trimmed)
			}
		}
	}
	if !sawGroups || !sawRules || len(alerts) == 0 {
		t.Errorf("alerts.yml: no groups: ... rules: ... alerts")
	}
	return alerts
}

// methodLabel maps every method a login may come with to a bounded set:
// each SASL mechanism popd offers to a value of its own, and anything else
// to "other".
func TestMethodLabel(t *testing.T) {
	for in, want := range map[string]string{
		"USER": "user", "APOP": "apop", "AUTH PLAIN": "plain", "AUTH LOGIN": "login",
		"AUTH CRAM-MD5": "cram-md5", "AUTH SCRAM-SHA-256": "scram-sha-256",
		"plain": "plain", "apop": "apop", "cram-md5": "cram-md5", // auth_http's Auth-Method
		"": "other", "AUTH XOAUTH2": "other", "AUTH": "other", "user\n": "other",
	} {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
	for _, m := range sasl.Names {
		if methodLabel("AUTH "+m) == metrics.Other {
			t.Errorf("mechanism %s counts as other", m)
		}
	}
}

// The events on the login path are counted without allocating.
func TestMetricsRecordDoesNotAllocate(t *testing.T) {
	m := newMetricSet(&daemon{started: time.Now()})
	login := event.Event{Type: event.Login, Method: "AUTH SCRAM-SHA-256", Duration: 3 * time.Millisecond}
	failed := event.Event{Type: event.LoginFailed, Method: "USER", Reason: "AUTH"}
	closed := event.Event{Type: event.SessionClosed, Duration: time.Second, Deleted: 2}
	if n := testing.AllocsPerRun(1000, func() { m.record(login); m.record(failed); m.record(closed) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// BenchmarkMetricsRecordLogin is what a login adds to the login path: its
// event counted, by method, and timed; in parallel, as sessions do.
func BenchmarkMetricsRecordLogin(b *testing.B) {
	m := newMetricSet(&daemon{started: time.Now()})
	login := event.Event{Type: event.Login, Method: "USER", Duration: 3 * time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.record(login)
		}
	})
}

// BenchmarkMetricsRecordFailure: a failed login, by method and reason.
func BenchmarkMetricsRecordFailure(b *testing.B) {
	m := newMetricSet(&daemon{started: time.Now()})
	failed := event.Event{Type: event.LoginFailed, Method: "AUTH SCRAM-SHA-256", Reason: "SYS/TEMP"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.record(failed)
		}
	})
}

// BenchmarkPublishLogin is a login event's whole way through publish
// (Stats' minute counters and the metrics; no console connected).
func BenchmarkPublishLogin(b *testing.B) {
	for _, withMetrics := range []bool{false, true} {
		b.Run("metrics="+strconv.FormatBool(withMetrics), func(b *testing.B) {
			d := &daemon{started: time.Now()}
			if withMetrics {
				d.metrics = newMetricSet(d)
			}
			login := event.Event{Type: event.Login, Method: "USER", Duration: 3 * time.Millisecond, Time: time.Now()}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					d.publish(login)
				}
			})
		})
	}
}
