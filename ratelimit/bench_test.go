package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/ratelimit"
)

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("|i198.51.%d.%d/32", i/256, i%256)
	}
	return keys
}

// BenchmarkMemoryStoreTake measures one decision under parallel load, on
// many keys (the usual case) and on one hot key (worst-case contention).
func BenchmarkMemoryStoreTake(b *testing.B) {
	q, err := ratelimit.CompileRule(ratelimit.Rule{Name: "bench", Limit: 1_000_000, Per: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	qs := []ratelimit.Quota{q}
	for _, n := range []int{4096, 1} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
			keys := benchKeys(n)
			var seq atomic.Uint64
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				res := make([]ratelimit.Result, 1)
				i := int(seq.Add(7919))
				now := time.Now()
				for pb.Next() {
					i++
					_ = s.Take(ctx, keys[i%len(keys)], qs, now, 1, res)
				}
			})
		})
	}
}

// BenchmarkHandler measures the whole allowed path: key from the request,
// decision, RateLimit headers.
func BenchmarkHandler(b *testing.B) {
	l, err := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
		{Name: "per-ip", Limit: 1_000_000_000, Per: time.Hour},
	}})
	if err != nil {
		b.Fatal(err)
	}
	h := l.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "198.51.100.7:4444"
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkAllowN measures a decision through the Limiter for a caller's
// own key.
func BenchmarkAllowN(b *testing.B) {
	l, err := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
		{Name: "fast", Limit: 1_000_000_000, Per: time.Hour},
		{Name: "slow", Limit: 1_000_000, Per: 24 * time.Hour, Algorithm: ratelimit.SlidingWindow},
	}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = l.AllowN(ctx, now, "tenant", 1)
		}
	})
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
