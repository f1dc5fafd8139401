package token

import (
	"crypto/sha256"
	"sync"
)

// verifiedCacheSize bounds the verified-token cache: about 250 bytes per
// entry, so a few megabytes at most.
const verifiedCacheSize = 10000

// verifiedCache remembers access tokens that passed every check that does
// not depend on the clock or the store — syntax, algorithm, key, signature,
// type, issuer, audience, required claims, lifetime — so that a client
// sending the same token on every request pays for one signature check, not
// one per request. The expiry and, with RevocationList, the store are still
// checked on every hit.
//
// Entries are keyed by the SHA-256 of the whole token: a token that differs
// in one byte is a different entry and is verified in full. Only tokens that
// verified are ever stored, so an attacker cannot fill the cache with junk.
// When full, an arbitrary entry is evicted (Go's map iteration order is
// randomised). It is safe for concurrent use.
type verifiedCache struct {
	mu  sync.Mutex
	max int
	m   map[[sha256.Size]byte]*accessClaims
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, m: make(map[[sha256.Size]byte]*accessClaims)}
}

func (c *verifiedCache) get(key [sha256.Size]byte) *accessClaims {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *verifiedCache) put(key [sha256.Size]byte, claims *accessClaims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = claims
}

func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
