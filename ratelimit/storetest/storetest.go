package storetest

import (
	"context"

	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/ratelimit"
)

// t0 is the fixed instant the tests start from.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func quota(t *testing.T, r ratelimit.Rule) ratelimit.Quota {
	t.Helper()
	q, err := ratelimit.CompileRule(r)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// Run runs the suite against the stores open returns; open is called once
// per subtest.
func Run(t *testing.T, open func(t *testing.T) ratelimit.Store) {
	t.Run("GCRABurstThenSteady", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		q := []ratelimit.Quota{quota(t, ratelimit.Rule{Name: "g", Limit: 10, Per: time.Second, Burst: 3})}
		res := make([]ratelimit.Result, 1)
		for i := range 3 {
			take(t, s, "burst", q, t0, 1, res)
			if !res[0].Allowed || res[0].Remaining != int64(2-i) {
				t.Fatalf("request %d: got %+v, want allowed with %d remaining", i+1, res[0], 2-i)
			}
		}
		take(t, s, "burst", q, t0, 1, res)
		if res[0].Allowed || res[0].RetryAfter != 100*time.Millisecond || res[0].Remaining != 0 {
			t.Fatalf("4th request: got %+v, want refused, retry after 100ms", res[0])
		}
		if res[0].Reset != 300*time.Millisecond {
			t.Errorf("reset: got %v, want 300ms", res[0].Reset)
		}
		take(t, s, "burst", q, t0.Add(99*time.Millisecond), 1, res)
		if res[0].Allowed {
			t.Fatalf("at +99ms: got allowed, want refused")
		}
		take(t, s, "burst", q, t0.Add(100*time.Millisecond), 1, res)
		if !res[0].Allowed || res[0].Remaining != 0 {
			t.Fatalf("at +100ms: got %+v, want allowed with 0 remaining", res[0])
		}
		take(t, s, "burst", q, t0.Add(time.Hour), 1, res)
		if !res[0].Allowed || res[0].Remaining != 2 {
			t.Fatalf("an hour later: got %+v, want allowed with 2 remaining", res[0])
		}
	})

	t.Run("TakeN", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		q := []ratelimit.Quota{quota(t, ratelimit.Rule{Name: "n", Limit: 5, Per: time.Second})}
		res := make([]ratelimit.Result, 1)
		take(t, s, "n", q, t0, 4, res)
		if !res[0].Allowed || res[0].Remaining != 1 {
			t.Fatalf("take 4: got %+v, want allowed, 1 remaining", res[0])
		}
		take(t, s, "n", q, t0, 2, res)
		if res[0].Allowed || res[0].Remaining != 1 || res[0].RetryAfter != 200*time.Millisecond {
			t.Fatalf("take 2 more: got %+v, want refused, 1 remaining, retry after 200ms", res[0])
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		q := []ratelimit.Quota{quota(t, ratelimit.Rule{Name: "k", Limit: 1, Per: time.Minute})}
		res := make([]ratelimit.Result, 1)
		take(t, s, "a", q, t0, 1, res)
		take(t, s, "a", q, t0, 1, res)
		if res[0].Allowed {
			t.Fatal("second request on a: got allowed, want refused")
		}
		take(t, s, "b", q, t0, 1, res)
		if !res[0].Allowed {
			t.Fatal("first request on b: got refused, want allowed")
		}
	})

	t.Run("SlidingWindow", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		q := []ratelimit.Quota{quota(t, ratelimit.Rule{Name: "w", Limit: 4, Per: 10 * time.Second, Algorithm: ratelimit.SlidingWindow})}
		res := make([]ratelimit.Result, 1)
		start := t0.Truncate(10 * time.Second)
		for i := range 4 {
			take(t, s, "sw", q, start.Add(5*time.Second), 1, res)
			if !res[0].Allowed || res[0].Remaining != int64(3-i) {
				t.Fatalf("request %d: got %+v, want allowed with %d remaining", i+1, res[0], 3-i)
			}
		}
		take(t, s, "sw", q, start.Add(6*time.Second), 1, res)
		if res[0].Allowed || res[0].RetryAfter != 6500*time.Millisecond {
			t.Fatalf("5th request: got %+v, want refused, retry after 6.5s (next window, once 1 of its 4 has faded)", res[0])
		}
		// Half-way through the next window, half the previous one counts:
		// 4 × 0.5 = 2 used, 2 left; no burst at the boundary.
		next := start.Add(15 * time.Second)
		for i := range 2 {
			take(t, s, "sw", q, next, 1, res)
			if !res[0].Allowed {
				t.Fatalf("next window, request %d: got refused, want allowed", i+1)
			}
		}
		take(t, s, "sw", q, next, 1, res)
		if res[0].Allowed || res[0].RetryAfter != 2500*time.Millisecond {
			t.Fatalf("next window, request 3: got %+v, want refused, retry after 2.5s", res[0])
		}
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		qs := []ratelimit.Quota{
			quota(t, ratelimit.Rule{Name: "fast", Limit: 10, Per: time.Second, Burst: 5}),
			quota(t, ratelimit.Rule{Name: "slow", Limit: 3, Per: time.Hour}),
		}
		res := make([]ratelimit.Result, 2)
		for range 3 {
			take(t, s, "both", qs, t0, 1, res)
		}
		take(t, s, "both", qs, t0, 1, res)
		if res[0].Allowed || res[1].Allowed {
			t.Fatalf("4th request: got %+v, want refused by slow", res)
		}
		if res[0].RetryAfter != 0 || res[0].Remaining != 2 {
			t.Errorf("fast, not the cause: got %+v, want 2 remaining and no retry", res[0])
		}
		if res[1].RetryAfter != 20*time.Minute {
			t.Errorf("slow: got retry after %v, want 20m", res[1].RetryAfter)
		}
		// The refused requests took nothing from fast: two still fit.
		only := qs[:1]
		for i := range 2 {
			take(t, s, "both", only, t0, 1, res)
			if !res[0].Allowed {
				t.Fatalf("fast alone, request %d: got refused, want allowed", i+1)
			}
		}
	})

	t.Run("ConcurrentExact", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const burst, workers, each = 100, 16, 40
		q := []ratelimit.Quota{quota(t, ratelimit.Rule{Name: "c", Limit: 1, Per: time.Hour, Burst: burst})}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				res := make([]ratelimit.Result, 1)
				for range each {
					if err := s.Take(context.Background(), "hammer", q, t0, 1, res); err != nil {
						errs <- err
						return
					}
					if res[0].Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := allowed.Load(); got != burst {
			t.Errorf("got %d allowed, want exactly %d", got, burst)
		}
	})

	t.Run("MatchesReference", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		rules := []ratelimit.Rule{
			{Name: "ga", Limit: 7, Per: 3 * time.Second, Burst: 4},
			{Name: "gb", Limit: 3, Per: 700 * time.Millisecond},
			{Name: "wa", Limit: 5, Per: 2 * time.Second, Algorithm: ratelimit.SlidingWindow},
			{Name: "wb", Limit: 9, Per: 1300 * time.Millisecond, Algorithm: ratelimit.SlidingWindow},
		}
		for _, r := range rules {
			q := []ratelimit.Quota{quota(t, r)}
			rng := rand.New(rand.NewPCG(1, uint64(len(r.Name))))
			model := &reference{}
			now := t0
			res := make([]ratelimit.Result, 1)
			for step := range 400 {
				now = now.Add(time.Duration(rng.IntN(400_000)) * time.Microsecond)
				n := int64(1 + rng.IntN(2))
				take(t, s, "ref-"+r.Name, q, now, n, res)
				want := model.take(&q[0], now.UnixMicro(), n)
				if res[0] != want {
					t.Fatalf("%s step %d at +%v take %d: got %+v, want %+v", r.Name, step, now.Sub(t0), n, res[0], want)
				}
			}
		}
	})
}

func take(t *testing.T, s ratelimit.Store, key string, qs []ratelimit.Quota, now time.Time, n int64, res []ratelimit.Result) {
	t.Helper()
	if err := s.Take(context.Background(), key, qs, now, n, res); err != nil {
		t.Fatalf("take: %v", err)
	}
}

// reference applies ratelimit.Decide to one quota of one key.
type reference struct {
	st  ratelimit.State
	exp int64
}

func (m *reference) take(q *ratelimit.Quota, now, n int64) ratelimit.Result {
	next, exp, write, res := ratelimit.Decide(q, m.st, m.exp > now, now, n)
	if write {
		m.st, m.exp = next, exp
	}
	return res
}
