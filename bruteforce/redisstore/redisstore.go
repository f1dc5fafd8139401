package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	if _, err := s.run(ctx, "unlock", time.Now(), &bruteforce.Params{}, account); err != nil {
		return err
	}
	keys, err := s.pairKeys(ctx, account)
	if err != nil {
		return err
	}
	for _, k := range keys {
		// Each call under its own timeout: an account with many
		// addresses must not run out of one.
		if _, err := s.run(ctx, "reset", time.Now(), &bruteforce.Params{}, k); err != nil {
			return err
		}
	}
	return nil
}

// Counters implements bruteforce.Store.
func (s *Store) Counters(ctx context.Context, account string, now time.Time) (bruteforce.Counter, map[string]bruteforce.Counter, error) {
	t := now.UnixMilli()
	acct, err := s.counter(ctx, s.prefix+account)
	if err != nil {
		return bruteforce.Counter{}, nil, err
	}
	keys, err := s.pairKeys(ctx, account)
	if err != nil {
		return bruteforce.Counter{}, nil, err
	}
	pairs := make(map[string]bruteforce.Counter, len(keys))
	prefix := bruteforce.PairPrefix(account)
	for _, k := range keys {
		c, err := s.counter(ctx, s.prefix+k)
		if err != nil {
			return bruteforce.Counter{}, nil, err
		}
		pairs[strings.TrimPrefix(k, prefix)] = bruteforce.Live(c, t)
	}
	return bruteforce.Live(acct, t), pairs, nil
}

// counter reads one counter hash.
func (s *Store) counter(ctx context.Context, key string) (bruteforce.Counter, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	v, err := s.c.HMGet(ctx, key, "f", "l", "n", "e", "s").Result()
	if err != nil {
		return bruteforce.Counter{}, fmt.Errorf("redisstore: %w", err)
	}
	n := func(i int) int64 {
		str, _ := v[i].(string)
		x, _ := strconv.ParseFloat(str, 64)
		return int64(x)
	}
	return bruteforce.Counter{Failures: n(0), LockedUntil: n(1), NotBefore: n(2), FailuresExpire: n(3), LastSuccess: n(4)}, nil
}

// pairKeys lists the account's AccountIP counter keys, without the store's
// prefix. They share the account's hash tag, so in a cluster they live on
// one node; every primary is scanned all the same, which is simpler and
// only an administrator's cost.
func (s *Store) pairKeys(ctx context.Context, account string) ([]string, error) {
	match := escapeGlob(s.prefix+bruteforce.PairPrefix(account)) + "*"
	var keys []string
	var mu sync.Mutex
	scan := func(ctx context.Context, c redis.Cmdable) error {
		ctx, cancel := context.WithTimeout(ctx, 10*s.timeout)
		defer cancel()
		it := c.Scan(ctx, 0, match, 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, strings.TrimPrefix(it.Val(), s.prefix))
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.c)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: listing counters: %w", err)
	}
	return keys, nil
}

// escapeGlob escapes the characters SCAN's MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Close closes the client if the Store opened it.
func (s *Store) Close() error {
	if s.owned {
		return s.c.Close()
	}
	return nil
}
