package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/testutil"
)

// startRedis starts a real redis-server for t and returns a client for it.
func startRedis(t testing.TB) *redis.Client {
	t.Helper()
	return testutil.StartRedis(t).Client(t)
}
