package redisconn

import (
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds each Redis call when the caller sets none.
const DefaultTimeout = 100 * time.Millisecond

// Open returns a client for a redis:// or rediss:// URL whose dials, reads,
// writes and pool waits are bounded by timeout (DefaultTimeout when zero).
// The caller owns the client and closes it.
func Open(url string, timeout time.Duration) (*redis.Client, error) {
	if url == "" {
		return nil, errors.New("redisconn: empty redis URL")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		// The URL may hold a password: describe, do not repeat.
		return nil, errors.New("redisconn: invalid redis URL: want redis://[user:password@]host:port/db or rediss://…")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	opt.DialTimeout = max(timeout, 250*time.Millisecond)
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ContextTimeoutEnabled = true
	// A retry doubles the time a request waits on a store that is down;
	// the caller's failure policy is the retry.
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.DisableIdentity = true
	return redis.NewClient(opt), nil
}
