// Package metrics is popd's small Prometheus registry: counters with fixed
// label sets, histograms with fixed buckets, and gauges and counters read
// through functions when scraped, written in the text exposition format,
// version 0.0.4 (HELP and TYPE for every family, families sorted by name,
// label values escaped).
//
// Recording is on the login path, thousands of times a second: a Counter
// is one atomic add, CounterVec.With a few string comparisons, a
// Histogram's Observe a search of its buckets and two atomic operations;
// none of them locks or allocates. The registry's mutex is taken only to
// register a metric and to scrape.
//
// Label values are fixed when a CounterVec is registered: a value outside
// a label's set counts under "other" when the set has it (and is dropped
// when not), so no client input can grow the number of series.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ContentType is the media type of what WriteTo writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Other is the label value that a CounterVec counts unexpected values
// under, when the label's set has it.
const Other = "other"

// Registry is a set of metric families, each registered once.
type Registry struct {
	mu   sync.Mutex
	fams map[string]*family
}

type family struct {
	name, help, typ string
	write           func(b []byte, name string) []byte // the samples' lines
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{fams: map[string]*family{}} }

// register adds a family. A bad or repeated name is a programming error:
// it panics, at start.
func (r *Registry) register(name, help, typ string, write func([]byte, string) []byte) {
	if !validName(name, true) {
		panic("metrics: invalid metric name " + strconv.Quote(name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.fams[name]; dup {
		panic("metrics: " + name + " registered twice")
	}
	r.fams[name] = &family{name: name, help: help, typ: typ, write: write}
}

// Counter is a number that only goes up.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value is the count so far.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Counter registers a counter without labels.
func (r *Registry) Counter(name, help string) *Counter {
	c := &Counter{}
	r.register(name, help, "counter", func(b []byte, name string) []byte {
		return appendSample(b, name, "", c.Value())
	})
	return c
}

// CounterFunc registers a counter whose value f reads at each scrape; f
// must never return less than before.
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	r.register(name, help, "counter", func(b []byte, name string) []byte {
		return appendFloatSample(b, name, "", f())
	})
}

// GaugeFunc registers a gauge whose value f reads at each scrape.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.register(name, help, "gauge", func(b []byte, name string) []byte {
		return appendFloatSample(b, name, "", f())
	})
}

// Label is a label's name and every value it may take.
type Label struct {
	Name   string
	Values []string
}

// GaugeVecFunc registers a gauge with one label, a series for each of its
// values: f returns their values, in the order of l.Values, at each scrape.
func (r *Registry) GaugeVecFunc(name, help string, l Label, f func() []float64) {
	checkLabels([]Label{l})
	text := make([]string, len(l.Values))
	for i, v := range l.Values {
		text[i] = renderLabels([]string{l.Name}, []string{v})
	}
	order := sortedOrder(text)
	r.register(name, help, "gauge", func(b []byte, name string) []byte {
		vals := f()
		for _, i := range order {
			v := 0.0
			if i < len(vals) {
				v = vals[i]
			}
			b = appendFloatSample(b, name, text[i], v)
		}
		return b
	})
}

// Info registers a gauge that is always 1, its labels saying something
// about the process (a build's version): kv are label names and values,
// alternately.
func (r *Registry) Info(name, help string, kv ...string) {
	if len(kv)%2 != 0 {
		panic("metrics: Info " + name + ": odd number of label names and values")
	}
	var names, values []string
	var ls []Label
	for i := 0; i < len(kv); i += 2 {
		names, values = append(names, kv[i]), append(values, kv[i+1])
		ls = append(ls, Label{Name: kv[i], Values: []string{kv[i+1]}})
	}
	checkLabels(ls)
	text := renderLabels(names, values)
	r.register(name, help, "gauge", func(b []byte, name string) []byte {
		return appendSample(b, name, text, 1)
	})
}

// CounterVec is a counter for each combination of its labels' values,
// all of them exported from the start (at zero).
type CounterVec struct {
	labels []Label
	other  []int // per label: the index of Other in its values, or -1
	series []Counter
	text   []string // per series: its labels as written
}

// dropped takes what a CounterVec cannot count: a value outside a label's
// set that has no Other.
var dropped Counter

// CounterVec registers a counter with labels, each with a fixed set of
// values.
func (r *Registry) CounterVec(name, help string, labels ...Label) *CounterVec {
	checkLabels(labels)
	v := &CounterVec{labels: labels}
	n := 1
	for _, l := range labels {
		v.other = append(v.other, slices.Index(l.Values, Other))
		n *= len(l.Values)
	}
	v.series = make([]Counter, n)
	v.text = make([]string, n)
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = l.Name
	}
	values := make([]string, len(labels))
	for i := range n {
		// Series i is the values' indexes as the digits of i (the last
		// label's varying fastest): the order in which With computes it.
		rest := i
		for j := len(labels) - 1; j >= 0; j-- {
			k := len(labels[j].Values)
			values[j] = labels[j].Values[rest%k]
			rest /= k
		}
		v.text[i] = renderLabels(names, values)
	}
	order := sortedOrder(v.text)
	r.register(name, help, "counter", func(b []byte, name string) []byte {
		for _, i := range order {
			b = appendSample(b, name, v.text[i], v.series[i].Value())
		}
		return b
	})
	return v
}

// With returns the counter for these label values, one for each label in
// the order registered. A value outside its label's set counts as Other
// (if the set has it; the count is dropped if not).
func (v *CounterVec) With(values ...string) *Counter {
	if len(values) != len(v.labels) {
		panic("metrics: CounterVec.With: wrong number of label values")
	}
	i := 0
	for j, l := range v.labels {
		k := slices.Index(l.Values, values[j])
		if k < 0 {
			if k = v.other[j]; k < 0 {
				return &dropped
			}
		}
		i = i*len(l.Values) + k
	}
	return &v.series[i]
}

// Histogram counts observations in fixed buckets, and sums them.
type Histogram struct {
	upper  []float64       // the buckets' inclusive upper bounds, ascending
	counts []atomic.Uint64 // per bucket, not cumulative; the last one is +Inf's
	sum    atomic.Uint64   // the float64 bits of the sum
}

// Histogram registers a histogram with these bucket upper bounds
// (ascending; +Inf is added).
func (r *Registry) Histogram(name, help string, buckets []float64) *Histogram {
	if len(buckets) == 0 || !slices.IsSorted(buckets) || slices.Contains(buckets, math.Inf(1)) {
		panic("metrics: Histogram " + name + ": buckets must be ascending, finite, and at least one")
	}
	h := &Histogram{upper: slices.Clone(buckets), counts: make([]atomic.Uint64, len(buckets)+1)}
	le := make([]string, len(buckets)+1)
	for i, u := range buckets {
		le[i] = renderLabels([]string{"le"}, []string{formatFloat(u)})
	}
	le[len(buckets)] = `{le="+Inf"}`
	r.register(name, help, "histogram", func(b []byte, name string) []byte {
		var cum uint64
		for i := range h.counts {
			cum += h.counts[i].Load()
			b = appendSample(b, name+"_bucket", le[i], cum)
		}
		b = appendFloatSample(b, name+"_sum", "", math.Float64frombits(h.sum.Load()))
		return appendSample(b, name+"_count", "", cum) // the buckets' total: consistent with them
	})
	return h
}

// Observe counts v.
func (h *Histogram) Observe(v float64) {
	// The first bucket whose bound is at least v (bounds are inclusive).
	lo, hi := 0, len(h.upper)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.upper[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	h.counts[lo].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// ObserveDuration counts d, in seconds.
func (h *Histogram) ObserveDuration(d time.Duration) { h.Observe(d.Seconds()) }

// WriteTo writes every family, sorted by name, in the text format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := make([]*family, 0, len(r.fams))
	for _, f := range r.fams {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	var b []byte
	for _, f := range fams {
		b = append(b, "# HELP "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, escapeHelp(f.help)...)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, f.typ...)
		b = append(b, '\n')
		b = f.write(b, f.name)
	}
	n, err := w.Write(b)
	return int64(n), err
}

// Handler serves the registry to GET and HEAD requests.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var buf bytes.Buffer
		r.WriteTo(&buf)
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		if req.Method == http.MethodGet {
			w.Write(buf.Bytes())
		}
	})
}

func appendSample(b []byte, name, labels string, v uint64) []byte {
	b = append(b, name...)
	b = append(b, labels...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '\n')
}

func appendFloatSample(b []byte, name, labels string, v float64) []byte {
	b = append(b, name...)
	b = append(b, labels...)
	b = append(b, ' ')
	b = append(b, formatFloat(v)...)
	return append(b, '\n')
}

// formatFloat writes v as the text format wants it: Go's shortest form,
// and +Inf, -Inf, NaN.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// renderLabels is {n1="v1",n2="v2"}, the values escaped; "" for none.
func renderLabels(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(labelValueEscaper.Replace(values[i]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// The text format's escapes: in label values backslash, double quote and
// newline; in HELP, backslash and newline.
var (
	labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper       = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

// sortedOrder is the indexes of text in the order of their values.
func sortedOrder(text []string) []int {
	order := make([]int, len(text))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(text[a], text[b]) })
	return order
}

// checkLabels panics on a bad label name, a repeated one, or an empty or
// repeated value set.
func checkLabels(labels []Label) {
	seen := map[string]bool{}
	for _, l := range labels {
		if !validName(l.Name, false) || strings.HasPrefix(l.Name, "__") || l.Name == "le" || seen[l.Name] {
			panic(fmt.Sprintf("metrics: invalid or repeated label name %q", l.Name))
		}
		seen[l.Name] = true
		if len(l.Values) == 0 {
			panic("metrics: label " + l.Name + " has no values")
		}
		vs := slices.Clone(l.Values)
		slices.Sort(vs)
		if len(slices.Compact(vs)) != len(l.Values) {
			panic("metrics: label " + l.Name + " has a value twice")
		}
	}
}

// validName reports whether s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
// or, without colon, a label name.
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			(c >= '0' && c <= '9' && i > 0) || (c == ':' && colon)
		if !ok {
			return false
		}
	}
	return true
}
