package session_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/internal/testutil"
)

func newCached(t *testing.T, addr, prefix string, ttl time.Duration) *session.CachedRedisStore {
	t.Helper()
	s, err := session.NewCachedRedisStore(redisClient(t, addr), session.RedisConfig{Prefix: prefix}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// Wait for the subscription, so the cache is in use.
	if !testutil.WaitFor(5*time.Second, func() bool { return s.Ready() }) {
		t.Fatal("cache never subscribed")
	}
	return s
}

func TestCachedRedisStore(t *testing.T) {
	t.Parallel()
	addr := startRedis(t).Options().Addr
	storeConformance(t, func(t *testing.T) session.Store {
		return newCached(t, addr, "c:"+t.Name()+":", time.Minute)
	})
	managerTests(t, func(t *testing.T) session.Store {
		return newCached(t, addr, "cm:"+t.Name()+":", time.Minute)
	})
}

// TestCachedReplicasForgetAtOnce: with a long cache lifetime, a logout (and
// a log out everywhere) on one replica ends the session on another at once:
// the deletion is announced and every cache forgets it.
func TestCachedReplicasForgetAtOnce(t *testing.T) {
	t.Parallel()
	addr := startRedis(t).Options().Addr
	a := newManager(t, newCached(t, addr, "r:", time.Minute), session.Config{})
	b := newManager(t, newCached(t, addr, "r:", time.Minute), session.Config{})
	_, c := login(t, a, "olga", nil)
	if authenticate(t, b, c) == nil || authenticate(t, a, c) == nil {
		t.Fatal("session not shared")
	}
	r := httptest.NewRequest("POST", "/.rampart/logout", nil)
	r.AddCookie(c)
	if err := b.Logout(httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	if !testutil.WaitFor(2*time.Second, func() bool { return authenticate(t, a, c) == nil }) {
		t.Error("replica a still serves a session logged out on b from its cache")
	}
	_, c2 := login(t, b, "olga", nil)
	if authenticate(t, a, c2) == nil {
		t.Fatal("second session not shared")
	}
	if _, err := a.LogoutEverywhere(context.Background(), "olga"); err != nil {
		t.Fatal(err)
	}
	if !testutil.WaitFor(2*time.Second, func() bool { return authenticate(t, b, c2) == nil }) {
		t.Error("replica b still serves a session after log out everywhere on a")
	}
}

// TestCachedStoreStopsServingWithoutSubscription: when Redis goes away the
// cache stops answering (announcements could be missed), so requests fail
// closed like any store failure.
func TestCachedStoreStopsServingWithoutSubscription(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	st := newCached(t, rd.Addr, "d:", time.Minute)
	m := newManager(t, st, session.Config{})
	_, c := login(t, m, "pia", nil)
	if authenticate(t, m, c) == nil {
		t.Fatal("no session")
	}
	rd.Stop()
	if !testutil.WaitFor(5*time.Second, func() bool { return !st.Ready() }) {
		t.Fatal("cache still ready with Redis down")
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	if id, err := m.Authenticate(r); id != nil || err == nil {
		t.Errorf("with Redis down: got %v, %v; want a store error, not a cached session", id, err)
	}
}
