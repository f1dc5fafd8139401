package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/rampartsec/rampart/ratelimit"
)

func ExampleLimiter_Handler() {
	limiter, err := ratelimit.New(ratelimit.Config{
		Rules: []ratelimit.Rule{
			{Name: "per-ip", Key: ratelimit.Key{"ip"}, Limit: 100, Per: time.Minute, Burst: 2},
		},
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	h := limiter.Handler(app)

	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "198.51.100.7:4711"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%d RateLimit: %s Retry-After: %q\n", w.Code, w.Header().Get("RateLimit"), w.Header().Get("Retry-After"))
	}
	// Output:
	// 200 RateLimit: "per-ip";r=1;t=1 Retry-After: ""
	// 200 RateLimit: "per-ip";r=0;t=2 Retry-After: ""
	// 429 RateLimit: "per-ip";r=0;t=2 Retry-After: "1"
}

func ExampleLimiter_AllowN() {
	limiter, err := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{
		{Name: "exports", Limit: 10, Per: time.Hour, Burst: 3},
	}})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Duration{0, 0, 0, 0, 6 * time.Minute} {
		d, err := limiter.AllowN(context.Background(), t0.Add(at), "tenant-42", 1)
		if err != nil {
			panic(err)
		}
		fmt.Println(at, d.Allowed, d.Remaining, d.RetryAfter)
	}
	// Output:
	// 0s true 2 0s
	// 0s true 1 0s
	// 0s true 0 0s
	// 0s false 0 6m0s
	// 6m0s true 0 0s
}
