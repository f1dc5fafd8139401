package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/bruteforce/redisstore"
	"github.com/rampartsec/rampart/bruteforce/storetest"
	"github.com/rampartsec/rampart/internal/testutil"
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
	storetest.Run(t, func(t *testing.T) bruteforce.Store {
		return newStore(t, redisstore.Config{URL: srv.URL(), Prefix: t.Name() + ":", Timeout: 2 * time.Second})
	})
}

func TestRedisDownFailsClosedAndRecovers(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	logs := &testutil.Buffer{}
	p, err := bruteforce.New(bruteforce.Config{
		Store:           newStore(t, redisstore.Config{URL: srv.URL(), Timeout: time.Second}),
		Logger:          slog.New(slog.NewTextHandler(logs, nil)),
		RetryStoreAfter: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ip := netip.MustParseAddr("198.51.100.1")
	if err := p.Check(ctx, "alice", ip); err != nil {
		t.Fatalf("Redis up: got %v, want allowed", err)
	}
	srv.Stop()
	if err := p.Check(ctx, "bob", ip); !errors.Is(err, bruteforce.ErrUnavailable) {
		t.Errorf("Redis down: got %v, want ErrUnavailable (fail closed)", err)
	}
	srv.Restart()
	if !testutil.WaitFor(5*time.Second, func() bool { return p.Check(ctx, "carol", ip) == nil }) {
		t.Fatalf("no recovery after restart:\n%s", logs)
	}
	for _, want := range []string{"store unavailable", "store recovered"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestKeysHoldNoAccountNames(t *testing.T) {
	t.Parallel()
	srv := testutil.StartRedis(t)
	p, err := bruteforce.New(bruteforce.Config{Store: newStore(t, redisstore.Config{URL: srv.URL(), Timeout: 2 * time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(context.Background(), "alice@example.com", netip.MustParseAddr("198.51.100.1")); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Errorf("got keys %q, want 3 counters", keys)
	}
	for _, k := range keys {
		if strings.Contains(k, "alice") {
			t.Errorf("key %q holds the account name", k)
		}
	}
}
