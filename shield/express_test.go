package shield_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
	"github.com/rampartsec/rampart/shield"
)

// TestExpressLeaksNeverReachTheClient puts a development-mode Express app
// behind request ids, security headers, the shield and a reverse proxy —
// the gateway's order — and checks every leaky route.
func TestExpressLeaksNeverReachTheClient(t *testing.T) {
	app := testutil.StartNode(t, testutil.NodeAppsDir(t), "app.js", "MODE=bare", "NODE_ENV=development")
	logs := &testutil.Buffer{}
	s, err := shield.New(shield.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hp, err := headers.New(headers.Config{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(app.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		problem.Write(w, r, problem.Problem{Status: http.StatusBadGateway, Policy: "upstream"})
	}
	gw := httptest.NewServer(requestid.Handler(requestid.Config{}, hp.Handler(s.Handler(rp))))
	defer gw.Close()

	tests := []struct {
		path     string
		accept   string
		status   int
		leaks    []string
		original string // part of the original body expected in the log
	}{
		{"/throw", "text/html,application/xhtml+xml", 500, []string{"payment backend", "at ", "node_modules", ".js:"}, "payment backend rejected"},
		{"/stack", "application/json", 500, []string{"TypeError", "stack", ".js:"}, "Cannot read properties of undefined"},
		{"/gopanic", "", 502, []string{"goroutine", "main.go", "SIGSEGV"}, "goroutine 18 [running]"},
		{"/python", "", 400, []string{"Traceback", "views.py", "DoesNotExist"}, "Traceback (most recent call last)"},
		{"/sql", "application/json", 400, []string{"SQL", "ER_PARSE_ERROR", "SELECT", "hunter2"}, "ER_PARSE_ERROR"},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", gw.URL+tt.path, nil)
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != tt.status {
			t.Errorf("%s: status: got %d, want %d", tt.path, res.StatusCode, tt.status)
		}
		for _, leak := range tt.leaks {
			if strings.Contains(string(body), leak) {
				t.Errorf("%s: client got %q:\n%s", tt.path, leak, body)
			}
		}
		id := res.Header.Get("X-Request-Id")
		if id == "" || !strings.Contains(string(body), id) {
			t.Errorf("%s: incident id %q not in the neutral body:\n%s", tt.path, id, body)
		}
		if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Powered-By") != "" {
			t.Errorf("%s: security headers missing on the neutral response: %v", tt.path, res.Header)
		}
		ids[tt.path] = id
	}
	// A clean 400 and a 200 pass untouched.
	res, err := http.Get(gw.URL + "/bad-request")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), "quantity must be a positive integer") {
		t.Errorf("clean 400 was changed: %d %s", res.StatusCode, b)
	}

	_ = s.Close()
	entries := map[string]map[string]any{}
	for _, l := range logs.Lines() {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			if id, ok := m["request_id"].(string); ok {
				entries[id] = m
			}
		}
	}
	for _, tt := range tests {
		e := entries[ids[tt.path]]
		if e == nil {
			t.Errorf("%s: incident %s not in the log", tt.path, ids[tt.path])
			continue
		}
		if body, _ := e["body"].(string); !strings.Contains(body, tt.original) {
			t.Errorf("%s: log excerpt misses %q: %q", tt.path, tt.original, body)
		}
		if int(e["status"].(float64)) != tt.status {
			t.Errorf("%s: logged status %v, want %d", tt.path, e["status"], tt.status)
		}
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("password reached the log:\n%s", logs.String())
	}
}
