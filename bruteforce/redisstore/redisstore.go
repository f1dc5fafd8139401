package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/internal/redisconn"
)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "rampart:bf:"

//go:embed script.lua
var scriptSource string

var script = redis.NewScript(scriptSource)

// Config configures a Store. Exactly one of URL and Client is required.
type Config struct {
	// URL is a redis:// or rediss:// URL; the Store owns its client.
	URL string
	// Client is an existing client, kept by the caller.
	Client redis.UniversalClient
	// Prefix starts every key. Default "rampart:bf:".
	Prefix string
	// Timeout bounds every call. Default 100ms.
	Timeout time.Duration
}

// Store is a bruteforce.Store on Redis. It is safe for concurrent use.
type Store struct {
	c       redis.UniversalClient
	owned   bool
	prefix  string
	timeout time.Duration
}

// New returns a Store for c. It does not contact Redis.
func New(c Config) (*Store, error) {
	if (c.URL == "") == (c.Client == nil) {
		return nil, errors.New("redisstore: set exactly one of URL and Client")
	}
	if c.Timeout < 0 {
		return nil, errors.New("redisstore: timeout must not be negative")
	}
	s := &Store{c: c.Client, prefix: c.Prefix, timeout: c.Timeout}
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
	return s, nil
}

var _ bruteforce.Store = (*Store)(nil)

func (s *Store) run(ctx context.Context, op string, now time.Time, p *bruteforce.Params, keys ...string) ([]int64, error) {
	for i, k := range keys {
		keys[i] = s.prefix + k
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	vals, err := script.Run(ctx, s.c, keys, op, now.UnixMilli(),
		p.MaxPerAccount, p.MaxPerIP, p.MaxPerAccountIP, p.Window, p.Lockout, p.Delay, p.Remember).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if len(vals) != 3 {
		return nil, fmt.Errorf("redisstore: script returned %d values, want 3", len(vals))
	}
	return vals, nil
}

func verdict(v []int64) bruteforce.Verdict {
	return bruteforce.Verdict{Allowed: v[0] == 1, By: bruteforce.Level(v[1]), RetryAfter: time.Duration(v[2]) * time.Millisecond}
}

// Attempt implements bruteforce.Store.
func (s *Store) Attempt(ctx context.Context, now time.Time, k bruteforce.Keys, p *bruteforce.Params) (bruteforce.Verdict, error) {
	v, err := s.run(ctx, "ip", now, p, k.IP)
	if err != nil || v[0] != 1 {
		if err != nil {
			return bruteforce.Verdict{}, err
		}
		return verdict(v), nil
	}
	v, err = s.run(ctx, "account", now, p, k.AccountIP, k.Account)
	if err != nil {
		return bruteforce.Verdict{}, err
	}
	return verdict(v), nil
}

// Succeed implements bruteforce.Store.
func (s *Store) Succeed(ctx context.Context, now time.Time, k bruteforce.Keys, p *bruteforce.Params) error {
	if _, err := s.run(ctx, "ok-ip", now, p, k.IP); err != nil {
		return err
	}
	_, err := s.run(ctx, "ok-account", now, p, k.AccountIP, k.Account)
	return err
}

// Cancel implements bruteforce.Store.
func (s *Store) Cancel(ctx context.Context, now time.Time, k bruteforce.Keys, p *bruteforce.Params) error {
	if _, err := s.run(ctx, "cancel-ip", now, p, k.IP); err != nil {
		return err
	}
	_, err := s.run(ctx, "cancel-account", now, p, k.AccountIP, k.Account)
	return err
}

// Unlock implements bruteforce.Store.
func (s *Store) Unlock(ctx context.Context, account string) error {
	_, err := s.run(ctx, "unlock", time.Now(), &bruteforce.Params{}, account)
	return err
}

// Close closes the client if the Store opened it.
func (s *Store) Close() error {
	if s.owned {
		return s.c.Close()
	}
	return nil
}
