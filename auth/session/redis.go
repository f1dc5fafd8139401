package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store in Redis, for several gateway replicas. Each
// session is one hash — its record as JSON, and its last activity apart so
// that recording activity is one small atomic write — with a Redis TTL
// equal to the time left before its nearer deadline, so Redis itself
// forgets expired sessions. A per-user set indexes them for List and
// DeleteUser; entries of expired sessions are pruned from it lazily, and
// the set itself expires with its longest-lived session (EXPIRE NX and GT:
// Redis 7.0 or newer). It is safe for concurrent use.
type RedisStore struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ Store = (*RedisStore)(nil)

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Prefix starts every key the store writes. Default "rampart:".
	Prefix string `yaml:"prefix"`
}

// NewRedisStore returns a store that uses rdb. The caller keeps ownership
// of rdb and closes it.
func NewRedisStore(rdb redis.UniversalClient, c RedisConfig) (*RedisStore, error) {
	if rdb == nil {
		return nil, errors.New("session: nil redis client")
	}
	if c.Prefix == "" {
		c.Prefix = "rampart:"
	}
	return &RedisStore{rdb: rdb, prefix: c.Prefix}, nil
}

func (s *RedisStore) sessionKey(k Key) string { return s.prefix + "session:" + k.String() }
func (s *RedisStore) userKey(u string) string { return s.prefix + "sessions-of:" + u }

// indexSlack is how long a user's index outlives the TTL of the session
// that last extended it.
const indexSlack = time.Minute

// redisRecord is the JSON part of the hash: Record without LastSeen.
type redisRecord struct {
	User      string    `json:"user"`
	Issuer    string    `json:"iss,omitempty"`
	Method    string    `json:"method,omitempty"`
	MAC       string    `json:"mac,omitempty"`
	Roles     []string  `json:"roles"`
	Created   time.Time `json:"created"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// Create implements Store.
func (s *RedisStore) Create(ctx context.Context, key Key, rec Record, ttl time.Duration) error {
	val, err := json.Marshal(redisRecord{User: rec.User, Issuer: rec.Issuer, Method: rec.Method, MAC: rec.MAC,
		Roles: rec.Roles, Created: rec.Created, IP: rec.IP, UserAgent: rec.UserAgent})
	if err != nil {
		return err
	}
	sk, uk := s.sessionKey(key), s.userKey(rec.User)
	// The index first, then the session, each in a transaction of its
	// own: on a Redis Cluster the two keys live in different slots, and a
	// session must never exist without its index entry (log out
	// everywhere reads the index). An index entry whose session was never
	// written is pruned by List and DeleteUser.
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, uk, key.String())
		// The index lives as long as its longest-lived session.
		p.ExpireNX(ctx, uk, ttl+indexSlack)
		p.ExpireGT(ctx, uk, ttl+indexSlack)
		return nil
	}); err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, sk, "rec", val, "seen", rec.LastSeen.UnixMilli())
		p.PExpire(ctx, sk, max(ttl, time.Millisecond))
		return nil
	})
	return err
}

// Find implements Store.
func (s *RedisStore) Find(ctx context.Context, key Key) (Record, bool, error) {
	vals, err := s.rdb.HMGet(ctx, s.sessionKey(key), "rec", "seen").Result()
	if err != nil {
		return Record{}, false, err
	}
	rec, ok := decodeRecord(vals)
	return rec, ok, nil
}

// decodeRecord turns HMGET's answer into a Record. Anything this package
// did not write reads as unknown, like a tampered token in any store.
func decodeRecord(vals []any) (Record, bool) {
	if len(vals) != 2 {
		return Record{}, false
	}
	raw, ok1 := vals[0].(string)
	seen, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return Record{}, false
	}
	var r redisRecord
	if json.Unmarshal([]byte(raw), &r) != nil || r.User == "" {
		return Record{}, false
	}
	ms, err := strconv.ParseInt(seen, 10, 64)
	if err != nil {
		return Record{}, false
	}
	return Record{User: r.User, Issuer: r.Issuer, Method: r.Method, MAC: r.MAC, Roles: r.Roles, Created: r.Created,
		LastSeen: time.UnixMilli(ms), IP: r.IP, UserAgent: r.UserAgent}, true
}

// touchScript records activity only if the session still exists, in one
// atomic step, so a logout that lands between Find and Touch is never
// undone.
var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'seen', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// Touch implements Store.
func (s *RedisStore) Touch(ctx context.Context, key Key, rec Record, ttl time.Duration) (bool, error) {
	ms := max(ttl.Milliseconds(), 1)
	n, err := touchScript.Run(ctx, s.rdb, []string{s.sessionKey(key)}, rec.LastSeen.UnixMilli(), ms).Int()
	if err != nil {
		return false, err
	}
	if n == 1 {
		// Keeping the index alive is housekeeping: List and DeleteUser
		// read it, and a session outliving its index only escapes those
		// two until it expires; an error here is not worth failing the
		// request for.
		_ = s.rdb.ExpireGT(ctx, s.userKey(rec.User), ttl+indexSlack).Err()
	}
	return n == 1, nil
}

// Delete implements Store. It also tells every replica's session cache
// (CachedRedisStore) to forget the session.
func (s *RedisStore) Delete(ctx context.Context, key Key) error {
	// The index entry is pruned lazily by List and DeleteUser.
	if err := s.rdb.Del(ctx, s.sessionKey(key)).Err(); err != nil {
		return err
	}
	s.broadcast(ctx, "k:"+key.String())
	return nil
}

// evictChannel is the pub/sub channel on which deletions are announced to
// the replicas' caches.
func (s *RedisStore) evictChannel() string { return s.prefix + "session-evictions" }

// broadcast announces a deletion. A lost announcement leaves a cached
// session alive on other replicas for at most the cache's lifetime; the
// deletion itself has already happened, so it is not reported as failed.
func (s *RedisStore) broadcast(ctx context.Context, msg string) {
	_ = s.rdb.Publish(ctx, s.evictChannel(), msg).Err()
}

// DeleteUser implements Store.
func (s *RedisStore) DeleteUser(ctx context.Context, user string) (int, error) {
	uk := s.userKey(user)
	members, err := s.rdb.SMembers(ctx, uk).Result()
	if err != nil || len(members) == 0 {
		return 0, err
	}
	keys := make([]string, 0, len(members))
	args := make([]any, len(members))
	for i, m := range members {
		args[i] = m
		if k, ok := ParseKey(m); ok {
			keys = append(keys, s.sessionKey(k))
		}
	}
	// One DEL per session, pipelined: on a Redis Cluster the sessions
	// live in different slots, which one multi-key DEL cannot span.
	var n int64
	if len(keys) > 0 {
		cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		for _, c := range cmds {
			n += c.(*redis.IntCmd).Val()
		}
	}
	s.broadcast(ctx, "u:"+user)
	// Remove only the members seen: a session created meanwhile stays
	// indexed, so a second call catches it.
	if err := s.rdb.SRem(ctx, uk, args...).Err(); err != nil {
		return int(n), err
	}
	return int(n), nil
}

// List implements Store.
func (s *RedisStore) List(ctx context.Context, user string) ([]Entry, error) {
	uk := s.userKey(user)
	members, err := s.rdb.SMembers(ctx, uk).Result()
	if err != nil || len(members) == 0 {
		return nil, err
	}
	var stale []any
	keys := make([]Key, 0, len(members))
	for _, m := range members {
		if k, ok := ParseKey(m); ok {
			keys = append(keys, k)
		} else {
			stale = append(stale, m)
		}
	}
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.HMGet(ctx, s.sessionKey(k), "rec", "seen")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Entry
	for i, c := range cmds {
		rec, ok := decodeRecord(c.(*redis.SliceCmd).Val())
		if !ok || rec.User != user {
			stale = append(stale, keys[i].String())
			continue
		}
		out = append(out, Entry{Key: keys[i], Record: rec})
	}
	if len(stale) > 0 {
		// Pruning is housekeeping; a failure leaves entries List skips.
		_ = s.rdb.SRem(ctx, uk, stale...).Err()
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := a.Record.Created.Compare(b.Record.Created); c != 0 {
			return c
		}
		return slices.Compare(a.Key[:], b.Key[:])
	})
	return out, nil
}

// Ping checks that Redis answers, for readiness probes.
func (s *RedisStore) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("session: redis: %w", err)
	}
	return nil
}
