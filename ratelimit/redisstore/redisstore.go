package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/internal/redisconn"
	"github.com/rampartsec/rampart/ratelimit"
)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "rampart:rl:"

//go:embed script.lua
var scriptSource string

var script = redis.NewScript(scriptSource)

// Config configures a Store. Exactly one of URL and Client is required.
type Config struct {
	// URL is a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0.
	// The Store opens its own client and closes it in Close.
	URL string
	// Client is an existing client: a *redis.Client, a *redis.ClusterClient
	// or a failover client. The caller keeps ownership.
	Client redis.UniversalClient
	// Prefix starts every key. Default "rampart:rl:".
	Prefix string
	// Timeout bounds every call, including connecting. Default 100ms.
	Timeout time.Duration
	// ServerClock makes Redis's own clock (TIME) the time of every
	// decision instead of the time the caller passes, so that replicas
	// with skewed clocks still agree. Default false: the caller's time,
	// which keeps decisions testable at fixed instants.
	ServerClock bool
	// AutoPipeline batches the script calls of concurrent decisions into
	// shared round trips, using go-redis's auto-pipelining (marked
	// experimental by go-redis). Each decision is still one atomic script
	// call. It raises throughput under concurrency at a small latency cost
	// for a lone caller; see docs/ratelimit.md for measurements. Default
	// false.
	AutoPipeline bool
}

// Store is a ratelimit.Store on Redis. It is safe for concurrent use.
type Store struct {
	c       redis.UniversalClient
	run     redis.Scripter
	ap      *redis.AutoPipeliner
	owned   bool
	prefix  string
	timeout time.Duration
	server  bool
}

// New returns a Store for c. It does not contact Redis: an unreachable
// server shows as errors from Take, which the Limiter turns into its
// failure policy.
func New(c Config) (*Store, error) {
	if (c.URL == "") == (c.Client == nil) {
		return nil, errors.New("redisstore: set exactly one of URL and Client")
	}
	if c.Timeout < 0 {
		return nil, errors.New("redisstore: timeout must not be negative")
	}
	s := &Store{c: c.Client, prefix: c.Prefix, timeout: c.Timeout, server: c.ServerClock}
	if s.timeout == 0 {
		s.timeout = redisconn.DefaultTimeout
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if c.URL != "" {
		cl, err := redisconn.Open(c.URL, s.timeout)
		if err != nil {
			return nil, fmt.Errorf("redisstore: %w", err)
		}
		s.c, s.owned = cl, true
	}
	s.run = s.c
	if c.AutoPipeline {
		var ap *redis.AutoPipeliner
		var err error
		switch cl := s.c.(type) {
		case *redis.Client:
			ap, err = cl.AutoPipeline()
		case *redis.ClusterClient:
			ap, err = cl.AutoPipeline()
		default:
			err = errors.New("auto-pipelining needs a *redis.Client or *redis.ClusterClient")
		}
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("redisstore: %w", err)
		}
		s.ap, s.run = ap, ap
	}
	return s, nil
}

var _ ratelimit.Store = (*Store)(nil)

// Take implements ratelimit.Store with one script call: one round trip,
// atomic, with every quota's counter under the same hash tag so that it
// works on Redis Cluster.
func (s *Store) Take(ctx context.Context, key string, qs []ratelimit.Quota, now time.Time, n int64, res []ratelimit.Result) error {
	keys := make([]string, len(qs))
	args := make([]any, 2, 2+5*len(qs))
	if s.server {
		args[0] = ""
	} else {
		args[0] = now.UnixMicro()
	}
	args[1] = n
	for i := range qs {
		q := &qs[i]
		keys[i] = s.prefix + q.ID + ":{" + key + "}"
		alg := "g"
		if q.Algorithm == ratelimit.SlidingWindow {
			alg = "w"
		}
		args = append(args, alg, q.Limit, q.Per, q.Burst, q.Interval)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	vals, err := script.Run(ctx, s.run, keys, args...).Int64Slice()
	if err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	if len(vals) != 4*len(qs) {
		return fmt.Errorf("redisstore: script returned %d values, want %d", len(vals), 4*len(qs))
	}
	for i := range qs {
		v := vals[4*i : 4*i+4]
		res[i] = ratelimit.Result{
			Allowed:    v[0] == 1,
			Remaining:  v[1],
			Reset:      time.Duration(v[2]) * time.Microsecond,
			RetryAfter: time.Duration(v[3]) * time.Microsecond,
		}
	}
	return nil
}

// Close closes the client if the Store opened it.
func (s *Store) Close() error {
	if s.ap != nil {
		_ = s.ap.Close()
	}
	if s.owned {
		return s.c.Close()
	}
	return nil
}

// Ping checks that Redis answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	return nil
}
