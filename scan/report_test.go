package scan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/scan"
)

func TestWriteTable(t *testing.T) {
	t.Parallel()
	rep := run(t, scan.Config{URL: serve(t, page(nil))})
	var b bytes.Buffer
	if err := scan.WriteTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// Items in order, each once.
	var items []string
	for _, m := range regexp.MustCompile(`(?m)^(\d+)\. `).FindAllStringSubmatch(out, -1) {
		items = append(items, m[1])
	}
	if got, want := strings.Join(items, ","), "1,3,4,6,8,9,12"; got != want {
		t.Errorf("item headings: got %s, want %s\n%s", got, want, out)
	}
	for _, want := range []string{
		"6. Security headers (helmet)\n",
		"  FAIL   high      csp                           not set (csp-not-implemented, -25)\n",
		"                                                 fix: send a Content-Security-Policy",
		"  SKIP             login-rate-limit              not run: give the login path (--login PATH) to test it\n",
		"score:    ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	s := rep.Summary()
	if s.Pass+s.Warn+s.Fail+s.Skip+s.Error != len(scan.Definitions()) {
		t.Errorf("summary %+v does not add up to %d checks", s, len(scan.Definitions()))
	}
	if !regexp.MustCompile(`(?m)^\d+ pass, \d+ warn, \d+ fail, 5 skip, 0 error$`).MatchString(out) {
		t.Errorf("no summary line:\n%s", out)
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	rep := run(t, scan.Config{URL: serve(t, page(goodHeaders)), MaxRequests: 12})
	var b bytes.Buffer
	if err := scan.WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		URL         string `json:"url"`
		FinalURL    string `json:"final_url"`
		Status      int    `json:"status"`
		Requests    int    `json:"requests"`
		MaxRequests int    `json:"max_requests"`
		DurationMS  *int64 `json:"duration_ms"`
		Observatory struct {
			Algorithm string `json:"algorithm"`
			Score     int    `json:"score"`
			Grade     string `json:"grade"`
			Tests     map[string]struct {
				Result   string `json:"result"`
				Pass     bool   `json:"pass"`
				Modifier int    `json:"score_modifier"`
			} `json:"tests"`
		} `json:"observatory"`
		Checks  []map[string]any `json:"checks"`
		Summary map[string]int   `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.URL != rep.URL || got.FinalURL != rep.URL+"/" || got.Status != 200 || got.Requests != rep.Requests || got.MaxRequests != 12 || got.DurationMS == nil {
		t.Errorf("top level: got %+v", got)
	}
	if got.Observatory.Algorithm == "" || got.Observatory.Grade == "" || len(got.Observatory.Tests) != 10 {
		t.Errorf("observatory: got %+v", got.Observatory)
	}
	if len(got.Checks) != len(scan.Definitions()) {
		t.Errorf("checks: got %d, want %d", len(got.Checks), len(scan.Definitions()))
	}
	for _, c := range got.Checks {
		st := c["status"].(string)
		_, hasSev := c["severity"]
		if (st == "warn" || st == "fail") != hasSev {
			t.Errorf("%v: severity present %v for status %s", c["id"], hasSev, st)
		}
		for _, k := range []string{"id", "item", "status", "title", "detail"} {
			if _, ok := c[k]; !ok {
				t.Errorf("%v lacks %s", c["id"], k)
			}
		}
	}
	for _, k := range []string{"pass", "warn", "fail", "skip", "error"} {
		if _, ok := got.Summary[k]; !ok {
			t.Errorf("summary lacks %s", k)
		}
	}
}

func TestFailing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c         scan.Check
		threshold severity.Level
		want      bool
	}{
		{scan.Check{Status: scan.Pass}, severity.Low, false},
		{scan.Check{Status: scan.Skip}, severity.Low, false},
		{scan.Check{Status: scan.Errored}, severity.Critical, true},
		{scan.Check{Status: scan.Warn, Severity: severity.Low}, severity.Low, true},
		{scan.Check{Status: scan.Warn, Severity: severity.Moderate}, severity.High, false},
		{scan.Check{Status: scan.Fail, Severity: severity.High}, severity.High, true},
		{scan.Check{Status: scan.Fail, Severity: severity.High}, severity.Critical, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.c.Status)+"-"+tt.c.Severity.String()+"-"+tt.threshold.String(), func(t *testing.T) {
			t.Parallel()
			if got := tt.c.Failing(tt.threshold); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDocsListEveryCheck keeps docs/scan.md in step with the checks.
func TestDocsListEveryCheck(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/scan.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range scan.Definitions() {
		if !strings.Contains(string(doc), "| `"+d.ID+"` |") {
			t.Errorf("docs/scan.md has no table row for %s", d.ID)
		}
	}
}
