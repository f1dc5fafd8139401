package gateway

import (
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/bruteforce"
	bfredis "github.com/rampartsec/rampart/bruteforce/redisstore"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/redisconn"
	"github.com/rampartsec/rampart/ratelimit"
	rlredis "github.com/rampartsec/rampart/ratelimit/redisstore"
)

// stores are the state that outlives a configuration: counters must not
// reset on reload, or every reload would hand every client a fresh budget.
// They are created on first use, kept per Redis URL, and closed with the
// Gateway.
type stores struct {
	mu sync.Mutex
	// Process-wide memory stores: the default, and the local fallback when
	// Redis is unreachable.
	rateMem *ratelimit.MemoryStore
	bfMem   *bruteforce.MemoryStore
	// One Redis client per URL, shared by the stores that use it.
	clients   map[string]*redis.Client
	rateRedis map[string]*rlredis.Store
	bfRedis   map[string]*bfredis.Store
}

// client returns the Redis client for c's URL. s.mu must be held.
func (s *stores) client(c *config.Config) (*redis.Client, error) {
	if cl, ok := s.clients[c.Store.Redis]; ok {
		return cl, nil
	}
	cl, err := redisconn.Open(c.Store.Redis, c.Store.RedisTimeout)
	if err != nil {
		return nil, c.Errorf("store.redis", "%v", err)
	}
	s.clients[c.Store.Redis] = cl
	return cl, nil
}

func newStores() (*stores, error) {
	rateMem, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		return nil, err
	}
	bfMem, err := bruteforce.NewMemoryStore(0)
	if err != nil {
		return nil, err
	}
	return &stores{rateMem: rateMem, bfMem: bfMem, clients: map[string]*redis.Client{},
		rateRedis: map[string]*rlredis.Store{}, bfRedis: map[string]*bfredis.Store{}}, nil
}

// rate returns the rate-limit store for c and the local fallback.
func (s *stores) rate(c *config.Config) (store, fallback ratelimit.Store, err error) {
	if c.Store.Redis == "" {
		return s.rateMem, nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.rateRedis[c.Store.Redis]
	if !ok {
		cl, err := s.client(c)
		if err != nil {
			return nil, nil, err
		}
		st, err = rlredis.New(rlredis.Config{Client: cl, Timeout: c.Store.RedisTimeout})
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		s.rateRedis[c.Store.Redis] = st
	}
	return st, s.rateMem, nil
}

// bruteforce returns the login-protection store for c and the local
// fallback.
func (s *stores) bruteforce(c *config.Config) (store, fallback bruteforce.Store, err error) {
	if c.Store.Redis == "" {
		return s.bfMem, nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.bfRedis[c.Store.Redis]
	if !ok {
		cl, err := s.client(c)
		if err != nil {
			return nil, nil, err
		}
		st, err = bfredis.New(bfredis.Config{Client: cl, Timeout: c.Store.RedisTimeout})
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		s.bfRedis[c.Store.Redis] = st
	}
	return st, s.bfMem, nil
}

func (s *stores) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, cl := range s.clients {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}
