package issuer

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/rampartsec/rampart/auth"
)

// verifiedCacheSize bounds each verified-token cache.
const verifiedCacheSize = 10000

// verifiedCache remembers tokens that passed every check, so that a client
// sending the same token on every request pays for one signature check. The
// expiry is checked again on every hit. Each fetched key set has its own
// cache, so a JWKS fetch — which may withdraw a key — starts afresh; a
// static key has one cache for the verifier's life.
//
// Entries are keyed by the SHA-256 of the whole token, and only tokens that
// verified are stored. When full, an arbitrary entry is evicted. It is safe
// for concurrent use.
type verifiedCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	id  *auth.Identity
	exp time.Time
}

func newVerifiedCache() *verifiedCache {
	return &verifiedCache{m: make(map[[sha256.Size]byte]cachedToken)}
}

func (c *verifiedCache) get(key [sha256.Size]byte) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return e, ok
}

func (c *verifiedCache) put(key [sha256.Size]byte, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= verifiedCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = e
}

// cacheKey hashes raw without a heap allocation for tokens of common size.
func cacheKey(raw string) [sha256.Size]byte {
	var buf [2048]byte
	if len(raw) <= len(buf) {
		return sha256.Sum256(append(buf[:0], raw...))
	}
	return sha256.Sum256([]byte(raw))
}
