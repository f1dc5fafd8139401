package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

func TestRoutesDefaultDeny(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `routes:
  - match: "GET /public/{path...}"
  - match: "POST /api/items"
  - match: "GET /api/items/{id}"
`))
	tests := []struct {
		method, path string
		want         int
		allow        string
	}{
		{"GET", "/public/a/b.css", 200, ""},
		{"HEAD", "/public/a", 200, ""},
		{"POST", "/api/items", 200, ""},
		{"GET", "/api/items/7", 200, ""},
		{"GET", "/admin", 404, ""},
		{"GET", "/", 404, ""},
		{"GET", "/api/items", 405, "POST"},
		{"DELETE", "/api/items/7", 405, "GET, HEAD"},
		{"POST", "/public/x", 405, "GET, HEAD"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.url+tc.path, nil)
			resp, body := do(t, nil, req)
			if tc.want != 200 {
				if tc.method != "HEAD" {
					assertNeutral(t, resp, body, tc.want)
				}
				if got := resp.Header.Get("Allow"); got != tc.allow {
					t.Errorf("Allow: got %q, want %q", got, tc.allow)
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status: got %d, want 200", resp.StatusCode)
			}
			if tc.method != "HEAD" {
				if s := decodeSeen(t, body); s.Path != tc.path {
					t.Errorf("upstream path: got %q, want %q", s.Path, tc.path)
				}
			}
		})
	}
}

func TestConflictingRoutesRejected(t *testing.T) {
	t.Parallel()
	c := parse(t, "http://127.0.0.1:1", "routes:\n  - match: \"GET /a/{x}\"\n  - match: \"GET /{y}/b\"\n")
	_, err := gateway.New(c, gateway.Options{})
	if err == nil || !strings.Contains(err.Error(), "test.yaml:4: routes[1].match") {
		t.Fatalf("got %v, want a conflict error naming routes[1].match at line 4", err)
	}
}

// TestReloadUnderLoad swaps configurations while clients hammer the
// gateway: no request may fail, and both upstreams must be seen.
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	var ups []*httptest.Server
	for i := range 2 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "upstream-%d", i)
		}))
		t.Cleanup(srv.Close)
		ups = append(ups, srv)
	}
	cfgs := []*config.Config{parse(t, ups[0].URL, ""), parse(t, ups[1].URL, "")}
	h := start(t, cfgs[0])

	var failures, total atomic.Int64
	var mu sync.Mutex
	saw := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(h.url+"/x", "text/plain", strings.NewReader("payload"))
				total.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
					continue
				}
				mu.Lock()
				saw[string(b)] = true
				mu.Unlock()
			}
		}()
	}
	// At least 20 reloads, and on until 50 requests have run: a loaded
	// machine may serve only a few requests in the first 20.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 20 || total.Load() < 50 && time.Now().Before(deadline); i++ {
		time.Sleep(20 * time.Millisecond)
		if err := h.g.Reload(cfgs[(i+1)%2]); err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests failed during reloads", failures.Load(), total.Load())
	}
	if !saw["upstream-0"] || !saw["upstream-1"] {
		t.Errorf("both configurations should have served: %v", saw)
	}
	if total.Load() < 50 {
		t.Errorf("only %d requests ran; the test did not exercise reloads under load", total.Load())
	}
}

func TestBadReloadKeepsServing(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	err := h.g.ReloadFrom(func() (*config.Config, error) {
		return config.Parse("new.yaml", []byte("upstream: http://x\nlimits:\n  idle_timeout: soon\n"))
	})
	if err == nil || !strings.Contains(err.Error(), "new.yaml:3: limits.idle_timeout") {
		t.Fatalf("got %v, want the config error", err)
	}
	// A config that decodes but cannot be built (missing TLS files).
	bad := parse(t, up.URL, "tls:\n  cert: /nonexistent/cert.pem\n  key: /nonexistent/key.pem\n")
	if err := h.g.Reload(bad); err == nil || !strings.Contains(err.Error(), "tls.cert") {
		t.Fatalf("got %v, want a tls.cert error", err)
	}
	if resp, _ := get(t, h.url+"/still"); resp.StatusCode != 200 {
		t.Errorf("after failed reloads: got %d, want 200", resp.StatusCode)
	}
	_, metrics := get(t, h.admin+"/metrics")
	if !strings.Contains(metrics, `rampart_config_reloads_total{result="failure"} 2`) {
		t.Errorf("failed reloads not counted:\n%s", grep(metrics, "reloads"))
	}
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, "routes:\n  - match: \"GET /ok\"\n"))
	get(t, h.url+"/ok")
	get(t, h.url+"/nope")

	resp, body := get(t, h.admin+"/healthz")
	if resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("healthz: got %d %q", resp.StatusCode, body)
	}
	if !testutil.WaitFor(2*time.Second, func() bool { r, _ := get(t, h.admin+"/readyz"); return r.StatusCode == 200 }) {
		t.Error("readyz never became ready with a live upstream")
	}
	_, metrics := get(t, h.admin+"/metrics")
	for _, want := range []string{
		`rampart_requests_total{code="200",policy="upstream",route="GET /ok"} 1`,
		`rampart_requests_total{code="404",policy="routes",route="unmatched"} 1`,
		`rampart_request_duration_seconds_bucket{route="GET /ok",le="+Inf"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The public listener does not serve admin endpoints.
	if resp, _ := get(t, h.url+"/metrics"); resp.StatusCode != 404 {
		t.Errorf("public /metrics: got %d, want 404", resp.StatusCode)
	}
}

func TestReadyzWithUpstreamDown(t *testing.T) {
	t.Parallel()
	h := start(t, parse(t, "http://"+testutil.FreeAddr(t), ""))
	time.Sleep(200 * time.Millisecond)
	if resp, _ := get(t, h.admin+"/readyz"); resp.StatusCode != 503 {
		t.Errorf("readyz: got %d, want 503 with no upstream reachable", resp.StatusCode)
	}
}

// TestAccessLogRedaction: the access log has one line per request with the
// fields operators need, and never cookies, credentials or tokens.
func TestAccessLogRedaction(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	req, _ := http.NewRequest("POST", h.url+"/login?token=query-secret-123", strings.NewReader(`{"password":"body-secret-456"}`))
	req.Header.Set("Cookie", "session=cookie-secret-789")
	req.Header.Set("Authorization", "Bearer auth-secret-abc")
	req.Header.Set("X-Api-Key", "apikey-secret-def")
	resp, _ := do(t, nil, req)
	id := resp.Header.Get("X-Request-Id")
	var line map[string]any
	if !testutil.WaitFor(2*time.Second, func() bool {
		for _, l := range h.logs.Lines() {
			if strings.Contains(l, `"msg":"request"`) && strings.Contains(l, id) {
				_ = json.Unmarshal([]byte(l), &line)
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no access log line for %s:\n%s", id, h.logs)
	}
	for k, want := range map[string]any{"method": "POST", "path": "/login", "status": float64(200),
		"route": "/", "policy": "upstream", "client_ip": "127.0.0.1"} {
		if line[k] != want {
			t.Errorf("access log %s: got %v, want %v", k, line[k], want)
		}
	}
	for _, secret := range []string{"query-secret", "body-secret", "cookie-secret", "auth-secret", "apikey-secret"} {
		if strings.Contains(h.logs.String(), secret) {
			t.Errorf("log contains %s:\n%s", secret, h.logs)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	entered := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "finished")
	}))
	t.Cleanup(up.Close)
	g, err := gateway.New(parse(t, up.URL, ""), gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ln := testutil.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln, nil) }()

	result := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	<-entered
	cancel() // SIGTERM in the real binary
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get("http://" + ln.Addr().String() + "/new"); err == nil {
		t.Error("new connections still accepted after shutdown began")
	}
	close(release)
	if got := <-result; got != "finished" {
		t.Errorf("in-flight request: got %q, want it to finish", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestShutdownDelay: at SIGTERM /readyz answers 503 at once, the listener
// keeps serving new connections for limits.shutdown_delay (each response
// closing its connection, so keep-alive clients move elsewhere), and only
// then does the graceful shutdown close it.
func TestShutdownDelay(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	delay := 1500 * time.Millisecond
	if testutil.RaceEnabled {
		delay = 3 * time.Second
	}
	g, err := gateway.New(parse(t, up.URL, fmt.Sprintf("limits:\n  shutdown_delay: %s\n", delay)), gateway.Options{ProbeInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ln, adminLn := testutil.Listen(t), testutil.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln, adminLn) }()
	base, admin := "http://"+ln.Addr().String(), "http://"+adminLn.Addr().String()
	waitFor(t, 5*time.Second, func() bool { r, _ := get(t, admin+"/readyz"); return r.StatusCode == 200 })

	cancel() // SIGTERM in the real binary
	start := time.Now()
	waitFor(t, time.Second, g.Draining)
	resp, body := get(t, admin+"/readyz")
	if resp.StatusCode != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while draining: got %d %q, want 503 naming the shutdown", resp.StatusCode, body)
	}
	// New connections are still served during the delay.
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for time.Since(start) < delay/2 {
		req, _ := http.NewRequest("GET", base+"/during", nil)
		resp, _ := do(t, client, req)
		if resp.StatusCode != 200 {
			t.Fatalf("request during the delay: got %d, want 200", resp.StatusCode)
		}
		if !resp.Close {
			t.Fatal("response during the delay kept the connection alive; want Connection: close")
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v before the delay ended", err)
	default:
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if d := time.Since(start); d < delay {
		t.Errorf("shut down after %v, want at least the delay %v", d, delay)
	}
	if _, err := http.Get(base + "/after"); err == nil {
		t.Error("new connections accepted after the shutdown")
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestProductionGuard: a critical finding stops a production start (and a
// reload), and is only a warning in development.
func TestProductionGuard(t *testing.T) {
	t.Parallel()
	bad := parse(t, "http://127.0.0.1:1", "trusted_proxies: [0.0.0.0/0]\n")
	_, err := gateway.New(bad, gateway.Options{})
	if err == nil || !strings.Contains(err.Error(), "test.yaml:2: trusted_proxies[0]: trusted_proxies trusts every address (trusted-proxies-everything; fix:") {
		t.Fatalf("production start: got %v, want the guard to refuse", err)
	}
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	if err := h.g.Reload(parse(t, up.URL, "trusted_proxies: [\"::/0\"]\n")); err == nil {
		t.Error("reload to a critical configuration was accepted")
	}
	dev := parse(t, "http://127.0.0.1:1", "env: development\ntrusted_proxies: [0.0.0.0/0]\n")
	logs := &testutil.Buffer{}
	g, err := gateway.New(dev, gateway.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatalf("development start: %v", err)
	}
	defer g.Close()
	if !strings.Contains(logs.String(), `"rule":"trusted-proxies-everything"`) {
		t.Errorf("development start did not warn:\n%s", logs)
	}
}
