package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// CachedStore is a Store with a short-lived, process-local cache of the
// records its inner store found, so that a busy session does not cost a
// database query on every request. It is the embedded store's counterpart
// of CachedRedisStore.
//
// Revocation on this process is immediate: Delete and DeleteUser (logout,
// log out everywhere, a locked or deleted user, an administrator's
// revocation through this gateway) forget the cached records before and
// after they reach the inner store, and a lookup that raced with any of
// them is not cached. A deletion made by another process sharing the
// database — the rampart users command, another gateway on the same
// PostgreSQL — is not announced: this process may keep accepting the
// session for up to TTL after it. Set the TTL to 0 (no cache) where that
// matters, or use Redis, whose stores announce every deletion.
//
// The Manager still checks both deadlines on every request against the
// cached record, so a cached session never outlives its idle or absolute
// timeout. It is safe for concurrent use.
type CachedStore struct {
	inner      Store
	ttl        time.Duration
	maxEntries int
	now        func() time.Time

	mu      sync.Mutex
	entries map[Key]cacheEntry
	byUser  map[string]map[Key]struct{}
	// epoch counts deletions: a lookup that saw it change while in flight
	// may have read a record deleted meanwhile, and is not cached.
	epoch atomic.Uint64
}

var _ Store = (*CachedStore)(nil)

// NewCachedStore returns inner with its lookups cached for ttl (at most a
// minute). now is the cache's clock; nil means time.Now.
func NewCachedStore(inner Store, ttl time.Duration, now func() time.Time) (*CachedStore, error) {
	if inner == nil {
		return nil, errors.New("session: nil store")
	}
	if ttl <= 0 || ttl > time.Minute {
		return nil, errors.New("session: cache lifetime must be between 1ns and 1m")
	}
	if now == nil {
		now = time.Now
	}
	return &CachedStore{inner: inner, ttl: ttl, maxEntries: DefaultCacheEntries, now: now,
		entries: map[Key]cacheEntry{}, byUser: map[string]map[Key]struct{}{}}, nil
}

func (s *CachedStore) forget(k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[k]; ok {
		delete(s.entries, k)
		delete(s.byUser[e.rec.User], k)
	}
}

func (s *CachedStore) forgetUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.byUser[user] {
		delete(s.entries, k)
	}
	delete(s.byUser, user)
}

// put caches rec unless a deletion happened since epoch was read.
func (s *CachedStore) put(k Key, rec Record, epoch uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch.Load() != epoch {
		return
	}
	if len(s.entries) >= s.maxEntries {
		clear(s.entries)
		clear(s.byUser)
	}
	s.entries[k] = cacheEntry{rec: rec, expires: s.now().Add(s.ttl)}
	if s.byUser[rec.User] == nil {
		s.byUser[rec.User] = map[Key]struct{}{}
	}
	s.byUser[rec.User][k] = struct{}{}
}

// Create implements Store. The record is cached at its first lookup.
func (s *CachedStore) Create(ctx context.Context, key Key, rec Record, ttl time.Duration) error {
	return s.inner.Create(ctx, key, rec, ttl)
}

// Find implements Store: from the cache when fresh, else from the inner
// store.
func (s *CachedStore) Find(ctx context.Context, key Key) (Record, bool, error) {
	s.mu.Lock()
	e, ok := s.entries[key]
	s.mu.Unlock()
	if ok && s.now().Before(e.expires) {
		return e.rec, true, nil
	}
	epoch := s.epoch.Load()
	rec, found, err := s.inner.Find(ctx, key)
	if err != nil || !found {
		return rec, found, err
	}
	s.put(key, rec, epoch)
	return rec, true, nil
}

// Touch implements Store, keeping the cached record's activity current.
func (s *CachedStore) Touch(ctx context.Context, key Key, rec Record, ttl time.Duration) (bool, error) {
	epoch := s.epoch.Load()
	found, err := s.inner.Touch(ctx, key, rec, ttl)
	if err != nil {
		// A failed call says nothing about the session: fall back to the
		// inner store at the next lookup.
		s.forget(key)
		return found, err
	}
	if !found {
		s.forget(key)
		return false, nil
	}
	s.put(key, rec, epoch)
	return true, nil
}

// Delete implements Store. The record is forgotten before the inner store
// is asked, so no request on this process is served from the cache once
// the deletion has begun, and again after, so a lookup that read the
// record meanwhile cannot leave it cached.
func (s *CachedStore) Delete(ctx context.Context, key Key) error {
	s.epoch.Add(1)
	s.forget(key)
	err := s.inner.Delete(ctx, key)
	s.epoch.Add(1)
	s.forget(key)
	return err
}

// DeleteUser implements Store, like Delete for every session of user.
func (s *CachedStore) DeleteUser(ctx context.Context, user string) (int, error) {
	s.epoch.Add(1)
	s.forgetUser(user)
	n, err := s.inner.DeleteUser(ctx, user)
	s.epoch.Add(1)
	s.forgetUser(user)
	return n, err
}

// List implements Store, always from the inner store.
func (s *CachedStore) List(ctx context.Context, user string) ([]Entry, error) {
	return s.inner.List(ctx, user)
}

// Close empties the cache. The inner store stays open: its owner closes it.
func (s *CachedStore) Close() error {
	s.epoch.Add(1)
	s.mu.Lock()
	clear(s.entries)
	clear(s.byUser)
	s.mu.Unlock()
	return nil
}
