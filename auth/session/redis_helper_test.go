package session_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/testutil"
)

// startRedis starts a real redis-server for t and returns a client for it.
func startRedis(t testing.TB) *redis.Client {
	t.Helper()
	return testutil.StartRedis(t).Client(t)
}

// redisClient returns a client for the server at addr, closed when the
// test ends.
func redisClient(t testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
