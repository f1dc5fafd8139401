package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/admintest"
	"github.com/rampartsec/rampart/internal/testutil"
)

// topAPI is a stand-in admin API with a little traffic, asking for token.
func topAPI(t *testing.T, token string) (*admintest.API, string) {
	t.Helper()
	api := seededAdminAPI(token)
	srv := httptest.NewServer(api.Handler(nil))
	t.Cleanup(srv.Close)
	return api, strings.TrimPrefix(srv.URL, "http://")
}

// seededAdminAPI returns a stand-in admin API asking for token, with
// windows, top lists, a finding and three events, the latest 01LATEST4242.
func seededAdminAPI(token string) *admintest.API {
	api := admintest.New(token)
	var s admintest.Stats
	s.Instance = "gw-1.example:4242"
	s.Windows = map[string]admintest.Counts{
		"1m":  {Requests: 612, Refused: 31, ByPolicy: map[string]int64{"ratelimit": 20, "csrf": 6, "access": 5}},
		"15m": {Requests: 8840, Refused: 402, ByPolicy: map[string]int64{"ratelimit": 250, "csrf": 80, "access": 40, "validation": 32}},
		"1h":  {Requests: 35120, Refused: 1610, ByPolicy: map[string]int64{"ratelimit": 1000, "csrf": 300, "access": 160, "validation": 150}},
		"24h": {Requests: 801234, Refused: 30211},
	}
	s.Top = map[string][]admintest.Top{
		"client_ip": {{Key: "203.0.113.9", Count: 812}, {Key: "198.51.100.23", Count: 301}},
		"route":     {{Key: "POST /login", Count: 522}},
		"user":      {{Key: "alice", Count: 40}},
	}
	s.Config.LastReload = time.Now().Add(-42 * time.Minute)
	s.Config.ReloadOK = true
	s.Config.Findings = []admintest.Finding{{ID: "headers.csp-report-only", Severity: "medium", Title: "CSP is in report-only mode"}}
	s.Upstream.URL = "http://127.0.0.1:3000"
	s.Upstream.Healthy = true
	api.SetStats(s)
	api.Push(admintest.Event{ID: "01OLDER", Policy: "access", Status: 403, Method: "GET", Route: "GET /admin", ClientIP: "198.51.100.23", Reason: "client address is on the deny list"})
	api.Push(admintest.Event{ID: "01HOSTILE", Policy: "csrf", Status: 403, Method: "POST", Route: "POST /notes", ClientIP: "192.0.2.44",
		User: "<img src=x onerror=alert(1)>", Reason: "origin \x1b]0;pwned\x07\x1b[2Jrefused"})
	api.Push(admintest.Event{ID: "01LATEST4242", Policy: "ratelimit", Status: 429, Method: "GET", Route: "GET /api/items/{id}", ClientIP: "203.0.113.9", Reason: "rate limit api-per-ip exceeded"})
	return api
}

func writeToken(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "admin.token")
	if err := os.WriteFile(p, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runTopCLI(ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr syncBuffer
	c := newCLI(strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] })
	code := c.main(ctx, append([]string{"top"}, args...))
	return code, stdout.String(), stderr.String()
}

// syncBuffer is a bytes.Buffer safe to read while top writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTopOnce prints one view from the admin API: per-policy counts over
// each window, the refusal rate, the top offenders and the latest events
// with their incident ids, with the token sent as a bearer token and
// nothing an attacker put in an event able to reach the terminal raw.
func TestTopOnce(t *testing.T) {
	t.Parallel()
	api, addr := topAPI(t, "s3cret")
	code, out, errOut := runTopCLI(context.Background(), nil, "--admin", addr, "--token-file", writeToken(t, "s3cret"), "--once")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"gw-1.example:4242",
		"                            1m       15m        1h",
		"requests                   612     8,840    35,120",
		"refused                     31       402     1,610",
		"refusal rate              5.1%      4.5%      4.6%",
		"  access                     5        40       160",
		"  csrf                       6        80       300",
		"  ratelimit                 20       250     1,000",
		"  validation                 0        32       150",
		"top client IPs 203.0.113.9 (812)  198.51.100.23 (301)",
		"top routes     POST /login (522)",
		"top users      alice (40)",
		"applied · 1 checklist finding",
		"CSP is in report-only mode",
		"upstream: http://127.0.0.1:3000 healthy",
		"01LATEST4242", "GET /api/items/{id}", "rate limit api-per-ip exceeded",
		`origin \x1b]0;pwned\x07\x1b[2Jrefused`, // escaped, shown
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the view lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Errorf("control characters reached the output:\n%q", out)
	}
	latest := strings.Index(out, "01LATEST4242")
	if older := strings.Index(out, "01OLDER"); older < latest {
		t.Errorf("the latest event is not first:\n%s", out)
	}
	for _, r := range api.Requests() {
		if r.Auth != "bearer" {
			t.Errorf("%s %s was not sent with the bearer token", r.Method, r.Path)
		}
	}
}

// TestTopColor colours only a terminal, and never when NO_COLOR is set;
// the renderer's colours are closed on every line.
func TestTopColor(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	v := topView{addr: "127.0.0.1:9090"}
	v.stats.Windows = map[string]topCounts{"1m": {Requests: 10, Refused: 2, ByPolicy: map[string]int64{"csrf": 2}}}
	v.stats.Config.ReloadOK = &no
	v.stats.Upstream.Healthy = &yes
	lines := renderTop(v, true, time.Now())
	joined := strings.Join(lines, "\n")
	for _, want := range []string{ansiRed + "last reload failed" + ansiReset, ansiGreen + "healthy" + ansiReset, ansiRed + "         2" + ansiReset} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %q in\n%q", want, joined)
		}
	}
	if plain := strings.Join(renderTop(v, false, time.Now()), "\n"); strings.ContainsRune(plain, 0x1b) {
		t.Errorf("colour without asking: %q", plain)
	}
	for _, tt := range []struct {
		in    string
		width int
		want  string
	}{
		{"abcdef", 3, "abc"},
		{ansiRed + "abcdef" + ansiReset, 2, ansiRed + "ab" + ansiReset},
		{"ab" + ansiBold + "cd" + ansiReset + "ef", 10, "ab" + ansiBold + "cd" + ansiReset + "ef"},
		{"héllo", 2, "hé"},
	} {
		if got := truncateANSI(tt.in, tt.width); got != tt.want {
			t.Errorf("truncateANSI(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
	// A buffer is not a terminal: no colour and no cursor movement even
	// without NO_COLOR.
	_, addr := topAPI(t, "")
	code, out, _ := runTopCLI(context.Background(), map[string]string{"TERM": "xterm-256color"}, "--admin", addr, "--once")
	if code != 0 || strings.ContainsRune(out, 0x1b) {
		t.Errorf("exit %d, output with escapes: %q", code, out)
	}
}

// TestTopErrors: a refused token is a usage error with a hint about
// --token-file (exit 2); an admin listener that does not answer, or
// answers with an error, exits 1 with a clear message.
func TestTopErrors(t *testing.T) {
	t.Parallel()
	_, addr := topAPI(t, "s3cret")
	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return strings.TrimPrefix(s.URL, "http://")
	}
	notFound := serve(http.NotFound)
	failing := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"the event store is unavailable"}`))
	})
	forbidden := serve(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"the admin API from this address needs admin.token_file"}`))
	})
	html := serve(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>a proxy's page</html>")) })
	hanging := serve(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	empty := writeToken(t, "  ")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"no token", []string{"--admin", addr}, 2, []string{"refused /stats: 401 admin token required", "pass --token-file FILE"}},
		{"wrong token", []string{"--admin", addr, "--token-file", writeToken(t, "guess")}, 2, []string{"401 admin token required", "is not the one in the gateway's admin.token_file"}},
		{"forbidden", []string{"--admin", forbidden}, 2, []string{"403 the admin API from this address needs admin.token_file", "loopback needs no token"}},
		{"unreachable", []string{"--admin", testutil.FreeAddr(t)}, 1, []string{"did not answer", "connection refused", "start the gateway"}},
		{"no /stats", []string{"--admin", notFound}, 1, []string{"has no /stats"}},
		{"failing", []string{"--admin", failing}, 1, []string{"answered /stats with 503 the event store is unavailable"}},
		{"not JSON", []string{"--admin", html}, 1, []string{"something other than its JSON"}},
		{"hanging", []string{"--admin", hanging}, 1, []string{"did not answer", "deadline exceeded"}},
		{"bad address", []string{"--admin", "nowhere"}, 2, []string{"is not host:port"}},
		{"short interval", []string{"--admin", addr, "--interval", "10ms"}, 2, []string{"--interval 10ms is too short"}},
		{"missing token file", []string{"--admin", addr, "--token-file", filepath.Join(t.TempDir(), "nope")}, 2, []string{"/nope: no such file or directory"}},
		{"empty token file", []string{"--admin", addr, "--token-file", empty}, 2, []string{"is empty"}},
		{"extra argument", []string{"now"}, 2, []string{"unexpected argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			code, out, errOut := runTopCLI(context.Background(), nil, append(tt.args, "--once")...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q lacks %q", errOut, want)
				}
			}
			if !strings.HasPrefix(errOut, "rampart: error: ") {
				t.Errorf("stderr %q is not an error line", errOut)
			}
			if out != "" {
				t.Errorf("stdout %q on an error", out)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestTopRedraws keeps reading: a later view shows an event pushed after
// the first, a refresh that fails keeps the last view with the reason, and
// an interrupt ends it with status 0.
func TestTopRedraws(t *testing.T) {
	t.Parallel()
	api, addr := topAPI(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	c := newCLI(strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	done := make(chan int, 1)
	go func() { done <- c.main(ctx, []string{"top", "--admin", addr, "--interval", "200ms"}) }()
	wait := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(stdout.String()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: output so far:\n%s\nstderr: %s", what, stdout.String(), stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("the first view", func(s string) bool { return strings.Contains(s, "01LATEST4242") })
	api.Push(admintest.Event{ID: "01PUSHEDLATER", Policy: "login_protection", Status: 429, User: "alice", Reason: "account locked"})
	wait("the pushed event in a later view", func(s string) bool { return strings.Contains(s, "01PUSHEDLATER") })
	if n := strings.Count(stdout.String(), "rampart top · "); n < 2 {
		t.Errorf("%d views, want at least 2", n)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after an interrupt, want 0; stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("top did not stop on an interrupt")
	}
}

// TestTopKeepsTheLastView shows the last view with the reason when a
// refresh fails, and carries on.
func TestTopKeepsTheLastView(t *testing.T) {
	t.Parallel()
	api := admintest.New("")
	var s admintest.Stats
	s.Instance = "gw-9"
	api.SetStats(s)
	var down sync.Mutex
	isDown := false
	h := api.Handler(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down.Lock()
		d := isDown
		down.Unlock()
		if d {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	c := newCLI(strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	done := make(chan int, 1)
	go func() {
		done <- c.main(ctx, []string{"top", "--admin", strings.TrimPrefix(srv.URL, "http://"), "--interval", "200ms"})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "gw-9") {
		if time.Now().After(deadline) {
			t.Fatalf("no first view: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	down.Lock()
	isDown = true
	down.Unlock()
	for !strings.Contains(stdout.String(), "not refreshed: the admin listener at") {
		if time.Now().After(deadline) {
			t.Fatalf("the failed refresh is not shown: %q", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(stdout.String(), "answered /stats with 502 Bad Gateway (retrying)") {
		t.Errorf("the reason is not shown: %q", stdout.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestTopConfig: with --config, top finds the admin listener and its token
// where the gateway does — admin.listen, and admin.token_file relative to
// the configuration file — with no other flag.
func TestTopConfig(t *testing.T) {
	t.Parallel()
	api, addr := topAPI(t, "from-the-config-file")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("from-the-config-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "rampart.yaml")
	body := fmt.Sprintf("upstream: http://127.0.0.1:3000\nadmin: {listen: %q, token_file: admin.token}\n", addr)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runTopCLI(context.Background(), nil, "--config", cfg, "--once")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "01LATEST4242") {
		t.Errorf("no view:\n%s", out)
	}
	for _, r := range api.Requests() {
		if r.Auth != "bearer" {
			t.Errorf("%s %s was not sent with the configuration's token", r.Method, r.Path)
		}
	}
	// An unreadable configuration is a usage error naming it.
	code, _, errOut = runTopCLI(context.Background(), nil, "--config", filepath.Join(dir, "missing.yaml"), "--once")
	if code != 2 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("missing --config: exit %d, stderr %q", code, errOut)
	}
}

// TestTopTLSAdmin: an admin listener that serves TLS (admin.cert_file) is
// read over HTTPS with exactly that certificate accepted: another
// certificate gets nothing, not even the token; without --config the
// error says what to pass.
func TestTopTLSAdmin(t *testing.T) {
	t.Parallel()
	api := seededAdminAPI("tls-token-0123456789")
	srv := httptest.NewTLSServer(api.Handler(nil))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	dir := t.TempDir()
	right := filepath.Join(dir, "admin.crt")
	if err := os.WriteFile(right, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong, _, _ := testutil.SelfSignedCert(t, t.TempDir())
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("tls-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := func(name, cert string) string {
		p := filepath.Join(dir, name)
		body := fmt.Sprintf("upstream: http://127.0.0.1:3000\nadmin: {listen: %q, token_file: admin.token, cert_file: %q, key_file: admin.key}\n", addr, cert)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	code, out, errOut := runTopCLI(context.Background(), nil, "--config", config("right.yaml", right), "--once")
	if code != 0 || !strings.Contains(out, "01LATEST4242") {
		t.Fatalf("the listener's own certificate: exit %d, stderr %q\n%s", code, errOut, out)
	}
	before := len(api.Requests())
	code, _, errOut = runTopCLI(context.Background(), nil, "--config", config("wrong.yaml", wrong), "--once")
	if code == 0 || !strings.Contains(errOut, "other than admin.cert_file's") {
		t.Errorf("another certificate: exit %d, stderr %q", code, errOut)
	}
	if n := len(api.Requests()); n != before {
		t.Errorf("a listener with another certificate received %d requests", n-before)
	}
	code, _, errOut = runTopCLI(context.Background(), nil, "--admin", addr, "--once")
	if code == 0 || !strings.Contains(errOut, "serves TLS: pass --config") {
		t.Errorf("plain HTTP to a TLS listener: exit %d, stderr %q", code, errOut)
	}
}
