package metrics_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"popd/internal/metrics"
)

// parse reads an exposition with Prometheus's own text parser.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("%v in:\n%s", err, text)
	}
	return fams
}

func scrape(t *testing.T, r *metrics.Registry) string {
	t.Helper()
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func labels(m *dto.Metric) string {
	var s []string
	for _, l := range m.GetLabel() {
		s = append(s, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(s, ",")
}

func TestExposition(t *testing.T) {
	r := metrics.NewRegistry()
	c := r.Counter("t_plain_total", "A counter.\nWith a \\ and a newline in its help.")
	c.Add(41)
	c.Inc()
	v := r.CounterVec("t_vec_total", "Labelled.",
		metrics.Label{Name: "method", Values: []string{"user", "apop", metrics.Other}},
		metrics.Label{Name: "reason", Values: []string{"AUTH", "IN-USE"}})
	v.With("apop", "IN-USE").Add(3)
	v.With("no such method", "AUTH").Inc() // counted as other
	v.With("user", "no such reason").Inc() // reason has no other: dropped
	by := r.CounterVec("t_breaks_total", "Closed set.", metrics.Label{Name: "by", Values: []string{"stale", "admin"}})
	by.With("admin").Inc()
	r.GaugeFunc("t_gauge", "A gauge.", func() float64 { return 90.5 })
	r.CounterFunc("t_func_total", "Read at scrape time.", func() float64 { return 7 })
	r.GaugeVecFunc("t_states", "By state.", metrics.Label{Name: "state", Values: []string{"b", "a", "c"}},
		func() []float64 { return []float64{2, 1} }) // c missing: 0
	r.Info("t_build_info", "Build.", "version", `1.0 "x"`+"\n\\", "commit", "abc")
	h := r.Histogram("t_seconds", "A histogram.", []float64{0.01, 0.1, 1})
	for _, s := range []float64{0.005, 0.01, 0.05, 0.5, 2, 3} {
		h.Observe(s)
	}
	h.ObserveDuration(100 * time.Millisecond)

	text := scrape(t, r)
	fams := parse(t, text)

	// Sorted by name, HELP and TYPE for each.
	var names []string
	for line := range strings.Lines(text) {
		if n, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(n)[0])
		}
	}
	if want := "t_breaks_total t_build_info t_func_total t_gauge t_plain_total t_seconds t_states t_vec_total"; strings.Join(names, " ") != want {
		t.Errorf("families %v, want %s", names, want)
	}
	if got := fams["t_plain_total"]; got.GetType() != dto.MetricType_COUNTER || got.Metric[0].GetCounter().GetValue() != 42 ||
		got.GetHelp() != "A counter.\nWith a \\ and a newline in its help." {
		t.Errorf("t_plain_total: %v", got)
	}
	vec := map[string]float64{}
	for _, m := range fams["t_vec_total"].Metric {
		vec[labels(m)] = m.GetCounter().GetValue()
	}
	if len(vec) != 6 || vec["method=apop,reason=IN-USE"] != 3 || vec["method=other,reason=AUTH"] != 1 || vec["method=user,reason=AUTH"] != 0 {
		t.Errorf("t_vec_total: %v", vec)
	}
	if m := fams["t_breaks_total"].Metric; len(m) != 2 || labels(m[0]) != "by=admin" || m[0].GetCounter().GetValue() != 1 {
		t.Errorf("t_breaks_total: %v", m)
	}
	if g := fams["t_gauge"].Metric[0].GetGauge().GetValue(); g != 90.5 {
		t.Errorf("t_gauge %v", g)
	}
	if f := fams["t_func_total"]; f.GetType() != dto.MetricType_COUNTER || f.Metric[0].GetCounter().GetValue() != 7 {
		t.Errorf("t_func_total %v", f)
	}
	states := map[string]float64{}
	for _, m := range fams["t_states"].Metric {
		states[labels(m)] = m.GetGauge().GetValue()
	}
	if len(states) != 3 || states["state=b"] != 2 || states["state=a"] != 1 || states["state=c"] != 0 {
		t.Errorf("t_states %v", states)
	}
	if m := fams["t_build_info"].Metric[0]; labels(m) != "version=1.0 \"x\"\n\\,commit=abc" && labels(m) != "commit=abc,version=1.0 \"x\"\n\\" || m.GetGauge().GetValue() != 1 {
		t.Errorf("t_build_info %q", labels(m))
	}
	hist := fams["t_seconds"]
	if hist.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("t_seconds: %v", hist)
	}
	hm := hist.Metric[0].GetHistogram()
	if hm.GetSampleCount() != 7 || math.Abs(hm.GetSampleSum()-5.665) > 1e-9 {
		t.Errorf("t_seconds count %d sum %v", hm.GetSampleCount(), hm.GetSampleSum())
	}
	var cum []uint64
	for _, b := range hm.GetBucket() {
		cum = append(cum, b.GetCumulativeCount())
	}
	// 0.005 and 0.01 (bounds are inclusive) | 0.05 and 0.1 | 0.5 | 2 and 3.
	if want := []uint64{2, 4, 5, 7}; len(cum) < 3 || cum[0] != want[0] || cum[1] != want[1] || cum[2] != want[2] {
		t.Errorf("buckets %v, want %v", cum, want)
	}
	if !strings.Contains(text, "t_seconds_bucket{le=\"+Inf\"} 7\n") {
		t.Errorf("no +Inf bucket:\n%s", text)
	}
}

func TestHandler(t *testing.T) {
	r := metrics.NewRegistry()
	r.Counter("t_total", "A counter.").Inc()
	h := r.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if rec.Body.String() != "# HELP t_total A counter.\n# TYPE t_total counter\nt_total 1\n" {
		t.Errorf("body %q", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("HEAD", "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d", rec.Code)
	}
}

// Registering a bad name, a name twice, or labels that would make a bad
// exposition is a programming error, caught at start.
func TestRegisterPanics(t *testing.T) {
	for name, f := range map[string]func(r *metrics.Registry){
		"bad name":    func(r *metrics.Registry) { r.Counter("1x", "") },
		"twice":       func(r *metrics.Registry) { r.Counter("x", ""); r.GaugeFunc("x", "", nil) },
		"label le":    func(r *metrics.Registry) { r.CounterVec("x", "", metrics.Label{Name: "le", Values: []string{"a"}}) },
		"label __":    func(r *metrics.Registry) { r.CounterVec("x", "", metrics.Label{Name: "__x", Values: []string{"a"}}) },
		"no values":   func(r *metrics.Registry) { r.CounterVec("x", "", metrics.Label{Name: "a"}) },
		"value twice": func(r *metrics.Registry) { r.CounterVec("x", "", metrics.Label{Name: "a", Values: []string{"v", "v"}}) },
		"label twice": func(r *metrics.Registry) { r.Info("x", "", "a", "1", "a", "2") },
		"buckets":     func(r *metrics.Registry) { r.Histogram("x", "", []float64{1, 0.5}) },
		"no buckets":  func(r *metrics.Registry) { r.Histogram("x", "", nil) },
		"odd info":    func(r *metrics.Registry) { r.Info("x", "", "a") },
		"bad label":   func(r *metrics.Registry) { r.Info("x", "", "a-b", "1") },
		"with arity": func(r *metrics.Registry) {
			r.CounterVec("x", "", metrics.Label{Name: "a", Values: []string{"v"}}).With()
		},
		"inf bucket": func(r *metrics.Registry) { r.Histogram("x", "", []float64{1, math.Inf(1)}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(metrics.NewRegistry())
		})
	}
}

// Counts recorded from many goroutines while scrapes run all arrive, and
// every scrape parses.
func TestConcurrent(t *testing.T) {
	r := metrics.NewRegistry()
	v := r.CounterVec("t_total", "", metrics.Label{Name: "m", Values: []string{"a", "b"}})
	h := r.Histogram("t_seconds", "", []float64{0.5, 1})
	const workers, each = 4, 5000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			m := []string{"a", "b"}[w%2]
			for range each {
				v.With(m).Inc()
				h.Observe(0.25)
			}
		})
	}
	for range 20 {
		parse(t, scrape(t, r))
	}
	wg.Wait()
	fams := parse(t, scrape(t, r))
	var total float64
	for _, m := range fams["t_total"].Metric {
		total += m.GetCounter().GetValue()
	}
	hm := fams["t_seconds"].Metric[0].GetHistogram()
	if total != workers*each || hm.GetSampleCount() != workers*each || hm.GetSampleSum() != 0.25*workers*each {
		t.Errorf("total %v, histogram count %d sum %v", total, hm.GetSampleCount(), hm.GetSampleSum())
	}
}

func TestRecordingDoesNotAllocate(t *testing.T) {
	r := metrics.NewRegistry()
	v := r.CounterVec("t_total", "", metrics.Label{Name: "m", Values: []string{"user", "plain", metrics.Other}},
		metrics.Label{Name: "r", Values: []string{"AUTH", "IN-USE", metrics.Other}})
	h := r.Histogram("t_seconds", "", []float64{0.001, 0.01, 0.1, 1, 10})
	method := strings.ToLower("PLAIN") // not a constant
	if n := testing.AllocsPerRun(1000, func() {
		v.With(method, "IN-USE").Inc()
		h.ObserveDuration(3 * time.Millisecond)
	}); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

func BenchmarkCounterVecWith(b *testing.B) {
	r := metrics.NewRegistry()
	v := r.CounterVec("t_total", "", metrics.Label{Name: "method", Values: []string{"user", "apop", "plain", "login", "cram-md5", "scram-sha-256", metrics.Other}},
		metrics.Label{Name: "reason", Values: []string{"AUTH", "aborted", "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", metrics.Other}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v.With("scram-sha-256", "SYS/PERM").Inc()
		}
	})
}

func BenchmarkHistogramObserve(b *testing.B) {
	r := metrics.NewRegistry()
	h := r.Histogram("t_seconds", "", []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.ObserveDuration(4 * time.Millisecond)
		}
	})
}

func BenchmarkScrape(b *testing.B) {
	r := metrics.NewRegistry()
	r.CounterVec("t_total", "", metrics.Label{Name: "method", Values: []string{"user", "apop", "plain", "login", "cram-md5", "scram-sha-256", metrics.Other}},
		metrics.Label{Name: "reason", Values: []string{"AUTH", "aborted", "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", metrics.Other}})
	for _, n := range []string{"a_seconds", "b_seconds", "c_seconds"} {
		r.Histogram(n, "", []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30})
	}
	b.ReportAllocs()
	for b.Loop() {
		r.WriteTo(discard{})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
