package session_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/session"
)

func TestCachedSQLiteStore(t *testing.T) {
	t.Parallel()
	storeConformance(t, func(t *testing.T) session.Store {
		s, err := session.NewCachedStore(newSQLiteStore(t), time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// countingStore counts the lookups that reach its store and can hold one
// lookup between reading the record and returning it.
type countingStore struct {
	session.Store
	finds atomic.Int64
	hold  chan chan struct{} // when set, Find sends a channel and waits on it
}

func (c *countingStore) Find(ctx context.Context, k session.Key) (session.Record, bool, error) {
	c.finds.Add(1)
	rec, found, err := c.Store.Find(ctx, k)
	if c.hold != nil {
		release := make(chan struct{})
		c.hold <- release
		<-release
	}
	return rec, found, err
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func cachedFixture(t *testing.T) (*session.CachedStore, *countingStore, *fakeClock, session.Key, session.Record) {
	t.Helper()
	inner := &countingStore{Store: newSQLiteStore(t)}
	clock := &fakeClock{t: time.Now()}
	s, err := session.NewCachedStore(inner, 5*time.Second, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	k := randomKey()
	t0 := time.UnixMilli(time.Now().UnixMilli())
	rec := session.Record{User: "alice", Roles: []string{"admin"}, Created: t0, LastSeen: t0}
	if err := s.Create(context.Background(), k, rec, time.Hour); err != nil {
		t.Fatal(err)
	}
	return s, inner, clock, k, rec
}

func TestCachedStoreServesRepeatedLookupsFromMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, inner, clock, k, _ := cachedFixture(t)
	for range 100 {
		if _, found, err := s.Find(ctx, k); !found || err != nil {
			t.Fatalf("Find: found %v, err %v", found, err)
		}
	}
	if got := inner.finds.Load(); got != 1 {
		t.Fatalf("lookups reaching the store: got %d, want 1", got)
	}
	clock.add(5 * time.Second)
	if _, found, _ := s.Find(ctx, k); !found {
		t.Fatal("not found after the cache lifetime")
	}
	if got := inner.finds.Load(); got != 2 {
		t.Fatalf("lookups after the cache lifetime: got %d, want 2", got)
	}
	// An unknown key is never cached: each lookup asks the store.
	unknown := randomKey()
	s.Find(ctx, unknown)
	s.Find(ctx, unknown)
	if got := inner.finds.Load(); got != 4 {
		t.Fatalf("lookups of an unknown key: got %d, want 4", got)
	}
}

// The attack: a stolen session keeps working after logout, or after an
// administrator locks the user, because this process remembers it.
func TestCachedStoreRevocationIsImmediateOnThisProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("delete", func(t *testing.T) {
		t.Parallel()
		s, _, _, k, _ := cachedFixture(t)
		s.Find(ctx, k) // cached
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.Find(ctx, k); found {
			t.Fatal("a deleted session was served from the cache")
		}
	})
	t.Run("delete user", func(t *testing.T) {
		t.Parallel()
		s, _, _, k, rec := cachedFixture(t)
		k2 := randomKey()
		if err := s.Create(ctx, k2, rec, time.Hour); err != nil {
			t.Fatal(err)
		}
		s.Find(ctx, k)
		s.Find(ctx, k2)
		if n, err := s.DeleteUser(ctx, "alice"); err != nil || n != 2 {
			t.Fatalf("DeleteUser: got %d, %v, want 2", n, err)
		}
		for _, key := range []session.Key{k, k2} {
			if _, found, _ := s.Find(ctx, key); found {
				t.Fatal("a session of a deleted user was served from the cache")
			}
		}
	})
	t.Run("touch of a deleted session", func(t *testing.T) {
		t.Parallel()
		s, inner, _, k, rec := cachedFixture(t)
		s.Find(ctx, k)
		// Deleted behind the cache's back, then touched through it: the
		// store says the session is gone, and the cache forgets it.
		if err := inner.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if found, _ := s.Touch(ctx, k, rec, time.Hour); found {
			t.Fatal("Touch found a deleted session")
		}
		if _, found, _ := s.Find(ctx, k); found {
			t.Fatal("served from the cache after Touch found it deleted")
		}
	})
	t.Run("lookup in flight across a delete", func(t *testing.T) {
		t.Parallel()
		s, inner, _, k, _ := cachedFixture(t)
		inner.hold = make(chan chan struct{})
		done := make(chan bool)
		go func() {
			_, found, _ := s.Find(ctx, k)
			done <- found
		}()
		release := <-inner.hold // the lookup has read the live record
		inner.hold = nil
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		close(release)
		<-done // it may report what it read before the deletion …
		if _, found, _ := s.Find(ctx, k); found {
			t.Fatal("a lookup that raced with Delete left the session cached")
		}
	})
}

// A deletion by another process sharing the database is not announced:
// it is seen once the cached entry expires, as documented.
func TestCachedStoreSeesOtherProcessesWithinItsLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, inner, clock, k, _ := cachedFixture(t)
	s.Find(ctx, k)
	if err := inner.Store.Delete(ctx, k); err != nil { // another process
		t.Fatal(err)
	}
	if _, found, _ := s.Find(ctx, k); !found {
		t.Fatal("the cache was not used")
	}
	clock.add(5 * time.Second)
	if _, found, _ := s.Find(ctx, k); found {
		t.Fatal("a session deleted elsewhere outlived the cache lifetime")
	}
}

func TestNewCachedStoreBounds(t *testing.T) {
	t.Parallel()
	inner := newSQLiteStore(t)
	for _, ttl := range []time.Duration{0, -time.Second, time.Minute + 1} {
		if _, err := session.NewCachedStore(inner, ttl, nil); err == nil {
			t.Errorf("ttl %v: accepted", ttl)
		}
	}
	if _, err := session.NewCachedStore(nil, time.Second, nil); err == nil {
		t.Error("nil store accepted")
	}
}
