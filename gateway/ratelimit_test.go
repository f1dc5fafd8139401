package gateway_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

func TestRateLimitThroughGateway(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `rate_limits:
  - name: per-ip
    key: ip
    limit: 5
    per: 1m
routes:
  - match: "GET /a"
  - match: "POST /login"
    rate_limits: [{name: login, key: ip, limit: 2, per: 1m}]
`))
	send := func(method, path string, spoof string) *http.Response {
		req, _ := http.NewRequest(method, h.url+path, nil)
		if spoof != "" {
			req.Header.Set("X-Forwarded-For", spoof)
		}
		resp, _ := do(t, nil, req)
		return resp
	}
	// The route limit bites first on /login, with the standard headers.
	for i := range 3 {
		resp := send("POST", "/login", "")
		want := 200
		if i == 2 {
			want = 429
		}
		if resp.StatusCode != want {
			t.Fatalf("login attempt %d: got %d, want %d", i+1, resp.StatusCode, want)
		}
		if resp.Header.Get("RateLimit-Policy") == "" || resp.Header.Get("RateLimit") == "" {
			t.Errorf("login attempt %d: RateLimit headers missing: %v", i+1, resp.Header)
		}
		if want == 429 && (resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Security-Policy") == "") {
			t.Errorf("429 without Retry-After or security headers: %v", resp.Header)
		}
	}
	// The global budget (5) counts /login's 3 requests too; a spoofed
	// X-Forwarded-For from an untrusted peer does not get a fresh one, and
	// undeclared paths count as well.
	if resp := send("GET", "/a", "203.0.113.1"); resp.StatusCode != 200 {
		t.Fatalf("4th request: got %d", resp.StatusCode)
	}
	if resp := send("GET", "/nope", "203.0.113.2"); resp.StatusCode != 404 {
		t.Fatalf("5th request: got %d", resp.StatusCode)
	}
	if resp := send("GET", "/a", "203.0.113.3"); resp.StatusCode != 429 {
		t.Fatalf("6th request with a spoofed address: got %d, want 429", resp.StatusCode)
	}
	// A reload keeps the counters: no fresh budget for anyone.
	if err := h.g.Reload(h.g.Config()); err != nil {
		t.Fatal(err)
	}
	if resp := send("GET", "/a", ""); resp.StatusCode != 429 {
		t.Errorf("after reload: got %d, want 429", resp.StatusCode)
	}
	_, metrics := get(t, h.admin+"/metrics")
	if !strings.Contains(metrics, `rampart_ratelimit_decisions_total{fallback="false",outcome="denied",rule="per-ip"}`) {
		t.Errorf("denials not counted:\n%s", grep(metrics, "ratelimit"))
	}
}

// TestTwoGatewaysShareOneRedisLimit runs two real rampart processes against
// one real redis-server: together they allow exactly the global limit.
func TestTwoGatewaysShareOneRedisLimit(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	up := echoUpstream(t)
	bin := testutil.BuildRampart(t)
	dir := t.TempDir()
	var urls []string
	for i := range 2 {
		listen := testutil.FreeAddr(t)
		cfg := filepath.Join(dir, fmt.Sprintf("r%d.yaml", i))
		body := fmt.Sprintf("listen: %q\nadmin: {listen: \"off\"}\nupstream: %q\nstore: {redis: %q, redis_timeout: 5s}\nlog: {access: false}\nrate_limits:\n  - {name: shared, key: route, limit: 30, per: 1h}\nroutes: [{match: \"GET /x\"}]\n",
			listen, up.URL, rd.URL())
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--config", cfg)
		logs := &testutil.Buffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		urls = append(urls, "http://"+listen+"/x")
		if !testutil.WaitFor(10*time.Second, func() bool {
			resp, err := http.Get("http://" + listen + "/healthz-not-routed")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		}) {
			t.Fatalf("gateway %d did not start:\n%s", i, logs)
		}
	}
	var allowed, limited atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				resp, err := http.Get(urls[w%2])
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					allowed.Add(1)
				case 429:
					limited.Add(1)
				default:
					t.Errorf("unexpected status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 30 || limited.Load() != 50 {
		t.Errorf("two gateways allowed %d and limited %d of 80, want exactly 30 allowed", allowed.Load(), limited.Load())
	}
}
