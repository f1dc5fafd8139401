package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/token/redisstore"
	"github.com/rampartsec/rampart/auth/token/storetest"
)

// TestConformance runs the suite against a real redis-server, each subtest
// under its own key prefix.
func TestConformance(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	storetest.Run(t, func(t *testing.T) token.Store {
		s, err := redisstore.New(rdb, "test:"+strings.ReplaceAll(t.Name(), "/", ":")+":")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewRejectsNilClient(t *testing.T) {
	t.Parallel()
	if _, err := redisstore.New(nil, ""); err == nil {
		t.Error("got nil error for a nil client")
	}
}

// TestKeysExpireWithTheFamily checks that Redis needs no cleanup: every key
// a family creates carries an expiry.
func TestKeysExpireWithTheFamily(t *testing.T) {
	t.Parallel()
	rdb := startRedis(t)
	s, err := redisstore.New(rdb, "ttl:")
	if err != nil {
		t.Fatal(err)
	}
	m, err := token.New(token.Config{AccessTTL: time.Minute, RefreshTTL: time.Hour, InsecureEphemeralKey: true,
		Store: s, RevocationList: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := m.Issue(ctx, &auth.Identity{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Refresh(ctx, p.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeSubject(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "ttl:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 4 {
		t.Fatalf("got keys %v, want a family, two tokens, the subject index and its cut-off", keys)
	}
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 {
			t.Errorf("key %s: TTL %v, %v; want an expiry", k, ttl, err)
		}
	}
}
