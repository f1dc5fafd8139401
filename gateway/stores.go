package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

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
	// processKey is the record key of a development process without
	// store.key_file: random, and the process's, not a configuration's,
	// so a reload does not invalidate every session.
	processKey []byte
	// csrfKey signs CSRF tokens when csrf.key_file is not set: the
	// process's, for the same reason.
	csrfKey []byte
	// dry replaces every store by an in-memory one, for Check: a check
	// creates no file and opens no connection (see dryRedis).
	dry bool
}

// processCSRFKey returns the process's random CSRF signing key, created on
// first use.
func (s *stores) processCSRFKey() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.csrfKey == nil {
		s.csrfKey = make([]byte, 32)
		_, _ = rand.Read(s.csrfKey)
	}
	return s.csrfKey
}

// redisPrefix is where c's keys live in Redis: "rampart:<namespace>:".
func redisPrefix(_ *config.Config, ns string) string { return config.RedisPrefix(ns) }

// redisKey names a store on c's Redis in c's namespace.
func redisKey(c *config.Config, ns string) string { return c.Store.Redis + "\x00" + ns }

// recordKey returns the record key and namespace of c: store.key_file
// when set; else, when Redis holds sessions or refresh tokens, this
// process's random key (the production guard refuses that setup); else
// none.
func (s *stores) recordKey(c *config.Config) (key []byte, ns string, err error) {
	ns, key, err = c.StoreNamespace()
	if err != nil || key != nil {
		return key, ns, err
	}
	if c.Store.Redis != "" && (c.Auth.Sessions != nil || c.Auth.Tokens != nil) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.processKey == nil {
			s.processKey = make([]byte, 32)
			_, _ = rand.Read(s.processKey)
		}
		return s.processKey, ns, nil
	}
	return nil, ns, nil
}

// claim records in Redis that c's deployment uses its namespace, and
// refuses a namespace another deployment already claimed: two deployments
// sharing one would read each other's sessions and tokens. A deployment is
// told apart by its record key, or without one by where its users live.
// Only deployments with sessions or tokens claim. Redis being unreachable
// is not a refusal (the stores' own failure policies apply); it is logged.
func (s *stores) claim(ctx context.Context, c *config.Config, key []byte, ns string, log *slog.Logger) error {
	if c.Store.Redis == "" || s.dry || (c.Auth.Sessions == nil && c.Auth.Tokens == nil) {
		return nil
	}
	s.mu.Lock()
	cl, err := s.client(c)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	var id []byte
	if c.Store.KeyFile != "" {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("rampart deployment v1"))
		id = m.Sum(nil)
	} else {
		where, _ := sqlKey(c)
		if u, err := url.Parse(where); err == nil && u.Host != "" {
			where = strings.ToLower(u.Host) + u.Path // no credentials
		} else if host, err := os.Hostname(); err == nil {
			where = host + ":" + where
		}
		sum := sha256.Sum256([]byte("rampart deployment v1\x00" + where))
		id = sum[:]
	}
	mine := hex.EncodeToString(id[:16])
	marker := redisPrefix(c, ns) + "deployment"
	ctx, cancel := context.WithTimeout(ctx, max(c.Store.RedisTimeout, time.Second))
	defer cancel()
	prev, err := cl.SetArgs(ctx, marker, mine, redis.SetArgs{Mode: "NX", Get: true, TTL: 30 * 24 * time.Hour}).Result()
	switch {
	case errors.Is(err, redis.Nil) || err == nil && prev == mine:
		// Ours, now or already: keep it alive.
		_ = cl.Expire(ctx, marker, 30*24*time.Hour).Err()
		return nil
	case err != nil:
		log.Warn("could not check that the Redis namespace is this deployment's own", "namespace", ns, "error", err.Error())
		return nil
	}
	return c.Errorf("store.namespace", "namespace %q on this Redis belongs to another deployment (different store.key_file or user store): give each deployment its own store.namespace (or delete the key %q if this deployment moved)", ns, marker)
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
			return nil, unreachable(c, "postgres", "store.postgres", err)
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
func (s *stores) sessions(ctx context.Context, c *config.Config, ns string) (session.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.dryRedis(c); err != nil {
		return nil, err
	}
	if c.Store.Redis != "" && !s.dry {
		if st, ok := s.sessionStores["redis:"+redisKey(c, ns)]; ok {
			return st, nil
		}
		cl, err := s.client(c)
		if err != nil {
			return nil, err
		}
		var st session.Store
		rc := session.RedisConfig{Prefix: redisPrefix(c, ns)}
		if ttl := c.Store.SessionCache; ttl != nil && *ttl > 0 {
			cached, err := session.NewCachedRedisStore(cl, rc, *ttl)
			if err != nil {
				return nil, c.Errorf("store.session_cache", "%v", err)
			}
			s.closers = append(s.closers, cached)
			st = cached
		} else if st, err = session.NewRedisStore(cl, rc); err != nil {
			return nil, c.Errorf("store.redis", "%v", err)
		}
		s.sessionStores["redis:"+redisKey(c, ns)] = st
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
func (s *stores) tokens(ctx context.Context, c *config.Config, ns string) (token.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.dryRedis(c); err != nil {
		return nil, err
	}
	if c.Store.Redis != "" && !s.dry {
		if st, ok := s.tokenStores["redis:"+redisKey(c, ns)]; ok {
			return st, nil
		}
		cl, err := s.client(c)
		if err != nil {
			return nil, err
		}
		st, err := tokredis.New(cl, redisPrefix(c, ns)+"token:")
		if err != nil {
			return nil, c.Errorf("store.redis", "%v", err)
		}
		s.tokenStores["redis:"+redisKey(c, ns)] = st
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
func (s *stores) rate(c *config.Config, ns string) (store, fallback ratelimit.Store, err error) {
	if c.Store.Redis == "" || s.dry {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.rateMem, nil, s.dryRedis(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.rateRedis[redisKey(c, ns)]
	if !ok {
		cl, err := s.client(c)
		if err != nil {
			return nil, nil, err
		}
		st, err = rlredis.New(rlredis.Config{Client: cl, Prefix: redisPrefix(c, ns) + "rl:", Timeout: c.Store.RedisTimeout, AutoPipeline: c.Store.RedisAutoPipeline})
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		s.rateRedis[redisKey(c, ns)] = st
	}
	return st, s.rateMem, nil
}

// bruteforce returns the login-protection store for c and the local
// fallback.
func (s *stores) bruteforce(c *config.Config, ns string) (store, fallback bruteforce.Store, err error) {
	if c.Store.Redis == "" || s.dry {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.bfMem, nil, s.dryRedis(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.bfRedis[redisKey(c, ns)]
	if !ok {
		cl, err := s.client(c)
		if err != nil {
			return nil, nil, err
		}
		st, err = bfredis.New(bfredis.Config{Client: cl, Prefix: redisPrefix(c, ns) + "bf:", Timeout: c.Store.RedisTimeout})
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		s.bfRedis[redisKey(c, ns)] = st
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
