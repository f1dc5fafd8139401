package session

import (
	"sync"
	"sync/atomic"
	"time"
)

// recordCache is the process-local cache of session records that
// CachedStore and CachedRedisStore keep in front of their stores: records
// by key, the keys of each user (to forget them all at once), and an epoch
// that counts deletions so that a lookup racing with one is not cached.
// A full cache is emptied. Its zero value is not usable: call init.
type recordCache struct {
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

type cacheEntry struct {
	rec     Record
	expires time.Time
}

// DefaultCacheEntries bounds a cached store; a full cache is emptied.
const DefaultCacheEntries = 100_000

func (c *recordCache) init(ttl time.Duration, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	c.ttl, c.maxEntries, c.now = ttl, DefaultCacheEntries, now
	c.entries, c.byUser = map[Key]cacheEntry{}, map[string]map[Key]struct{}{}
}

// entry returns k's entry, fresh or not.
func (c *recordCache) entry(k Key) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return e, ok
}

// fresh returns k's record if its entry has not expired.
func (c *recordCache) fresh(k Key) (Record, bool) {
	e, ok := c.entry(k)
	if !ok || !c.now().Before(e.expires) {
		return Record{}, false
	}
	return e.rec, true
}

func (c *recordCache) forget(k Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		delete(c.entries, k)
		delete(c.byUser[e.rec.User], k)
	}
}

func (c *recordCache) forgetUser(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.byUser[user] {
		delete(c.entries, k)
	}
	delete(c.byUser, user)
}

func (c *recordCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	clear(c.byUser)
}

// put caches rec for at most life (and the cache's ttl) unless a deletion
// happened since epoch was read.
func (c *recordCache) put(k Key, rec Record, epoch uint64, life time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if len(c.entries) >= c.maxEntries {
		clear(c.entries)
		clear(c.byUser)
	}
	c.entries[k] = cacheEntry{rec: rec, expires: c.now().Add(min(c.ttl, life))}
	if c.byUser[rec.User] == nil {
		c.byUser[rec.User] = map[Key]struct{}{}
	}
	c.byUser[rec.User][k] = struct{}{}
}
