package session

import (
	"context"
	"errors"
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
	inner Store
	recordCache
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
	s := &CachedStore{inner: inner}
	s.init(ttl, now)
	return s, nil
}

// Create implements Store. The record is cached at its first lookup.
func (s *CachedStore) Create(ctx context.Context, key Key, rec Record, ttl time.Duration) error {
	return s.inner.Create(ctx, key, rec, ttl)
}

// Find implements Store: from the cache when fresh, else from the inner
// store.
func (s *CachedStore) Find(ctx context.Context, key Key) (Record, bool, error) {
	if rec, ok := s.fresh(key); ok {
		return rec, true, nil
	}
	epoch := s.epoch.Load()
	rec, found, err := s.inner.Find(ctx, key)
	if err != nil || !found {
		return rec, found, err
	}
	s.put(key, rec, epoch, s.ttl)
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
	s.put(key, rec, epoch, s.ttl)
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
	s.clear()
	return nil
}
