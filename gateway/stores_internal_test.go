package gateway

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/testutil"
)

// pooledKeys lists what the gateway's store pool holds, readably.
func pooledKeys(g *Gateway) []string {
	g.stores.mu.Lock()
	defer g.stores.mu.Unlock()
	var keys []string
	for k := range g.stores.pool {
		keys = append(keys, strings.ReplaceAll(k, "\x00", " "))
	}
	slices.Sort(keys)
	return keys
}

func pooledClient(g *Gateway, timeout string) redis.UniversalClient {
	g.stores.mu.Lock()
	defer g.stores.mu.Unlock()
	for k, p := range g.stores.pool {
		if strings.HasPrefix(k, "redis\x00") && strings.HasSuffix(k, "\x00"+timeout) {
			return p.val.(redis.UniversalClient)
		}
	}
	return nil
}

// TestReloadAppliesStoreSettings: stores are shared by their full
// settings, so a reload that changes store.redis_timeout,
// store.redis_auto_pipeline or store.session_cache gets stores built with
// the new values; the ones no configuration uses any more are closed once
// the replaced configuration has drained; an identical reload shares
// everything.
func TestReloadAppliesStoreSettings(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	dir := t.TempDir()
	conf := func(timeout, cache string, pipeline bool) *config.Config {
		src := fmt.Sprintf(`upstream: http://127.0.0.1:1
env: development
store: {sqlite: %q, redis: %q, redis_timeout: %s, session_cache: %s, redis_auto_pipeline: %t}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
rate_limits: [{limit: 100, per: 1m}]
`, filepath.Join(dir, "rampart.db"), rd.URL(), timeout, cache, pipeline)
		c, err := config.Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	g, err := New(conf("200ms", "5s", false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	before := pooledKeys(g)
	old := pooledClient(g, "200ms")
	if old == nil {
		t.Fatalf("no Redis client with the configured timeout in %q", before)
	}

	// The same file again: everything shared, nothing opened or closed.
	if err := g.Reload(conf("200ms", "5s", false)); err != nil {
		t.Fatal(err)
	}
	waitRetired(t, g)
	if got := pooledKeys(g); !slices.Equal(got, before) || pooledClient(g, "200ms") != old {
		t.Fatalf("identical reload changed the pool:\nbefore %q\nafter  %q", before, got)
	}

	// Changed settings: new stores with the new values, the old ones closed.
	if err := g.Reload(conf("900ms", "2s", true)); err != nil {
		t.Fatal(err)
	}
	waitRetired(t, g)
	got := pooledKeys(g)
	cl := pooledClient(g, "900ms")
	if cl == nil || pooledClient(g, "200ms") != nil {
		t.Fatalf("after changing redis_timeout the pool holds %q", got)
	}
	if o := cl.(*redis.Client).Options(); o.ReadTimeout != 900*time.Millisecond {
		t.Errorf("new client's read timeout %v, want 900ms", o.ReadTimeout)
	}
	wantParts := []string{" 2s", " true"}
	for _, w := range wantParts {
		if !slices.ContainsFunc(got, func(k string) bool { return strings.HasSuffix(k, w) }) {
			t.Errorf("no store built with %q in %q", strings.TrimSpace(w), got)
		}
	}
	if err := old.Ping(context.Background()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("the replaced Redis client is still open (ping: %v)", err)
	}
	if err := cl.Ping(context.Background()).Err(); err != nil {
		t.Errorf("the new client: %v", err)
	}

	// Redis removed: nothing of it stays open.
	c := conf("900ms", "2s", true)
	c.Store.Redis = ""
	if err := g.Reload(c); err != nil {
		t.Fatal(err)
	}
	waitRetired(t, g)
	for _, k := range pooledKeys(g) {
		if strings.Contains(k, rd.Addr) {
			t.Errorf("still pooled after Redis was removed: %q", k)
		}
	}
	if err := cl.Ping(context.Background()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("the Redis client is still open after Redis was removed (ping: %v)", err)
	}
}

// waitRetired waits until only the current generation holds stores: every
// replaced one has drained and released its lease.
func waitRetired(t *testing.T, g *Gateway) {
	t.Helper()
	cur := g.current.Load().lease
	ok := testutil.WaitFor(5*time.Second, func() bool {
		g.stores.mu.Lock()
		defer g.stores.mu.Unlock()
		held := map[string]int{}
		for _, k := range cur.keys {
			held[k]++
		}
		for k, p := range g.stores.pool {
			if p.refs != held[k] {
				return false
			}
		}
		return len(held) == len(g.stores.pool)
	})
	if !ok {
		t.Fatalf("replaced configurations still hold stores: %q", pooledKeys(g))
	}
}
