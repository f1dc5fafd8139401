package gateway

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/token"
	tokredis "github.com/rampartsec/rampart/auth/token/redisstore"
	toksql "github.com/rampartsec/rampart/auth/token/sqlstore"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/bruteforce"
	bfredis "github.com/rampartsec/rampart/bruteforce/redisstore"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/redisconn"
	"github.com/rampartsec/rampart/internal/sqldb"
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
	// SQL databases (SQLite file or PostgreSQL DSN) and the stores on
	// them, opened once: migrations run at first use, not at every reload.
	dbs           map[string]*sqldb.DB
	userStores    map[string]users.Store
	sessionStores map[string]session.Store
	tokenStores   map[string]token.Store
	// closers stop stores' goroutines before their clients close.
	closers []io.Closer
	// dry replaces every store by an in-memory one, for Check: a check
	// creates no file and opens no connection (see dryRedis).
	dry bool
}

// sqlKey names the SQL database c uses: PostgreSQL when configured (users
// shared by replicas), else the embedded SQLite file.
func sqlKey(c *config.Config) (key string, postgres bool) {
	if c.Store.Postgres != "" {
		return c.Store.Postgres, true
	}
	return c.RelativePath(c.Store.SQLite), false
}

// sql returns the SQL database for users (and, without Redis, sessions and
// refresh tokens).
func (s *stores) sql(ctx context.Context, c *config.Config) (*sqldb.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sqlLocked(ctx, c)
}

func (s *stores) sqlLocked(ctx context.Context, c *config.Config) (*sqldb.DB, error) {
	key, pg := sqlKey(c)
	if db, ok := s.dbs[key]; ok {
		return db, nil
	}
	var db *sqldb.DB
	var err error
	if s.dry {
		if db, err = sqldb.OpenSQLite(ctx, ":memory:"); err != nil {
			return nil, c.Errorf("store.sqlite", "%v", err)
		}
		// Every connection to ":memory:" is a database of its own.
		db.SetMaxOpenConns(1)
	} else if pg {
		if db, err = sqldb.OpenPostgres(ctx, key); err != nil {
			return nil, c.Errorf("store.postgres", "%v", err)
		}
	} else if db, err = sqldb.OpenSQLite(ctx, key); err != nil {
		return nil, c.Errorf("store.sqlite", "%v", err)
	}
	s.dbs[key] = db
	return db, nil
}

// users returns the user store on db.
func (s *stores) users(ctx context.Context, c *config.Config, db *sqldb.DB) (users.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, pg := sqlKey(c)
	if st, ok := s.userStores[key]; ok {
		return st, nil
	}
	st, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		k := "store.sqlite"
		if pg {
			k = "store.postgres"
		}
		return nil, c.Errorf(k, "%v", err)
	}
	s.userStores[key] = st
	return st, nil
}

// sessions returns the session store: Redis when configured (sessions
// shared by replicas, expiring with Redis TTLs), else the SQL database.
func (s *stores) sessions(ctx context.Context, c *config.Config) (session.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.dryRedis(c); err != nil {
		return nil, err
	}
	if c.Store.Redis != "" && !s.dry {
		if st, ok := s.sessionStores["redis:"+c.Store.Redis]; ok {
			return st, nil
		}
		cl, err := s.client(c)
		if err != nil {
			return nil, err
		}
		var st session.Store
		if ttl := c.Store.SessionCache; ttl != nil && *ttl > 0 {
			cached, err := session.NewCachedRedisStore(cl, session.RedisConfig{}, *ttl)
			if err != nil {
				return nil, c.Errorf("store.session_cache", "%v", err)
			}
			s.closers = append(s.closers, cached)
			st = cached
		} else if st, err = session.NewRedisStore(cl, session.RedisConfig{}); err != nil {
			return nil, c.Errorf("store.redis", "%v", err)
		}
		s.sessionStores["redis:"+c.Store.Redis] = st
		return st, nil
	}
	key, _ := sqlKey(c)
	if st, ok := s.sessionStores[key]; ok {
		return st, nil
	}
	db, err := s.sqlLocked(ctx, c)
	if err != nil {
		return nil, err
	}
	st, err := session.NewSQLStore(ctx, db, nil)
	if err != nil {
		return nil, c.Errorf("auth.sessions", "%v", err)
	}
	s.sessionStores[key] = st
	return st, nil
}

// tokens returns the refresh-token store: Redis when configured, else the
// SQL database.
func (s *stores) tokens(ctx context.Context, c *config.Config) (token.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.dryRedis(c); err != nil {
		return nil, err
	}
	if c.Store.Redis != "" && !s.dry {
		if st, ok := s.tokenStores["redis:"+c.Store.Redis]; ok {
			return st, nil
		}
		cl, err := s.client(c)
		if err != nil {
			return nil, err
		}
		st, err := tokredis.New(cl, "")
		if err != nil {
			return nil, c.Errorf("store.redis", "%v", err)
		}
		s.tokenStores["redis:"+c.Store.Redis] = st
		return st, nil
	}
	key, _ := sqlKey(c)
	if st, ok := s.tokenStores[key]; ok {
		return st, nil
	}
	db, err := s.sqlLocked(ctx, c)
	if err != nil {
		return nil, err
	}
	st, err := toksql.New(ctx, db)
	if err != nil {
		return nil, c.Errorf("auth.tokens", "%v", err)
	}
	s.tokenStores[key] = st
	return st, nil
}

// dryRedis, for Check, makes the Redis client as serving would — which
// parses the URL and reports what serve would report — and closes it
// unused: go-redis connects on first use, so nothing reaches the network.
// Outside Check, or without Redis, it does nothing. s.mu must be held.
func (s *stores) dryRedis(c *config.Config) error {
	if !s.dry || c.Store.Redis == "" {
		return nil
	}
	cl, err := redisconn.Open(c.Store.Redis, c.Store.RedisTimeout)
	if err != nil {
		return c.Errorf("store.redis", "%v", err)
	}
	return cl.Close()
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
		rateRedis: map[string]*rlredis.Store{}, bfRedis: map[string]*bfredis.Store{},
		dbs: map[string]*sqldb.DB{}, userStores: map[string]users.Store{},
		sessionStores: map[string]session.Store{}, tokenStores: map[string]token.Store{}}, nil
}

// rate returns the rate-limit store for c and the local fallback.
func (s *stores) rate(c *config.Config) (store, fallback ratelimit.Store, err error) {
	if c.Store.Redis == "" || s.dry {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.rateMem, nil, s.dryRedis(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.rateRedis[c.Store.Redis]
	if !ok {
		cl, err := s.client(c)
		if err != nil {
			return nil, nil, err
		}
		st, err = rlredis.New(rlredis.Config{Client: cl, Timeout: c.Store.RedisTimeout, AutoPipeline: c.Store.RedisAutoPipeline})
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
	if c.Store.Redis == "" || s.dry {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.bfMem, nil, s.dryRedis(c)
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
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	for _, cl := range s.clients {
		errs = append(errs, cl.Close())
	}
	for _, db := range s.dbs {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}
