package redisstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/ratelimit/redisstore"
)

// BenchmarkTake measures decisions per second from one process with many
// concurrent callers, each decision one script call (one round trip), on a
// real redis-server over loopback.
func BenchmarkTake(b *testing.B) {
	srv := testutil.StartRedis(b)
	q, err := ratelimit.CompileRule(ratelimit.Rule{Name: "bench", Limit: 1_000_000, Per: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	qs := []ratelimit.Quota{q}
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("|i198.51.%d.%d/32", i/256, i%256)
	}
	for _, tc := range []struct {
		auto bool
		par  int
	}{{false, 8}, {false, 32}, {true, 8}, {true, 32}} {
		name := fmt.Sprintf("callers=%d", tc.par*runtime.GOMAXPROCS(0))
		if tc.auto {
			name = "autopipeline/" + name
		}
		s := newStore(b, redisstore.Config{URL: srv.URL(), Timeout: 2 * time.Second, AutoPipeline: tc.auto})
		par := tc.par
		b.Run(name, func(b *testing.B) {
			var seq atomic.Uint64
			var errs atomic.Int64
			ctx := context.Background()
			b.SetParallelism(par)
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				res := make([]ratelimit.Result, 1)
				i := int(seq.Add(7919))
				for pb.Next() {
					i++
					if err := s.Take(ctx, keys[i%len(keys)], qs, time.Now(), 1, res); err != nil {
						errs.Add(1)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "decisions/s")
			if n := errs.Load(); n > 0 {
				b.Fatalf("%d store errors", n)
			}
		})
	}
}
