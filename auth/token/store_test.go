package token_test

import (
	"testing"

	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/token/storetest"
)

// TestMemoryStoreConformance runs the store conformance suite against
// MemoryStore; packages sqlstore and redisstore run it against SQLite,
// PostgreSQL and Redis.
func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) token.Store { return token.NewMemoryStore() })
}
