package caddymodule

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// registered records what the gate registers on a registry.
type registered struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

func (r *registered) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return r.Registerer.Register(c)
}

var (
	descName   = regexp.MustCompile(`fqName: "([^"]+)"`)
	descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
	// A selector: a name, maybe with label matchers; or a function or
	// aggregation (followed by "(").
	selector = regexp.MustCompile(`([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?`)
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring)\s*\(([^)]*)\)`)
	matcher  = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"`)
	rangeSel = regexp.MustCompile(`\[[^\]]*\]`)
	labelVal = regexp.MustCompile(`^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*([A-Za-z_]+)\s*\)$`)
)

// promKeywords are PromQL's words that are not metrics.
var promKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}

// TestDashboardNamesExportedMetrics: every query of the Grafana dashboard
// (docs/grafana/smsgate.json) names only metrics the gate registers on
// Caddy's registry — read from what newMetrics registers, not from a list
// kept by hand — with labels those metrics have; and every metric the gate
// exports has a panel.
func TestDashboardNamesExportedMetrics(t *testing.T) {
	reg := &registered{Registerer: prometheus.NewRegistry()}
	newMetrics(reg)
	exported := map[string][]string{} // name → its labels
	for _, c := range reg.collectors {
		ch := make(chan *prometheus.Desc, 4)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			name, labels := descName.FindStringSubmatch(d.String()), descLabels.FindStringSubmatch(d.String())
			if name == nil || labels == nil {
				t.Fatalf("cannot read %s", d)
			}
			own := []string{"instance", "job"} // the target's labels, which Prometheus adds
			for _, l := range strings.Split(labels[1], ",") {
				if l != "" {
					own = append(own, l)
				}
			}
			exported[name[1]] = own
		}
	}
	if len(exported) < 8 {
		t.Fatalf("only %d metrics registered: %v", len(exported), exported)
	}

	raw, err := os.ReadFile("../docs/grafana/smsgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	var queries []string
	var walk func(any, string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			if key == "expr" || key == "query" || key == "definition" {
				queries = append(queries, v)
			}
		}
	}
	walk(dash, "")
	if len(queries) < 15 {
		t.Fatalf("only %d queries in the dashboard", len(queries))
	}
	used := map[string]bool{}
	for _, q := range queries {
		if m := labelVal.FindStringSubmatch(q); m != nil {
			if !slices.Contains(exported[m[1]], m[2]) {
				t.Errorf("%q: %s has no label %s", q, m[1], m[2])
			}
			used[m[1]] = true
			continue
		}
		expr := rangeSel.ReplaceAllString(q, "")
		var names, labels []string
		for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(g[1], ",") {
				labels = append(labels, strings.TrimSpace(l))
			}
		}
		expr = grouping.ReplaceAllString(expr, "")
		for _, m := range selector.FindAllStringSubmatch(expr, -1) {
			if m[3] != "" || slices.Contains(promKeywords, m[1]) {
				continue // a function or an aggregation
			}
			own, ok := exported[m[1]]
			if !ok {
				t.Errorf("%q names %s, which the gate does not export", q, m[1])
				continue
			}
			names, used[m[1]] = append(names, m[1]), true
			for _, lm := range matcher.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(own, lm[1]) {
					t.Errorf("%q: %s has no label %s", q, m[1], lm[1])
				}
			}
		}
		if len(names) == 0 {
			t.Errorf("%q names no metric", q)
		}
		for _, l := range labels {
			for _, n := range names {
				if !slices.Contains(exported[n], l) {
					t.Errorf("%q groups by %s, which %s does not have", q, l, n)
				}
			}
		}
	}
	for name := range exported {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}
