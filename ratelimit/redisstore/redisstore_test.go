package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/ratelimit/redisstore"
	"github.com/rampartsec/rampart/ratelimit/storetest"
)

func newStore(t testing.TB, c redisstore.Config) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	storetest.Run(t, func(t *testing.T) ratelimit.Store {
		// A prefix per subtest keeps parallel subtests apart on one server.
		return newStore(t, redisstore.Config{URL: srv.URL(), Prefix: t.Name() + ":", Timeout: 2 * time.Second})
	})
}

func TestConformanceAutoPipeline(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	storetest.Run(t, func(t *testing.T) ratelimit.Store {
		return newStore(t, redisstore.Config{URL: srv.URL(), Prefix: t.Name() + ":", Timeout: 2 * time.Second, AutoPipeline: true})
	})
}

func TestKeysAreHashTagged(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	s := newStore(t, redisstore.Config{URL: srv.URL(), Timeout: 2 * time.Second})
	q1, _ := ratelimit.CompileRule(ratelimit.Rule{Name: "daily", Limit: 10, Per: 24 * time.Hour})
	q2, _ := ratelimit.CompileRule(ratelimit.Rule{Name: "hour", Limit: 1000, Per: time.Hour, Algorithm: ratelimit.SlidingWindow})
	res := make([]ratelimit.Result, 2)
	if err := s.Take(context.Background(), "ns|i203.0.113.7/32", []ratelimit.Quota{q1, q2}, time.Now(), 1, res); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("got keys %q, want 2", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, redisstore.DefaultPrefix) || !strings.HasSuffix(k, ":{ns|i203.0.113.7/32}") {
			t.Errorf("key %q: want prefix %q and the identity as hash tag", k, redisstore.DefaultPrefix)
		}
		ttl, err := c.PTTL(context.Background(), k).Result()
		if err != nil || ttl <= 0 || ttl > 48*time.Hour {
			t.Errorf("key %q: got TTL %v (%v), want a bounded expiry", k, ttl, err)
		}
	}
}

func TestServerClock(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	s := newStore(t, redisstore.Config{URL: srv.URL(), ServerClock: true, Timeout: 2 * time.Second})
	q, _ := ratelimit.CompileRule(ratelimit.Rule{Name: "s", Limit: 2, Per: time.Minute})
	res := make([]ratelimit.Result, 1)
	// The caller's clock is ignored: a time far in the past still counts
	// against the same, current budget.
	for i, at := range []time.Time{time.Unix(0, 0), time.Unix(1, 0), time.Now()} {
		if err := s.Take(context.Background(), "k", []ratelimit.Quota{q}, at, 1, res); err != nil {
			t.Fatal(err)
		}
		if want := i < 2; res[0].Allowed != want {
			t.Fatalf("request %d: got allowed %v, want %v", i+1, res[0].Allowed, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    redisstore.Config
		want string
	}{
		{"nothing", redisstore.Config{}, "exactly one of URL and Client"},
		{"both", redisstore.Config{URL: "redis://x", Client: redis.NewClient(&redis.Options{})}, "exactly one"},
		{"bad URL hides password", redisstore.Config{URL: "http://user:s3cret@host"}, "invalid redis URL"},
		{"negative timeout", redisstore.Config{URL: "redis://127.0.0.1:1", Timeout: -1}, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := redisstore.New(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	t.Parallel()
	addr := testutil.FreeAddr(t)
	s := newStore(t, redisstore.Config{URL: "redis://" + addr, Timeout: 50 * time.Millisecond})
	q, _ := ratelimit.CompileRule(ratelimit.Rule{Name: "u", Limit: 1, Per: time.Second})
	start := time.Now()
	err := s.Take(context.Background(), "k", []ratelimit.Quota{q}, time.Now(), 1, make([]ratelimit.Result, 1))
	if err == nil {
		t.Fatal("got nil error from a store with no server")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v, want the call bounded by its timeout", d)
	}
}
