package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/auth/password"
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
	"github.com/rampartsec/rampart/validate"
)

// stores are the state that outlives a configuration: counters must not
// reset on reload, or every reload would hand every client a fresh budget.
//
// Clients and stores are shared by the generations that use them, under a
// key naming every setting they were built with (a Redis client by URL and
// timeout, a rate-limit store by client, namespace and pipelining, a
// session store by client, namespace and cache lifetime): a reload that
// changes a setting gets a new one, and one that does not shares the old.
// Each generation holds a lease on what it uses; what no lease holds any
// more is closed when the last generation using it retires.
type stores struct {
	mu sync.Mutex
	// Process-wide memory stores: the default, and the local fallback when
	// Redis is unreachable.
	rateMem *ratelimit.MemoryStore
	bfMem   *bruteforce.MemoryStore
	// pool holds the shared clients, databases and stores by key.
	pool map[string]*pooled
	// processKey is the record key of a development process without
	// store.key_file: random, and the process's, not a configuration's,
	// so a reload does not invalidate every session.
	processKey []byte
	// csrfKey signs CSRF tokens when csrf.key_file is not set: the
	// process's, for the same reason.
	csrfKey []byte
	// hashers are kept by their parameters across reloads: each holds
	// its dummy hash, one argon2id run (tens of MiB) that a reload would
	// otherwise repeat.
	hashers map[password.Params]*password.Hasher
	// bodies bounds request bodies buffered for validation: the process's,
	// so that a reload does not start a second budget beside the first.
	bodies *validate.BodyBudget
	// dry replaces every store by an in-memory one, for Check: a check
	// creates no file and opens no connection (see dryRedis).
	dry bool
}

// pooled is one shared client, database or store and the number of leases
// holding it.
type pooled struct {
	val   any
	refs  int
	close func() error // nil when there is nothing to close
}

// lease is one generation's hold on the shared stores: everything it got
// through the lease stays open until release.
type lease struct {
	s    *stores
	keys []string // in the order acquired
}

// lease starts a lease on s.
func (s *stores) lease() *lease { return &lease{s: s} }

// get returns the value pooled under key, creating it with open on first
// use, and counts l's hold on it. s.mu must be held.
func (l *lease) get(key string, open func() (any, func() error, error)) (any, error) {
	p, ok := l.s.pool[key]
	if !ok {
		v, closeFn, err := open()
		if err != nil {
			return nil, err
		}
		p = &pooled{val: v, close: closeFn}
		l.s.pool[key] = p
	}
	p.refs++
	l.keys = append(l.keys, key)
	return p.val, nil
}

// release ends l's hold and closes what nothing holds any more: stores
// before the clients and databases they use, since they were acquired
// after them.
func (l *lease) release() error {
	if l == nil {
		return nil
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	var errs []error
	for i := len(l.keys) - 1; i >= 0; i-- {
		p, ok := l.s.pool[l.keys[i]]
		if !ok {
			continue // closed with the Gateway
		}
		if p.refs--; p.refs > 0 {
			continue
		}
		delete(l.s.pool, l.keys[i])
		if p.close != nil {
			errs = append(errs, p.close())
		}
	}
	l.keys = nil
	return errors.Join(errs...)
}

// open counts what the pool holds, for tests and metrics.
func (s *stores) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pool)
}

// hasher returns the process's password hasher for p.
func (s *stores) hasher(p password.Params) (*password.Hasher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := password.NewHasher(p)
	if err != nil {
		return nil, err
	}
	if old, ok := s.hashers[h.Params()]; ok {
		return old, nil
	}
	if s.hashers == nil {
		s.hashers = map[password.Params]*password.Hasher{}
	}
	s.hashers[h.Params()] = h
	return h, nil
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
func redisKey(c *config.Config, ns string) string { return redisClientKey(c) + "\x00" + ns }

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
func (l *lease) claim(ctx context.Context, c *config.Config, key []byte, ns string, log *slog.Logger) error {
	if c.Store.Redis == "" || l.s.dry || (c.Auth.Sessions == nil && c.Auth.Tokens == nil) {
		return nil
	}
	l.s.mu.Lock()
	cl, err := l.client(c)
	l.s.mu.Unlock()
	if err != nil {
		return err
	}
	var id []byte
	if c.HasRecordKey() {
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
func (l *lease) sql(ctx context.Context, c *config.Config) (*sqldb.DB, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.sqlLocked(ctx, c)
}

func (l *lease) sqlLocked(ctx context.Context, c *config.Config) (*sqldb.DB, error) {
	key, pg := sqlKey(c)
	v, err := l.get("sql\x00"+key, func() (any, func() error, error) {
		var db *sqldb.DB
		var err error
		if l.s.dry {
			if db, err = sqldb.OpenSQLite(ctx, ":memory:"); err != nil {
				return nil, nil, c.Errorf("store.sqlite", "%v", err)
			}
			// Every connection to ":memory:" is a database of its own.
			db.SetMaxOpenConns(1)
		} else if pg {
			if db, err = sqldb.OpenPostgres(ctx, key); err != nil {
				return nil, nil, unreachable(c, "postgres", "store.postgres", err)
			}
		} else if db, err = sqldb.OpenSQLite(ctx, key); err != nil {
			return nil, nil, c.Errorf("store.sqlite", "%v", err)
		}
		return db, db.Close, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*sqldb.DB), nil
}

// sqlErrKey is the key an error of c's SQL database is reported under.
func sqlErrKey(c *config.Config) string {
	if c.Store.Postgres != "" {
		return "store.postgres"
	}
	return "store.sqlite"
}

// users returns the user store on db, every call bounded by
// store.sql_timeout.
func (l *lease) users(ctx context.Context, c *config.Config, db *sqldb.DB) (users.Store, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	key, _ := sqlKey(c)
	v, err := l.get("users\x00"+key, func() (any, func() error, error) {
		st, err := users.NewSQLStore(ctx, db, nil)
		if err != nil {
			return nil, nil, c.Errorf(sqlErrKey(c), "%v", err)
		}
		return st, st.Close, nil
	})
	if err != nil {
		return nil, err
	}
	return boundUsers{v.(users.Store), c.Store.SQLTimeout}, nil
}

// sessions returns the session store: Redis when configured (sessions
// shared by replicas, expiring with Redis TTLs), else the SQL database,
// every call bounded by store.sql_timeout.
func (l *lease) sessions(ctx context.Context, c *config.Config, ns string) (session.Store, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if err := l.s.dryRedis(c); err != nil {
		return nil, err
	}
	if c.Store.Redis != "" && !l.s.dry {
		cl, err := l.client(c)
		if err != nil {
			return nil, err
		}
		var ttl time.Duration
		if t := c.Store.SessionCache; t != nil && *t > 0 {
			ttl = *t
		}
		v, err := l.get("session\x00"+redisKey(c, ns)+"\x00"+ttl.String(), func() (any, func() error, error) {
			rc := session.RedisConfig{Prefix: redisPrefix(c, ns)}
			if ttl > 0 {
				cached, err := session.NewCachedRedisStore(cl, rc, ttl)
				if err != nil {
					return nil, nil, c.Errorf("store.session_cache", "%v", err)
				}
				return cached, cached.Close, nil
			}
			st, err := session.NewRedisStore(cl, rc)
			if err != nil {
				return nil, nil, c.Errorf("store.redis", "%v", err)
			}
			return st, nil, nil
		})
		if err != nil {
			return nil, err
		}
		return v.(session.Store), nil
	}
	st, err := sqlStore(ctx, l, c, "session", "auth.sessions", func(ctx context.Context, db *sqldb.DB) (session.Store, error) {
		return session.NewSQLStore(ctx, db, nil)
	})
	if err != nil {
		return nil, err
	}
	bounded := boundSessions{st, c.Store.SQLTimeout}
	if l.s.dry && c.Store.Redis != "" && c.Store.SessionCache != nil && *c.Store.SessionCache > 0 {
		// Serving would use the cached Redis store, which can serve
		// from its cache during an outage; the check's stand-in must
		// accept the same settings (auth.sessions.on_store_error: cache).
		return dryCachedSessions{bounded}, nil
	}
	ttl := sessionCacheTTL(c)
	key, postgres := sqlKey(c)
	// The embedded SQLite store is one process's: a process-local cache
	// (store.session_cache) misses only deletions made by another process
	// on the same file, the rampart users command, for at most its
	// lifetime. Replicas sharing PostgreSQL have no announcement channel,
	// so their sessions are not cached: a logout applies on every replica
	// at once.
	if ttl <= 0 || postgres || l.s.dry {
		return bounded, nil
	}
	// The cache sits outside the bound, so a cached lookup starts no
	// timer. It is pooled with the store, so every generation and handler
	// of this process shares it and a deletion through any of them is
	// seen by all at once.
	v, err := l.get("sessioncache\x00"+key+"\x00"+ttl.String()+"\x00"+c.Store.SQLTimeout.String(), func() (any, func() error, error) {
		cached, err := session.NewCachedStore(bounded, ttl, nil)
		if err != nil {
			return nil, nil, c.Errorf("store.session_cache", "%v", err)
		}
		return cached, cached.Close, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(session.Store), nil
}

// sessionCacheTTL is store.session_cache, 0 when off.
func sessionCacheTTL(c *config.Config) time.Duration {
	if t := c.Store.SessionCache; t != nil && *t > 0 {
		return *t
	}
	return 0
}

// dryCachedSessions stands in, for Check, for the cached Redis session
// store: it has nothing cached.
type dryCachedSessions struct{ session.Store }

func (dryCachedSessions) FindStale(session.Key) (session.Record, bool) {
	return session.Record{}, false
}

// sqlStore returns the store of kind on c's SQL database, made by open on
// first use and pooled under the database's key; errors are reported
// under errKey. l.s.mu must be held.
func sqlStore[T any](ctx context.Context, l *lease, c *config.Config, kind, errKey string, open func(context.Context, *sqldb.DB) (T, error)) (T, error) {
	var zero T
	key, _ := sqlKey(c)
	db, err := l.sqlLocked(ctx, c)
	if err != nil {
		return zero, err
	}
	v, err := l.get(kind+"\x00"+key, func() (any, func() error, error) {
		st, err := open(ctx, db)
		if err != nil {
			return nil, nil, c.Errorf(errKey, "%v", err)
		}
		// The SQL stores hold prepared statements, released before the
		// database closes.
		if cl, ok := any(st).(io.Closer); ok {
			return st, cl.Close, nil
		}
		return st, nil, nil
	})
	if err != nil {
		return zero, err
	}
	return v.(T), nil
}

// tokens returns the refresh-token store: Redis when configured, else the
// SQL database, every call bounded by store.sql_timeout.
func (l *lease) tokens(ctx context.Context, c *config.Config, ns string) (token.Store, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if err := l.s.dryRedis(c); err != nil {
		return nil, err
	}
	if c.Store.Redis != "" && !l.s.dry {
		cl, err := l.client(c)
		if err != nil {
			return nil, err
		}
		v, err := l.get("token\x00"+redisKey(c, ns), func() (any, func() error, error) {
			st, err := tokredis.New(cl, tokenPrefix(c, ns))
			if err != nil {
				return nil, nil, c.Errorf("store.redis", "%v", err)
			}
			return st, nil, nil
		})
		if err != nil {
			return nil, err
		}
		return v.(token.Store), nil
	}
	st, err := sqlStore(ctx, l, c, "token", "auth.tokens", func(ctx context.Context, db *sqldb.DB) (token.Store, error) {
		return toksql.New(ctx, db)
	})
	if err != nil {
		return nil, err
	}
	return boundTokens{st, c.Store.SQLTimeout}, nil
}

// tokenPrefix is where refresh tokens live in Redis. On a Redis Cluster
// every token key carries one hash tag: the store's scripts follow a token
// to its family and subject, keys they can only name once they read them,
// so all of a deployment's token keys must live in one slot.
func tokenPrefix(c *config.Config, ns string) string {
	if t, err := redisconn.Parse(c.Store.Redis); err == nil && t.Topology == redisconn.Cluster {
		return redisPrefix(c, ns) + "token:{" + ns + "}:"
	}
	return redisPrefix(c, ns) + "token:"
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

// client returns the Redis client for c's URL and timeout. s.mu must be
// held.
func (l *lease) client(c *config.Config) (redis.UniversalClient, error) {
	v, err := l.get("redis\x00"+redisClientKey(c), func() (any, func() error, error) {
		cl, err := redisconn.Open(c.Store.Redis, c.Store.RedisTimeout)
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		return cl, cl.Close, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(redis.UniversalClient), nil
}

// redisClientKey names a Redis client by every setting it is built with.
func redisClientKey(c *config.Config) string {
	return c.Store.Redis + "\x00" + c.Store.RedisTimeout.String()
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
	return &stores{rateMem: rateMem, bfMem: bfMem, pool: map[string]*pooled{}}, nil
}

// rate returns the rate-limit store for c and the local fallback.
func (l *lease) rate(c *config.Config, ns string) (store, fallback ratelimit.Store, err error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if c.Store.Redis == "" || l.s.dry {
		return l.s.rateMem, nil, l.s.dryRedis(c)
	}
	cl, err := l.client(c)
	if err != nil {
		return nil, nil, err
	}
	key := fmt.Sprintf("rate\x00%s\x00%t", redisKey(c, ns), c.Store.RedisAutoPipeline)
	v, err := l.get(key, func() (any, func() error, error) {
		st, err := rlredis.New(rlredis.Config{Client: cl, Prefix: redisPrefix(c, ns) + "rl:", Timeout: c.Store.RedisTimeout, AutoPipeline: c.Store.RedisAutoPipeline})
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		return st, st.Close, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return v.(*rlredis.Store), l.s.rateMem, nil
}

// bruteforce returns the login-protection store for c and the local
// fallback.
func (l *lease) bruteforce(c *config.Config, ns string) (store, fallback bruteforce.Store, err error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if c.Store.Redis == "" || l.s.dry {
		return l.s.bfMem, nil, l.s.dryRedis(c)
	}
	cl, err := l.client(c)
	if err != nil {
		return nil, nil, err
	}
	v, err := l.get("bf\x00"+redisKey(c, ns), func() (any, func() error, error) {
		st, err := bfredis.New(bfredis.Config{Client: cl, Prefix: redisPrefix(c, ns) + "bf:", Timeout: c.Store.RedisTimeout})
		if err != nil {
			return nil, nil, c.Errorf("store.redis", "%v", err)
		}
		return st, st.Close, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return v.(*bfredis.Store), l.s.bfMem, nil
}

// close closes everything still pooled, whoever holds it: the Gateway is
// closing.
func (s *stores) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Stores first, then the clients and databases they use.
	var errs []error
	for _, kind := range []string{"session", "token", "users", "rate", "bf", "redis", "sql"} {
		for k, p := range s.pool {
			if strings.HasPrefix(k, kind+"\x00") {
				delete(s.pool, k)
				if p.close != nil {
					errs = append(errs, p.close())
				}
			}
		}
	}
	for k, p := range s.pool {
		delete(s.pool, k)
		if p.close != nil {
			errs = append(errs, p.close())
		}
	}
	return errors.Join(errs...)
}
