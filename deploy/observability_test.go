package deploy_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rampartsec/rampart/gateway"
)

// metricRef finds the metric names a PromQL expression uses.
var metricRef = regexp.MustCompile(`\brampart_[a-z0-9_]+`)

// checkMetrics fails t for every rampart_ metric expr names that the
// gateway does not export (histogram series by their family name).
func checkMetrics(t *testing.T, where, expr string, known []string) int {
	t.Helper()
	refs := metricRef.FindAllString(expr, -1)
	for _, name := range refs {
		family := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(known, f) {
				family = f
			}
		}
		if !slices.Contains(known, family) {
			t.Errorf("%s: %s is not a metric Rampart exports (known: %v)", where, name, known)
		}
	}
	return len(refs)
}

// TestAlertRulesUseRealMetrics: every rule in the shipped Prometheus rules
// parses, has an expression, labels and a summary, and uses only metrics
// the gateway exports; the rules cover what an operator must be woken for.
func TestAlertRulesUseRealMetrics(t *testing.T) {
	t.Parallel()
	known := gateway.MetricNames()
	if len(known) < 10 {
		t.Fatalf("gateway.MetricNames returned %v", known)
	}
	b, err := os.ReadFile("prometheus/rampart-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("rules do not parse: %v", err)
	}
	var alerts, used []string
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v: want alert, expr, labels.severity and annotations.summary", r)
			}
			alerts = append(alerts, r.Alert)
			checkMetrics(t, r.Alert, r.Expr, known)
			used = append(used, metricRef.FindAllString(r.Expr, -1)...)
		}
	}
	for _, want := range []string{"rampart_requests_total", "rampart_policy_denials_total", "rampart_store_up", "rampart_degraded", "rampart_tls_certificate_expiry_timestamp_seconds"} {
		if !slices.Contains(used, want) {
			t.Errorf("no rule uses %s (error budget, refusal spikes, store down, degraded mode, certificate expiry)", want)
		}
	}
	t.Logf("%d alerts: %v", len(alerts), alerts)
}

// TestDashboardUsesRealMetrics: the Grafana dashboard is valid JSON with
// panels whose every query uses only metrics the gateway exports.
func TestDashboardUsesRealMetrics(t *testing.T) {
	t.Parallel()
	known := gateway.MetricNames()
	b, err := os.ReadFile("grafana/rampart-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query any `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) < 10 {
		t.Fatalf("dashboard: title %q uid %q, %d panels; want a titled dashboard with its panels", dash.Title, dash.UID, len(dash.Panels))
	}
	refs := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			refs += checkMetrics(t, "panel "+p.Title, q.Expr, known)
		}
	}
	for _, v := range dash.Templating.List {
		if s, ok := v.Query.(string); ok {
			checkMetrics(t, "variable", s, known)
		}
	}
	if refs == 0 {
		t.Error("no panel query names a Rampart metric")
	}
}

// TestMetricNamesAreConsistent: one naming scheme — rampart_ prefix,
// counters ending in _total, no double underscores.
func TestMetricNamesAreConsistent(t *testing.T) {
	t.Parallel()
	for _, n := range gateway.MetricNames() {
		if !strings.HasPrefix(n, "rampart_") || strings.Contains(n, "__") || strings.HasSuffix(n, "_") {
			t.Errorf("metric %q does not follow the naming scheme", n)
		}
	}
}
