package headers_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/testutil"
)

const cspReportBody = `{"csp-report":{"document-uri":"https://app.example/page?token=secret#frag","referrer":"","violated-directive":"script-src-elem","effective-directive":"script-src-elem","original-policy":"default-src 'self'","disposition":"enforce","blocked-uri":"https://evil.example/x.js?session=abc","line-number":12,"column-number":5,"source-file":"https://app.example/app.js","status-code":200,"script-sample":""}}`

const reportsJSONBody = `[{"type":"csp-violation","age":10,"url":"https://app.example/page","user_agent":"Mozilla/5.0","body":{"documentURL":"https://app.example/page?q=1","effectiveDirective":"script-src-attr","blockedURL":"inline","disposition":"report","sample":"alert(1)\u0000\n","lineNumber":3,"columnNumber":9,"statusCode":200}},{"type":"deprecation","body":{"id":"x"}}]`

func TestReportHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		method    string
		ctype     string
		body      string
		status    int
		wantDir   []string
		wantDrops []string
	}{
		{"csp-report", "POST", "application/csp-report", cspReportBody, 204, []string{"script-src-elem"}, nil},
		{"reports+json", "POST", "application/reports+json", reportsJSONBody, 204, []string{"script-src-attr"}, nil},
		{"application/json csp-report", "POST", "application/json; charset=utf-8", cspReportBody, 204, []string{"script-src-elem"}, nil},
		{"csp2 violated-directive only", "POST", "application/csp-report", `{"csp-report":{"violated-directive":"img-src 'self'","blocked-uri":"data"}}`, 204, []string{"img-src"}, nil},
		{"unknown directive is not a label", "POST", "application/csp-report", `{"csp-report":{"effective-directive":"<script>"}}`, 204, []string{"unknown"}, nil},
		{"GET", "GET", "", "", 405, nil, []string{"method"}},
		{"wrong type", "POST", "text/plain", cspReportBody, 415, nil, []string{"type"}},
		{"bad media type", "POST", "application/json; ===", cspReportBody, 415, nil, []string{"type"}},
		{"malformed", "POST", "application/csp-report", `{"csp-report":`, 400, nil, []string{"malformed"}},
		{"not a report", "POST", "application/csp-report", `{"hello":1}`, 400, nil, []string{"malformed"}},
		{"too large", "POST", "application/csp-report", `{"csp-report":{"blocked-uri":"` + strings.Repeat("a", 2048) + `"}}`, 413, nil, []string{"size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var dirs, drops []string
			var logs testutil.Buffer
			h, err := headers.NewReportHandler(headers.ReportConfig{
				MaxBodyBytes: 1024,
				Logger:       slog.New(slog.NewJSONHandler(&logs, nil)),
				OnViolation: func(v headers.Violation) {
					mu.Lock()
					defer mu.Unlock()
					dirs = append(dirs, v.Directive)
				},
				OnDrop: func(r string) {
					mu.Lock()
					defer mu.Unlock()
					drops = append(drops, r)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tt.method, "/.rampart/csp-report", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Errorf("status: got %d, want %d", rec.Code, tt.status)
			}
			if strings.Join(dirs, ",") != strings.Join(tt.wantDir, ",") {
				t.Errorf("violations: got %v, want %v", dirs, tt.wantDir)
			}
			if strings.Join(drops, ",") != strings.Join(tt.wantDrops, ",") {
				t.Errorf("drops: got %v, want %v", drops, tt.wantDrops)
			}
			for _, secret := range []string{"token=secret", "session=abc", "#frag", "\\u0000"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log contains %q: %s", secret, logs.String())
				}
			}
			if tt.status == 204 && !strings.Contains(logs.String(), `"msg":"csp violation"`) {
				t.Errorf("no log line: %s", logs.String())
			}
		})
	}
}

func TestReportRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var drops int
	h, err := headers.NewReportHandler(headers.ReportConfig{
		PerMinute: 60, // 1/s, bursts of 6
		Now:       func() time.Time { return now },
		OnDrop:    func(string) { drops++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	post := func() int {
		r := httptest.NewRequest("POST", "/", strings.NewReader(cspReportBody))
		r.Header.Set("Content-Type", "application/csp-report")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	for i := range 6 {
		if got := post(); got != 204 {
			t.Fatalf("request %d: got %d, want 204", i, got)
		}
	}
	if got := post(); got != http.StatusTooManyRequests {
		t.Fatalf("over burst: got %d, want 429", got)
	}
	now = now.Add(2 * time.Second)
	for i := range 2 {
		if got := post(); got != 204 {
			t.Fatalf("after refill %d: got %d, want 204", i, got)
		}
	}
	if got := post(); got != 429 || drops != 2 {
		t.Fatalf("got %d with %d drops, want 429 with 2", got, drops)
	}
}

func TestParseReportsLimits(t *testing.T) {
	t.Parallel()
	one := `{"type":"csp-violation","body":{"effectiveDirective":"img-src"}}`
	body := "[" + strings.Repeat(one+",", 99) + one + "]"
	vs, err := headers.ParseReports([]byte(body), 20)
	if err != nil || len(vs) != 20 {
		t.Fatalf("got %d, %v; want 20 reports", len(vs), err)
	}
	long := `{"csp-report":{"document-uri":"https://a.example/` + strings.Repeat("é", 400) + `"}}`
	vs, err = headers.ParseReports([]byte(long), 20)
	if err != nil || len(vs) != 1 || len(vs[0].DocumentURL) > 256 || !bytes.Equal([]byte(vs[0].DocumentURL), bytes.ToValidUTF8([]byte(vs[0].DocumentURL), nil)) {
		t.Fatalf("long url not capped to valid UTF-8: %v %+v", err, vs)
	}
	if _, err := headers.ParseReports(nil, 20); err == nil {
		t.Error("empty body: got nil error")
	}
}

// reportsBody is a Reporting API body carrying n CSP violation reports.
func reportsBody(n int) string {
	one := `{"type":"csp-violation","url":"https://app.example/","body":{"effectiveDirective":"img-src","blockedURL":"https://x.example/a.png"}}`
	return "[" + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + "]"
}

// TestReportBudgetCountsReports is the flood the budget exists for: 650
// fast requests of 20 reports each, from many clients, must not log more
// than the budget's burst, counted in reports.
func TestReportBudgetCountsReports(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var logs testutil.Buffer
	var mu sync.Mutex
	drops := map[string]int{}
	h, err := headers.NewReportHandler(headers.ReportConfig{
		PerMinute: 600, // bursts of 60 reports
		Now:       func() time.Time { return now },
		Logger:    slog.New(slog.NewJSONHandler(&logs, nil)),
		OnDrop: func(reason string) {
			mu.Lock()
			defer mu.Unlock()
			drops[reason]++
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := reportsBody(20)
	codes := map[int]int{}
	for i := range 650 {
		r := httptest.NewRequest("POST", "/.rampart/csp-report", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/reports+json")
		r.RemoteAddr = fmt.Sprintf("198.51.%d.%d:4000", i/250, i%250)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		codes[rec.Code]++
	}
	if got := strings.Count(logs.String(), `"msg":"csp violation"`); got != 60 {
		t.Errorf("violations logged: got %d, want 60 (the burst, in reports)", got)
	}
	if codes[204] != 3 || codes[429] != 647 {
		t.Errorf("statuses: got %v, want 3×204 and 647×429", codes)
	}
	mu.Lock()
	defer mu.Unlock()
	if drops["client_rate"] != 0 || drops["rate"] != 647 {
		t.Errorf("drops: got %v, want 647 rate", drops)
	}
}

// TestReportBudgetPerClient: one client's reports cannot use up everyone's
// budget, and a request that only partly fits is accepted in part.
func TestReportBudgetPerClient(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	drops := map[string]int{}
	accepted := 0
	h, err := headers.NewReportHandler(headers.ReportConfig{
		PerMinute:          6000,
		PerClientPerMinute: 60, // one a second, bursts of 20 (max_reports)
		Now:                func() time.Time { return now },
		OnViolation:        func(headers.Violation) { mu.Lock(); accepted++; mu.Unlock() },
		OnDrop: func(reason string) {
			mu.Lock()
			defer mu.Unlock()
			drops[reason]++
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	post := func(from string, n int) int {
		r := httptest.NewRequest("POST", "/.rampart/csp-report", strings.NewReader(reportsBody(n)))
		r.Header.Set("Content-Type", "application/reports+json")
		r.RemoteAddr = from
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	const a, a2, b = "[2001:db8:1:1::1]:4000", "[2001:db8:1:1::2]:4000", "192.0.2.9:4000"
	if got := post(a, 15); got != 204 {
		t.Fatalf("first request: got %d, want 204", got)
	}
	if got := post(a2, 15); got != 204 { // the same /64: 5 fit, 10 dropped
		t.Fatalf("partly fitting request: got %d, want 204", got)
	}
	if got := post(a, 1); got != http.StatusTooManyRequests {
		t.Fatalf("client over its budget: got %d, want 429", got)
	}
	if got := post(b, 20); got != 204 {
		t.Fatalf("another client: got %d, want 204", got)
	}
	now = now.Add(3 * time.Second) // three more reports for a
	if got := post(a, 5); got != 204 {
		t.Fatalf("after refill: got %d, want 204", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepted != 15+5+20+3 {
		t.Errorf("accepted: got %d, want %d", accepted, 15+5+20+3)
	}
	if drops["client_rate"] != 10+1+2 || drops["rate"] != 0 {
		t.Errorf("drops: got %v, want 13 client_rate", drops)
	}
}
