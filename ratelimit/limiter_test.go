package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/ratelimit"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLimiter(t testing.TB, c ratelimit.Config) *ratelimit.Limiter {
	t.Helper()
	if c.Now == nil {
		c.Now = (&clock{t: t0}).Now
	}
	l, err := ratelimit.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func request(peer string, headers ...string) *http.Request {
	r := httptest.NewRequest("GET", "/api/items", nil)
	r.RemoteAddr = peer
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerHeadersAnd429(t *testing.T) {
	t.Parallel()
	clk := &clock{t: t0}
	l := newLimiter(t, ratelimit.Config{Now: clk.Now, Rules: []ratelimit.Rule{
		{Name: "per-ip", Limit: 100, Per: time.Minute, Burst: 2},
		{Name: "hourly", Limit: 1000, Per: time.Hour, Algorithm: ratelimit.SlidingWindow},
	}})
	h := l.Handler(ok)
	for i := range 2 {
		w := serve(h, request("203.0.113.5:1000"))
		if w.Code != http.StatusNoContent {
			t.Fatalf("request %d: got %d, want 204", i+1, w.Code)
		}
		if got, want := w.Header().Get("RateLimit-Policy"), `"per-ip";q=100;w=60, "hourly";q=1000;w=3600`; got != want {
			t.Errorf("RateLimit-Policy: got %q, want %q", got, want)
		}
		// The hourly window started at 03:00; it is empty again at 05:00.
		want := fmt.Sprintf(`"per-ip";r=%d;t=%d, "hourly";r=%d;t=6955`, 1-i, 1+i, 999-i)
		if got := w.Header().Get("RateLimit"); got != want {
			t.Errorf("RateLimit: got %q, want %q", got, want)
		}
	}
	r := request("203.0.113.5:1000")
	r.Header.Set("Accept", "application/json")
	w := serve(h, r)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("3rd request: got %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After: got %q, want 1 (0.6s rounded up)", got)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type: got %q, want application/problem+json", ct)
	}
	if !strings.Contains(w.Body.String(), `"status":429`) || strings.Contains(w.Body.String(), "per-ip") {
		t.Errorf("body: got %s, want a neutral 429 problem", w.Body)
	}
	if got := w.Header().Get("RateLimit"); !strings.HasPrefix(got, `"per-ip";r=0;`) {
		t.Errorf("RateLimit on 429: got %q", got)
	}
	clk.Add(600 * time.Millisecond)
	if w := serve(h, request("203.0.113.5:1000")); w.Code != http.StatusNoContent {
		t.Errorf("after Retry-After: got %d, want 204", w.Code)
	}
}

func TestSpoofedForwardedForGetsNoFreshBudget(t *testing.T) {
	t.Parallel()
	proxies, err := clientip.New(clientip.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	l := newLimiter(t, ratelimit.Config{Resolver: proxies, Rules: []ratelimit.Rule{{Limit: 3, Per: time.Minute}}})
	h := l.Handler(ok)
	allowed := 0
	for i := range 20 {
		// An attacker connecting directly claims a new address each time.
		r := request("203.0.113.66:4000", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		if serve(h, r).Code == http.StatusNoContent {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("untrusted peer with rotating X-Forwarded-For: got %d allowed, want 3", allowed)
	}
	// Through the trusted proxy, the forwarded address is the client.
	for i, want := range []int{204, 204, 204, 429} {
		r := request("10.0.0.2:5000", "X-Forwarded-For", "6.6.6.6, 198.51.100.1")
		if got := serve(h, r).Code; got != want {
			t.Errorf("via trusted proxy, request %d: got %d, want %d", i+1, got, want)
		}
	}
	// The client prepending fake entries through the proxy changes nothing.
	r := request("10.0.0.2:5000", "X-Forwarded-For", "7.7.7.7, 198.51.100.1")
	if got := serve(h, r).Code; got != 429 {
		t.Errorf("prepended fake entry through the proxy: got %d, want 429", got)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	user := func(r *http.Request) string { return r.Header.Get("Test-User") }
	tests := []struct {
		name  string
		rule  ratelimit.Rule
		a, b  *http.Request
		share bool // whether a and b count against one budget
	}{
		{"IPv6 same /64", ratelimit.Rule{}, request("[2001:db8:1:2::1]:1"), request("[2001:db8:1:2:ffff::9]:1"), true},
		{"IPv6 other /64", ratelimit.Rule{}, request("[2001:db8:1:2::1]:1"), request("[2001:db8:1:3::1]:1"), false},
		{"IPv6 /128 configured", ratelimit.Rule{IPv6Prefix: 128}, request("[2001:db8::1]:1"), request("[2001:db8::2]:1"), false},
		{"IPv6 /48 configured", ratelimit.Rule{IPv6Prefix: 48}, request("[2001:db8:1:2::1]:1"), request("[2001:db8:1:3::1]:1"), true},
		{"IPv4 distinct", ratelimit.Rule{}, request("192.0.2.1:1"), request("192.0.2.2:1"), false},
		{"IPv4 /24 configured", ratelimit.Rule{IPv4Prefix: 24}, request("192.0.2.1:1"), request("192.0.2.200:1"), true},
		{"IPv4-mapped is IPv4", ratelimit.Rule{}, request("[::ffff:192.0.2.1]:1"), request("192.0.2.1:2"), true},
		{"port ignored", ratelimit.Rule{}, request("192.0.2.1:1"), request("192.0.2.1:2"), true},
		{"unknown peers share", ratelimit.Rule{}, request("pipe"), request("@"), true},
		{"user across IPs", ratelimit.Rule{Key: ratelimit.Key{"user"}},
			request("192.0.2.1:1", "Test-User", "alice"), request("192.0.2.2:1", "Test-User", "alice"), true},
		{"users apart", ratelimit.Rule{Key: ratelimit.Key{"user"}},
			request("192.0.2.1:1", "Test-User", "alice"), request("192.0.2.1:1", "Test-User", "bob"), false},
		{"anonymous counts by IP", ratelimit.Rule{Key: ratelimit.Key{"user"}},
			request("192.0.2.1:1"), request("192.0.2.1:2"), true},
		{"user cannot pose as an IP", ratelimit.Rule{Key: ratelimit.Key{"user"}},
			request("192.0.2.1:1", "Test-User", "i192.0.2.1/32"), request("192.0.2.1:1"), false},
		{"api key across IPs", ratelimit.Rule{Key: ratelimit.Key{"header:X-Api-Key"}},
			request("192.0.2.1:1", "X-Api-Key", "k1"), request("192.0.2.2:1", "x-api-key", "k1"), true},
		{"api keys apart", ratelimit.Rule{Key: ratelimit.Key{"header:X-Api-Key"}},
			request("192.0.2.1:1", "X-Api-Key", "k1"), request("192.0.2.1:1", "X-Api-Key", "k2"), false},
		{"repeated api key counts by IP", ratelimit.Rule{Key: ratelimit.Key{"header:X-Api-Key"}},
			request("192.0.2.1:1", "X-Api-Key", "k1", "X-Api-Key", "junk"), request("192.0.2.1:1"), true},
		{"ip+user combination", ratelimit.Rule{Key: ratelimit.Key{"ip", "user"}},
			request("192.0.2.1:1", "Test-User", "alice"), request("192.0.2.2:1", "Test-User", "alice"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.rule.Limit, tc.rule.Per = 1, time.Minute
			l := newLimiter(t, ratelimit.Config{User: user, Rules: []ratelimit.Rule{tc.rule}})
			if err := l.Check(tc.a); err != nil {
				t.Fatalf("first request: %v", err)
			}
			err := l.Check(tc.b)
			if got := errors.Is(err, ratelimit.ErrRateLimited); got != tc.share {
				t.Errorf("second request refused: got %v, want %v", got, tc.share)
			}
		})
	}
}

func TestRouteKey(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, ratelimit.Config{Rules: []ratelimit.Rule{{Key: ratelimit.Key{"route"}, Limit: 1, Per: time.Minute}}})
	mux := http.NewServeMux()
	mux.Handle("GET /a/{id}", l.Handler(ok))
	mux.Handle("GET /b/{id}", l.Handler(ok))
	for _, tc := range []struct {
		path string
		want int
	}{{"/a/1", 204}, {"/a/2", 429}, {"/b/1", 204}} {
		r := httptest.NewRequest("GET", tc.path, nil)
		r.RemoteAddr = "192.0.2.1:1"
		if got := serve(mux, r).Code; got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.path, got, tc.want)
		}
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	counts := map[string]int{}
	var logs strings.Builder
	l := newLimiter(t, ratelimit.Config{
		Rules: []ratelimit.Rule{
			{Name: "trial", Limit: 1, Per: time.Minute, DryRun: true},
			{Name: "real", Limit: 100, Per: time.Minute},
		},
		Logger: slogTo(&logs, &mu),
		OnDecision: func(e ratelimit.Event) {
			mu.Lock()
			counts[e.Rule+"/"+e.Outcome.String()]++
			mu.Unlock()
		},
	})
	h := l.Handler(ok)
	for i := range 3 {
		w := serve(h, request("192.0.2.1:1"))
		if w.Code != 204 {
			t.Fatalf("request %d: got %d, want 204 (dry run never refuses)", i+1, w.Code)
		}
		if strings.Contains(w.Header().Get("RateLimit-Policy")+w.Header().Get("RateLimit"), "trial") {
			t.Errorf("dry-run rule advertised to the client: %v", w.Header())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"trial/allowed": 1, "trial/dry_run_denied": 2, "real/allowed": 3}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("decisions: got %v, want %v", counts, want)
	}
	if n := strings.Count(logs.String(), "dry run would refuse"); n != 2 {
		t.Errorf("got %d dry-run log lines, want 2:\n%s", n, logs.String())
	}
}

func TestAllowN(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, ratelimit.Config{Rules: []ratelimit.Rule{{Name: "jobs", Limit: 10, Per: time.Second, Burst: 5}}})
	ctx := context.Background()
	d, err := l.AllowN(ctx, t0, "tenant-1", 5)
	if err != nil || !d.Allowed || d.Remaining != 0 || d.Rule != "jobs" || d.Reset != 500*time.Millisecond {
		t.Fatalf("take 5: got %+v, %v; want allowed, 0 remaining, whole again in 500ms", d, err)
	}
	d, err = l.AllowN(ctx, t0, "tenant-1", 1)
	if err != nil || d.Allowed || d.RetryAfter != 100*time.Millisecond {
		t.Fatalf("take 1 more: got %+v, %v; want refused, retry after 100ms", d, err)
	}
	if d, _ := l.AllowN(ctx, t0, "tenant-2", 1); !d.Allowed {
		t.Errorf("other key: got refused, want allowed")
	}
	if _, err := l.AllowN(ctx, t0, "tenant-3", 6); !errors.Is(err, ratelimit.ErrExceedsBurst) {
		t.Errorf("n over burst: got %v, want ErrExceedsBurst", err)
	}
	if _, err := l.AllowN(ctx, t0, "tenant-3", 0); err == nil {
		t.Errorf("n = 0: got nil error")
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules []ratelimit.Rule
		want  string
	}{
		{"no rules", nil, "no rules"},
		{"zero limit", []ratelimit.Rule{{Per: time.Second}}, "rule 1: limit must be positive"},
		{"zero per", []ratelimit.Rule{{Limit: 1}}, "per must be a positive duration"},
		{"tiny per", []ratelimit.Rule{{Limit: 1, Per: time.Microsecond}}, "at least 1ms"},
		{"negative burst", []ratelimit.Rule{{Limit: 1, Per: time.Second, Burst: -1}}, "burst must not be negative"},
		{"too fast", []ratelimit.Rule{{Limit: 10_000, Per: time.Millisecond}}, "more than one per microsecond"},
		{"bad algorithm", []ratelimit.Rule{{Name: "x", Limit: 1, Per: time.Second, Algorithm: "leaky"}}, `rule "x": unknown algorithm "leaky"`},
		{"burst on window", []ratelimit.Rule{{Limit: 5, Per: time.Second, Burst: 9, Algorithm: ratelimit.SlidingWindow}}, "burst applies only to the gcra"},
		{"bad key", []ratelimit.Rule{{Limit: 1, Per: time.Second, Key: ratelimit.Key{"cookie"}}}, `unknown key "cookie"`},
		{"bad header", []ratelimit.Rule{{Limit: 1, Per: time.Second, Key: ratelimit.Key{"header:"}}}, "invalid header name"},
		{"duplicate key part", []ratelimit.Rule{{Limit: 1, Per: time.Second, Key: ratelimit.Key{"ip", "IP"}}}, "listed twice"},
		{"bad name", []ratelimit.Rule{{Name: `a"b`, Limit: 1, Per: time.Second}}, "name must be"},
		{"duplicate name", []ratelimit.Rule{{Name: "a", Limit: 1, Per: time.Second}, {Name: "a", Limit: 2, Per: time.Second}}, `name "a" is already used by rule 1`},
		{"bad ipv6 prefix", []ratelimit.Rule{{Limit: 1, Per: time.Second, IPv6Prefix: 129}}, "ipv6_prefix"},
		{"bad ipv4 prefix", []ratelimit.Rule{{Limit: 1, Per: time.Second, IPv4Prefix: 33}}, "ipv4_prefix"},
		{"bad failure policy", []ratelimit.Rule{{Limit: 1, Per: time.Second, OnStoreError: "ignore"}}, "on_store_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ratelimit.New(ratelimit.Config{Rules: tc.rules})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ratelimit: ") {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestKeyDecodeYAML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      ratelimit.Key
		err       bool
	}{
		{"string", "key: ip", ratelimit.Key{"ip"}, false},
		{"list", "key: [ip, user]", ratelimit.Key{"ip", "user"}, false},
		{"header", "key: header:X-Api-Key", ratelimit.Key{"header:X-Api-Key"}, false},
		{"null", "key: null", nil, false},
		{"number", "key: 5", nil, true},
		{"list of maps", "key: [{a: b}]", nil, true},
		{"map", "key: {a: b}", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
				t.Fatal(err)
			}
			var k ratelimit.Key
			err := k.DecodeYAMLNode(doc.Content[0].Content[1])
			if (err != nil) != tc.err {
				t.Fatalf("got error %v, want error %v", err, tc.err)
			}
			if !tc.err && fmt.Sprint(k) != fmt.Sprint(tc.want) {
				t.Errorf("got %q, want %q", k, tc.want)
			}
		})
	}
}

func TestMemoryConcurrentExactThroughLimiter(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, ratelimit.Config{Rules: []ratelimit.Rule{{Limit: 50, Per: time.Hour}}})
	h := l.Handler(ok)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if serve(h, request("192.0.2.9:1")).Code == 204 {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Errorf("got %d allowed, want exactly 50", allowed)
	}
}

// TestReloadUnderLoadKeepsCounts swaps the Limiter while requests flow, as
// a configuration reload does: with the store passed on, counts survive the
// swap and the total allowed stays exact.
func TestReloadUnderLoadKeepsCounts(t *testing.T) {
	t.Parallel()
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	build := func(burst int) http.Handler {
		return newLimiter(t, ratelimit.Config{Store: store, Rules: []ratelimit.Rule{
			{Name: "per-ip", Limit: 1, Per: time.Hour, Burst: burst},
		}}).Handler(ok)
	}
	var current atomic.Pointer[http.Handler]
	h := build(100)
	current.Store(&h)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				if serve(*current.Load(), request("192.0.2.50:1")).Code == 204 {
					allowed.Add(1)
				}
			}
		})
	}
	for range 20 {
		h := build(100) // same rules, new Limiter: a reload
		current.Store(&h)
	}
	wg.Wait()
	if got := allowed.Load(); got != 100 {
		t.Errorf("got %d allowed across reloads, want exactly 100", got)
	}
}
