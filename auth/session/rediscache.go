package session

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// CachedRedisStore is a RedisStore with a short-lived, process-local cache
// of the sessions it found, so that a busy session does not cost a Redis
// round trip on every request.
//
// Deletions — logout, log out everywhere, a locked user — are announced on a
// Redis pub/sub channel by every RedisStore (this process, other replicas,
// the rampart users command), and each CachedRedisStore forgets the
// sessions named at once. The cache only serves entries while its
// subscription is confirmed; when the subscription is lost, it empties and
// falls back to Redis on every request until it is back, since
// announcements made meanwhile are lost. An entry lives at most TTL: that
// bounds how long a deletion can go unseen if an announcement is lost in
// flight. A lookup that raced with any announcement is not cached.
//
// The Manager still checks both deadlines on every request against the
// cached record, so a cached session never outlives its idle or absolute
// timeout. It is safe for concurrent use; Close stops its subscription.
type CachedRedisStore struct {
	*RedisStore
	// recordCache's epoch counts announcements here.
	recordCache
	ready atomic.Bool
	// downSince is when the subscription was lost (Unix nanoseconds), 0
	// while it holds: entries that expired before it are too old for
	// degraded mode.
	downSince atomic.Int64

	pubsub *redis.PubSub
	cancel context.CancelFunc
	done   chan struct{}
}

// NewCachedRedisStore returns a RedisStore on rdb whose lookups are cached
// for ttl (at most a minute). It subscribes to deletion announcements in a
// goroutine that Close stops.
func NewCachedRedisStore(rdb redis.UniversalClient, c RedisConfig, ttl time.Duration) (*CachedRedisStore, error) {
	base, err := NewRedisStore(rdb, c)
	if err != nil {
		return nil, err
	}
	if ttl <= 0 || ttl > time.Minute {
		return nil, errors.New("session: cache lifetime must be between 1ns and 1m")
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &CachedRedisStore{
		RedisStore: base,
		pubsub:     rdb.Subscribe(ctx, base.evictChannel()), cancel: cancel, done: make(chan struct{}),
	}
	s.init(ttl, time.Now)
	go s.listen(ctx)
	return s, nil
}

// listen applies announcements until Close.
func (s *CachedRedisStore) listen(ctx context.Context) {
	defer close(s.done)
	for {
		msg, err := s.pubsub.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// (Re)subscribed: anything announced while we were away is
			// lost, so start from an empty cache.
			s.clear()
			s.ready.Store(m.Kind == "subscribe")
			if m.Kind == "subscribe" {
				s.downSince.Store(0)
			}
		case *redis.Message:
			s.apply(m.Payload)
		default:
			if err != nil {
				// The entries stop being served (ready is false) but are
				// kept, for FindStale: they hold every announcement made
				// until now. They are dropped at resubscription.
				s.ready.Store(false)
				s.downSince.CompareAndSwap(0, s.now().UnixNano())
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}
}

// apply forgets what an announcement names: "k:<key>" or "u:<user>".
func (s *CachedRedisStore) apply(payload string) {
	s.epoch.Add(1)
	switch {
	case len(payload) > 2 && payload[:2] == "k:":
		if k, ok := ParseKey(payload[2:]); ok {
			s.forget(k)
		} else {
			s.clear()
		}
	case len(payload) > 2 && payload[:2] == "u:":
		s.forgetUser(payload[2:])
	default:
		s.clear()
	}
}

func (s *CachedRedisStore) put(k Key, rec Record, epoch uint64, left time.Duration) {
	if !s.ready.Load() {
		return
	}
	// Never longer than Redis itself keeps the session.
	s.recordCache.put(k, rec, epoch, left)
}

// Find implements Store: from the cache when fresh, else from Redis.
func (s *CachedRedisStore) Find(ctx context.Context, key Key) (Record, bool, error) {
	if s.ready.Load() {
		if rec, ok := s.fresh(key); ok {
			return rec, true, nil
		}
	}
	epoch := s.epoch.Load()
	sk := s.sessionKey(key)
	var get *redis.SliceCmd
	var pttl *redis.DurationCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.HMGet(ctx, sk, "rec", "seen")
		pttl = p.PTTL(ctx, sk)
		return nil
	})
	if err != nil {
		return Record{}, false, err
	}
	rec, found := decodeRecord(get.Val())
	if found && pttl.Val() > 0 {
		s.put(key, rec, epoch, pttl.Val())
	}
	return rec, found, nil
}

// FindStale implements StaleFinder: the cached record of key if it was
// still fresh when the subscription to deletion announcements was lost
// (or is fresh now, when it was not), so every deletion announced up to
// then has been applied to it.
func (s *CachedRedisStore) FindStale(key Key) (Record, bool) {
	cutoff := s.now()
	if d := s.downSince.Load(); d != 0 {
		cutoff = time.Unix(0, d)
	}
	e, ok := s.entry(key)
	if !ok || e.expires.Before(cutoff) {
		return Record{}, false
	}
	return e.rec, true
}

// Touch implements Store, keeping the cached record's activity current.
func (s *CachedRedisStore) Touch(ctx context.Context, key Key, rec Record, ttl time.Duration) (bool, error) {
	epoch := s.epoch.Load()
	found, err := s.RedisStore.Touch(ctx, key, rec, ttl)
	if err != nil {
		// Kept: a failed call says nothing about the session, and
		// degraded mode may need the entry.
		return found, err
	}
	if !found {
		s.forget(key)
		return found, err
	}
	s.put(key, rec, epoch, ttl)
	return true, nil
}

// Delete implements Store.
func (s *CachedRedisStore) Delete(ctx context.Context, key Key) error {
	s.epoch.Add(1)
	s.forget(key)
	return s.RedisStore.Delete(ctx, key)
}

// DeleteUser implements Store.
func (s *CachedRedisStore) DeleteUser(ctx context.Context, user string) (int, error) {
	s.epoch.Add(1)
	s.forgetUser(user)
	return s.RedisStore.DeleteUser(ctx, user)
}

// Ready reports whether the cache is in use: its subscription to deletion
// announcements is confirmed.
func (s *CachedRedisStore) Ready() bool { return s.ready.Load() }

var _ StaleFinder = (*CachedRedisStore)(nil)

// Close stops the subscription. The Redis client stays open; its owner
// closes it.
func (s *CachedRedisStore) Close() error {
	s.cancel()
	err := s.pubsub.Close()
	<-s.done
	s.ready.Store(false)
	return err
}
