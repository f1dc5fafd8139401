package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/ratelimit"
)

// FuzzHandler feeds arbitrary peers, forwarding headers, API keys and user
// names through a limiter keyed on all of them: it never panics, the same
// request always maps to the same budget, and the RateLimit field stays
// well-formed.
func FuzzHandler(f *testing.F) {
	f.Add("203.0.113.5:1234", "198.51.100.7", "key-1", "alice")
	f.Add("10.0.0.2:80", "6.6.6.6, 198.51.100.7", "", "")
	f.Add("[2001:db8::1]:443", "unknown", "a\x00b", "i192.0.2.1/32")
	f.Add("pipe", "", "k", "|u5:alice")
	res, err := clientip.New(clientip.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, peer, xff, apiKey, user string) {
		l, err := ratelimit.New(ratelimit.Config{
			Resolver: res,
			User:     func(*http.Request) string { return user },
			Now:      func() time.Time { return t0 },
			Rules:    []ratelimit.Rule{{Name: "combo", Key: ratelimit.Key{"ip", "header:X-Api-Key", "user"}, Limit: 1, Per: time.Minute}},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := l.Handler(ok)
		for i, want := range []int{http.StatusNoContent, http.StatusTooManyRequests} {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = peer
			r.Header["X-Forwarded-For"] = []string{xff}
			r.Header["X-Api-Key"] = []string{apiKey}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != want {
				t.Fatalf("request %d: got %d, want %d", i+1, w.Code, want)
			}
			if !wellFormed(w.Header().Get("RateLimit")) {
				t.Fatalf("malformed RateLimit field %q", w.Header().Get("RateLimit"))
			}
		}
	})
}

// wellFormed checks one RateLimit member: "name";r=N;t=N.
func wellFormed(v string) bool {
	name, params, ok := strings.Cut(v, ";")
	if !ok || len(name) < 3 || name[0] != '"' || name[len(name)-1] != '"' {
		return false
	}
	for _, p := range strings.Split(params, ";") {
		k, n, ok := strings.Cut(p, "=")
		if !ok || (k != "r" && k != "t") {
			return false
		}
		if _, err := strconv.ParseUint(n, 10, 63); err != nil {
			return false
		}
	}
	return true
}

// FuzzNew checks that no rule, however odd, makes New panic, and that its
// errors follow the package's form.
func FuzzNew(f *testing.F) {
	f.Add("per-ip", "ip", 100, int64(time.Minute), 20, "gcra", 64, "fail_open")
	f.Add("", "header:X-Api-Key", 1, int64(time.Millisecond), 0, "sliding_window", 0, "")
	f.Add("x", "cookie", -1, int64(-1), -5, "leaky", 999, "maybe")
	f.Fuzz(func(t *testing.T, name, key string, limit int, per int64, burst int, alg string, v6 int, policy string) {
		_, err := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{{
			Name: name, Key: ratelimit.Key{key}, Limit: limit, Per: time.Duration(per), Burst: burst,
			Algorithm: ratelimit.Algorithm(alg), IPv6Prefix: v6, OnStoreError: ratelimit.FailurePolicy(policy),
		}}})
		if err != nil && !strings.HasPrefix(err.Error(), "ratelimit: ") {
			t.Fatalf("error without package prefix: %v", err)
		}
	})
}
