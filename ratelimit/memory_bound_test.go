package ratelimit_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rampartsec/rampart/ratelimit"
)

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryStoreBytesPerKey stores a million distinct client keys and
// reports what each costs; docs/ratelimit.md quotes the figure.
func TestMemoryStoreBytesPerKey(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	q, _ := ratelimit.CompileRule(ratelimit.Rule{Name: "per-ip", Limit: 100, Per: time.Minute})
	qs := []ratelimit.Quota{q}
	res := make([]ratelimit.Result, 1)
	before := heap()
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: n})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range n {
		// The shape of a real key: namespace, kind, masked address.
		key := "|i10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + "/32"
		_ = s.Take(ctx, key, qs, t0, 1, res)
	}
	after := heap()
	perKey := float64(after-before) / float64(n)
	t.Logf("%d keys: %.0f bytes per key (%d evictions)", n, perKey, s.Evictions())
	if perKey > 400 {
		t.Errorf("got %.0f bytes per key, want at most 400", perKey)
	}
	runtime.KeepAlive(s)
}

// TestMemoryStoreFloodIsBounded sends far more unique keys than the store
// holds: memory stays bounded, and the client already being limited keeps
// its counter, so a flood cannot buy it a fresh budget.
func TestMemoryStoreFloodIsBounded(t *testing.T) {
	t.Parallel()
	const capacity = 10_000
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: capacity, Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := ratelimit.CompileRule(ratelimit.Rule{Name: "r", Limit: 5, Per: time.Hour})
	qs := []ratelimit.Quota{q}
	res := make([]ratelimit.Result, 1)
	ctx := context.Background()
	for range 5 {
		_ = s.Take(ctx, "attacker", qs, t0, 1, res)
	}
	for i := range 20 * capacity {
		_ = s.Take(ctx, "flood-"+strconv.Itoa(i), qs, t0, 1, res)
	}
	if n := s.Len(); n > capacity {
		t.Errorf("got %d keys held, want at most %d", n, capacity)
	}
	if s.Evictions() == 0 {
		t.Error("got no evictions reported")
	}
	_ = s.Take(ctx, "attacker", qs, t0, 1, res)
	if res[0].Allowed {
		t.Error("the limited client got a fresh budget after the flood")
	}
}

// TestMemoryStoreExpiredKeysAreRemoved checks that counters which no longer
// matter are deleted as new keys arrive, without a background goroutine.
func TestMemoryStoreExpiredKeysAreRemoved(t *testing.T) {
	t.Parallel()
	s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 100_000, Shards: 4})
	q, _ := ratelimit.CompileRule(ratelimit.Rule{Name: "r", Limit: 10, Per: time.Second})
	qs := []ratelimit.Quota{q}
	res := make([]ratelimit.Result, 1)
	ctx := context.Background()
	for i := range 5000 {
		_ = s.Take(ctx, "old-"+strconv.Itoa(i), qs, t0, 1, res)
	}
	later := t0.Add(time.Minute)
	for i := range 5000 {
		_ = s.Take(ctx, "new-"+strconv.Itoa(i), qs, later, 1, res)
	}
	if n := s.Len(); n > 7500 {
		t.Errorf("got %d keys held, want most of the 5000 expired ones removed", n)
	}
}
