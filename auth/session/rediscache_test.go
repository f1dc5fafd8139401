package session_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
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

// TestDegradedModeServesRecentSessionsDuringAnOutage: with on_store_error
// cache, a session seen just before Redis went away keeps working from the
// process cache while it is down; a session logged out (and announced)
// before the outage does not come back; a session never seen by this
// process fails closed; after Redis returns (empty, as after a crash) the
// cache is dropped and the store decides again.
func TestDegradedModeServesRecentSessionsDuringAnOutage(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	st := newCached(t, rd.Addr, "deg:", time.Minute)
	var events []session.Event
	var mu sync.Mutex
	m := newManager(t, st, session.Config{OnStoreError: session.OnStoreErrorCache, OnEvent: func(e session.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	other := newManager(t, newCached(t, rd.Addr, "deg:", time.Minute), session.Config{})
	_, seen := login(t, m, "quinn", nil)
	_, revoked := login(t, m, "rosa", nil)
	_, unseen := login(t, other, "sam", nil)
	if authenticate(t, m, seen) == nil || authenticate(t, m, revoked) == nil {
		t.Fatal("no session")
	}
	r := httptest.NewRequest("POST", "/.rampart/logout", nil)
	r.AddCookie(revoked)
	if err := other.Logout(httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	if !testutil.WaitFor(2*time.Second, func() bool { return authenticate(t, m, revoked) == nil }) {
		t.Fatal("logout not seen before the outage")
	}

	rd.Stop()
	if !testutil.WaitFor(5*time.Second, func() bool { return !st.Ready() }) {
		t.Fatal("cache still subscribed with Redis down")
	}
	for range 3 {
		if id := authenticate(t, m, seen); id == nil || id.Subject != "quinn" {
			t.Fatalf("recently seen session during the outage: got %v, want quinn (degraded mode)", id)
		}
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(revoked)
	if id, _ := m.Authenticate(req); id != nil {
		t.Errorf("session logged out before the outage came back: %v", id)
	}
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(unseen)
	if id, err := m.Authenticate(req); id != nil || err == nil {
		t.Errorf("session this process never saw: got %v, %v; want a store error (fail closed)", id, err)
	}
	mu.Lock()
	if !slices.Contains(events, session.EventDegraded) {
		t.Errorf("events %v: want %q", events, session.EventDegraded)
	}
	mu.Unlock()

	// Redis comes back empty: the session is gone, and the cache agrees.
	rd.Restart()
	if !testutil.WaitFor(10*time.Second, func() bool { return st.Ready() }) {
		t.Fatal("cache never resubscribed")
	}
	// (The client's pool retries its dials on its own schedule.)
	var id *auth.Identity
	var err error
	answered := testutil.WaitFor(10*time.Second, func() bool {
		req = httptest.NewRequest("GET", "/", nil)
		req.AddCookie(seen)
		id, err = m.Authenticate(req)
		return err == nil
	})
	if !answered || id != nil {
		t.Errorf("after Redis came back empty: got %v, %v; want no session", id, err)
	}
}

// TestDegradedModeIsBoundedByTheCacheLifetime: only sessions confirmed by
// Redis within the cache lifetime before the outage are served; older
// ones fail closed.
func TestDegradedModeIsBoundedByTheCacheLifetime(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	st := newCached(t, rd.Addr, "old:", 200*time.Millisecond)
	m := newManager(t, st, session.Config{OnStoreError: session.OnStoreErrorCache})
	_, c := login(t, m, "tess", nil)
	if authenticate(t, m, c) == nil {
		t.Fatal("no session")
	}
	time.Sleep(400 * time.Millisecond) // older than the cache lifetime
	rd.Stop()
	if !testutil.WaitFor(5*time.Second, func() bool { return !st.Ready() }) {
		t.Fatal("cache still subscribed with Redis down")
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(c)
	if id, err := m.Authenticate(req); id != nil || err == nil {
		t.Errorf("session last confirmed before the cache lifetime: got %v, %v; want a store error", id, err)
	}
}

func TestOnStoreErrorNeedsACache(t *testing.T) {
	t.Parallel()
	plain, err := session.NewRedisStore(redisClient(t, "127.0.0.1:1"), session.RedisConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = session.New(plain, session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour, OnStoreError: "cache"})
	if err == nil || !strings.Contains(err.Error(), "session_cache") {
		t.Errorf("cache mode on a store without a cache: got %v, want an error naming store.session_cache", err)
	}
	_, err = session.New(plain, session.Config{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour, OnStoreError: "open"})
	if err == nil || !strings.Contains(err.Error(), "fail_closed or cache") {
		t.Errorf("unknown value: got %v, want an error listing the values", err)
	}
}
