package health

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Metric is one sample for the Prometheus text format: a counter or gauge
// with its labels.
type Metric struct {
	Name   string // such as "counterdesk_sip_calls_total"
	Help   string
	Type   string // "counter" or "gauge"
	Labels map[string]string
	Value  float64
}

// AddSource registers a function whose metrics are read at each scrape,
// under a name that replaces an earlier source of the same name.
func (r *Registry) AddSource(name string, f func() []Metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sources == nil {
		r.sources = make(map[string]func() []Metric)
	}
	r.sources[name] = f
}

// states lists the states a subsystem can be in, for the one-hot gauge.
var states = []string{OK, Degraded, Down, Disabled}

// Metrics returns every source's metrics and, for each subsystem, the
// gauge counterdesk_subsystem_state{subsystem, state} that is 1 for its
// current state and 0 for the others.
func (r *Registry) Metrics() []Metric {
	r.mu.Lock()
	subs := maps.Clone(r.subs)
	sources := slices.Collect(maps.Values(r.sources))
	r.mu.Unlock()
	var out []Metric
	for name, st := range subs {
		for _, s := range states {
			v := 0.0
			if st.State == s {
				v = 1
			}
			out = append(out, Metric{
				Name: "counterdesk_subsystem_state", Type: "gauge",
				Help:   "1 for the state each subsystem is in (ok, degraded, down, disabled), 0 for the others.",
				Labels: map[string]string{"subsystem": name, "state": s}, Value: v,
			})
		}
	}
	for _, f := range sources {
		out = append(out, f()...)
	}
	return out
}

// WriteText writes metrics in the Prometheus text exposition format
// (version 0.0.4), grouped by family with one HELP and TYPE line each. A
// histogram's samples (Type "histogram", names ending in _bucket, _sum and
// _count) form one family, buckets in increasing order of their le label.
func WriteText(w io.Writer, metrics []Metric) error {
	slices.SortStableFunc(metrics, func(a, b Metric) int {
		return cmp.Or(
			strings.Compare(family(a), family(b)),
			cmp.Compare(suffixRank(a), suffixRank(b)),
			strings.Compare(labelText(withoutLE(a.Labels)), labelText(withoutLE(b.Labels))),
			cmp.Compare(le(a), le(b)),
		)
	})
	var b strings.Builder
	last := ""
	for _, m := range metrics {
		if f := family(m); f != last {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f, escapeHelp(m.Help), f, cmp.Or(m.Type, "gauge"))
			last = f
		}
		b.WriteString(m.Name)
		b.WriteString(labelText(m.Labels))
		b.WriteByte(' ')
		b.WriteString(formatValue(m.Value))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// histogramSuffixes are the sample names of a histogram family, in the
// order they are written.
var histogramSuffixes = [...]string{"_bucket", "_sum", "_count"}

func family(m Metric) string {
	if m.Type == "histogram" {
		for _, s := range histogramSuffixes {
			if f, ok := strings.CutSuffix(m.Name, s); ok {
				return f
			}
		}
	}
	return m.Name
}

func suffixRank(m Metric) int {
	if m.Type == "histogram" {
		for i, s := range histogramSuffixes {
			if strings.HasSuffix(m.Name, s) {
				return i
			}
		}
	}
	return 0
}

func withoutLE(labels map[string]string) map[string]string {
	if _, ok := labels["le"]; !ok {
		return labels
	}
	out := maps.Clone(labels)
	delete(out, "le")
	return out
}

// le is a bucket's upper bound, +Inf for none.
func le(m Metric) float64 {
	v, ok := m.Labels["le"]
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return math.Inf(1)
	}
	return f
}

func labelText(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(labels[k]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// escapeLabel escapes a label value: backslash, double quote and newline.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// escapeHelp escapes HELP text: backslash and newline.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func formatValue(v float64) string {
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
