package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/auth/token"
)

// DefaultPrefix is the key prefix Store uses when none is given.
const DefaultPrefix = "rampart:token:"

// Store is a token.Store in Redis, for several gateway replicas. Every
// operation that reads and writes is one Lua script, so it is atomic on the
// server: two replicas exchanging the same refresh token at once cannot both
// succeed. Keys expire with their family, so Redis needs no cleanup job.
//
// Store needs a single Redis server (optionally behind Sentinel): its
// scripts touch keys derived inside the script, which Redis Cluster does not
// allow. It is safe for concurrent use.
//
// Keys, under the prefix: f:ID (family hash), t:HASH (token hash, hex; a
// used one also names its successor and the end of the retry window),
// s:SUBJECT (the subject's families), j:JTI (revoked access token),
// c:SUBJECT (the subject's access-token cut-off).
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ token.Store = (*Store)(nil)

// New returns a store using rdb, with keys under prefix (DefaultPrefix
// when empty).
func New(rdb redis.UniversalClient, prefix string) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil redis client")
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{rdb: rdb, prefix: prefix}, nil
}

var createScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'ident', ARGV[2], 'created', ARGV[3], 'exp', ARGV[4], 'revoked', '0')
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], 'fam', ARGV[6], 'exp', ARGV[5], 'used', '0')
redis.call('PEXPIREAT', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[6], ARGV[4])
local max = tonumber(redis.call('HGET', KEYS[3], '_max') or '0')
if tonumber(ARGV[4]) > max then
	redis.call('HSET', KEYS[3], '_max', ARGV[4])
	redis.call('PEXPIREAT', KEYS[3], ARGV[4])
end
return 1
`)

// rotateScript returns {status, family id, subject, identity, created, expires}.
var rotateScript = redis.NewScript(`
local now = tonumber(ARGV[2])
local t = redis.call('HMGET', KEYS[1], 'fam', 'exp', 'used')
if not t[1] then return {'invalid'} end
local fk = ARGV[1] .. 'f:' .. t[1]
local f = redis.call('HMGET', fk, 'exp', 'revoked', 'sub', 'ident', 'created')
if not f[1] or f[2] == '1' or tonumber(f[1]) <= now then return {'invalid'} end
if t[3] ~= '0' then
	-- A retry of the rotation: the same successor, inside its window,
	-- still unused. It changes nothing.
	local r = redis.call('HMGET', KEYS[1], 'succ', 'retry')
	if r[1] == ARGV[5] and tonumber(r[2] or '0') > now and redis.call('HGET', KEYS[2], 'used') == '0' then
		return {'ok', t[1], f[3], f[4], f[5], f[1]}
	end
	redis.call('HSET', fk, 'revoked', '1')
	return {'reused'}
end
if tonumber(t[2]) <= now then return {'invalid'} end
redis.call('HSET', KEYS[1], 'used', ARGV[2], 'succ', ARGV[5], 'retry', ARGV[4])
local exp = math.min(tonumber(ARGV[3]), tonumber(f[1]))
redis.call('HSET', KEYS[2], 'fam', t[1], 'exp', string.format('%d', exp), 'used', '0')
redis.call('PEXPIREAT', KEYS[2], f[1])
return {'ok', t[1], f[3], f[4], f[5], f[1]}
`)

// familyScript returns {status, family id, subject, identity, created,
// expires} for the token KEYS[1] without touching it.
var familyScript = redis.NewScript(`
local now = tonumber(ARGV[2])
local fam = redis.call('HGET', KEYS[1], 'fam')
if not fam then return {'invalid'} end
local f = redis.call('HMGET', ARGV[1] .. 'f:' .. fam, 'exp', 'revoked', 'sub', 'ident', 'created')
if not f[1] or f[2] == '1' or tonumber(f[1]) <= now then return {'invalid'} end
return {'ok', fam, f[3], f[4], f[5], f[1]}
`)

// revokeScript revokes the family ARGV[2], or the family of token KEYS[1]
// when ARGV[2] is empty. It never creates a family key.
var revokeScript = redis.NewScript(`
local fam = ARGV[2]
if fam == '' then
	fam = redis.call('HGET', KEYS[1], 'fam')
	if not fam then return 0 end
end
local fk = ARGV[1] .. 'f:' .. fam
if redis.call('EXISTS', fk) == 1 then
	redis.call('HSET', fk, 'revoked', '1')
	return 1
end
return 0
`)

var revokeSubjectScript = redis.NewScript(`
local ids = redis.call('HKEYS', KEYS[1])
for _, id in ipairs(ids) do
	if id ~= '_max' then
		local fk = ARGV[1] .. 'f:' .. id
		if redis.call('EXISTS', fk) == 1 then
			redis.call('HSET', fk, 'revoked', '1')
		else
			redis.call('HDEL', KEYS[1], id)
		end
	end
end
local c = redis.call('HMGET', KEYS[2], 'at', 'keep')
if tonumber(ARGV[2]) > tonumber(c[1] or '0') then
	redis.call('HSET', KEYS[2], 'at', ARGV[2])
end
if tonumber(ARGV[3]) > tonumber(c[2] or '0') then
	redis.call('HSET', KEYS[2], 'keep', ARGV[3])
	redis.call('PEXPIREAT', KEYS[2], ARGV[3])
end
return 1
`)

// storedIdentity is the JSON kept with a family.
type storedIdentity struct {
	Roles  []string `json:"roles,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
	MAC    string   `json:"mac,omitempty"`
}

func hashKey(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }

func millis(t time.Time) int64 { return t.UnixMilli() }

// retryMillis is a rotation's retry deadline for the scripts: 0 for none.
func retryMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (s *Store) familyKey(id string) string { return s.prefix + "f:" + id }
func (s *Store) tokenKey(h [sha256.Size]byte) string {
	return s.prefix + "t:" + hashKey(h)
}
func (s *Store) subjectKey(sub string) string { return s.prefix + "s:" + sub }
func (s *Store) cutoffKey(sub string) string  { return s.prefix + "c:" + sub }
func (s *Store) jtiKey(jti string) string     { return s.prefix + "j:" + jti }

// CreateFamily implements Store.
func (s *Store) CreateFamily(ctx context.Context, f token.Family, t token.RefreshToken) error {
	ident, err := json.Marshal(storedIdentity{Roles: f.Roles, Scopes: f.Scopes, MAC: f.MAC})
	if err != nil {
		return fmt.Errorf("redisstore: encode family: %w", err)
	}
	keys := []string{s.familyKey(f.ID), s.tokenKey(t.Hash), s.subjectKey(f.Subject)}
	err = createScript.Run(ctx, s.rdb, keys, f.Subject, string(ident), millis(f.Created), millis(f.Expires),
		millis(minTime(t.Expires, f.Expires)), f.ID).Err()
	if err != nil {
		return fmt.Errorf("redisstore: create family: %w", err)
	}
	return nil
}

// Rotate implements Store.
func (s *Store) Rotate(ctx context.Context, old [sha256.Size]byte, next token.RefreshToken, now time.Time) (token.Family, error) {
	res, err := rotateScript.Run(ctx, s.rdb, []string{s.tokenKey(old), s.tokenKey(next.Hash)},
		s.prefix, millis(now), millis(next.Expires), retryMillis(next.RetryUntil), hashKey(next.Hash)).StringSlice()
	if err != nil {
		return token.Family{}, fmt.Errorf("redisstore: rotate: %w", err)
	}
	return familyOf(res, "rotate")
}

// Family implements Store.
func (s *Store) Family(ctx context.Context, h [sha256.Size]byte, now time.Time) (token.Family, error) {
	res, err := familyScript.Run(ctx, s.rdb, []string{s.tokenKey(h)}, s.prefix, millis(now)).StringSlice()
	if err != nil {
		return token.Family{}, fmt.Errorf("redisstore: family: %w", err)
	}
	return familyOf(res, "family")
}

// familyOf decodes the reply of rotateScript or familyScript.
func familyOf(res []string, op string) (token.Family, error) {
	switch {
	case len(res) == 1 && res[0] == "invalid":
		return token.Family{}, token.ErrInvalidRefresh
	case len(res) == 1 && res[0] == "reused":
		return token.Family{}, token.ErrRefreshReused
	case len(res) != 6 || res[0] != "ok":
		return token.Family{}, fmt.Errorf("redisstore: %s: unexpected reply from redis (%d values)", op, len(res))
	}
	var si storedIdentity
	if err := json.Unmarshal([]byte(res[3]), &si); err != nil {
		return token.Family{}, fmt.Errorf("redisstore: %s: stored identity: %w", op, err)
	}
	created, err1 := strconv.ParseInt(res[4], 10, 64)
	expires, err2 := strconv.ParseInt(res[5], 10, 64)
	if err1 != nil || err2 != nil {
		return token.Family{}, fmt.Errorf("redisstore: %s: stored family times are not integers", op)
	}
	return token.Family{ID: res[1], Subject: res[2], Roles: si.Roles, Scopes: si.Scopes, MAC: si.MAC,
		Created: time.UnixMilli(created), Expires: time.UnixMilli(expires)}, nil
}

// RevokeToken implements Store.
func (s *Store) RevokeToken(ctx context.Context, h [sha256.Size]byte, _ time.Time) error {
	if err := revokeScript.Run(ctx, s.rdb, []string{s.tokenKey(h)}, s.prefix, "").Err(); err != nil {
		return fmt.Errorf("redisstore: revoke: %w", err)
	}
	return nil
}

// RevokeFamily implements Store.
func (s *Store) RevokeFamily(ctx context.Context, id string, _ time.Time) error {
	if id == "" {
		return nil
	}
	if err := revokeScript.Run(ctx, s.rdb, []string{s.familyKey(id)}, s.prefix, id).Err(); err != nil {
		return fmt.Errorf("redisstore: revoke family: %w", err)
	}
	return nil
}

// RevokeSubject implements Store.
func (s *Store) RevokeSubject(ctx context.Context, subject string, now, keepUntil time.Time) error {
	err := revokeSubjectScript.Run(ctx, s.rdb, []string{s.subjectKey(subject), s.cutoffKey(subject)},
		s.prefix, millis(now), millis(keepUntil)).Err()
	if err != nil {
		return fmt.Errorf("redisstore: revoke subject: %w", err)
	}
	return nil
}

// RevokeJTI implements Store.
func (s *Store) RevokeJTI(ctx context.Context, jti string, until time.Time) error {
	if err := s.rdb.SetArgs(ctx, s.jtiKey(jti), "1", redis.SetArgs{ExpireAt: until}).Err(); err != nil {
		return fmt.Errorf("redisstore: revoke access token: %w", err)
	}
	return nil
}

// AccessRevoked implements Store.
func (s *Store) AccessRevoked(ctx context.Context, jti, subject string, issuedAt time.Time) (bool, error) {
	pipe := s.rdb.Pipeline()
	exists := pipe.Exists(ctx, s.jtiKey(jti))
	cut := pipe.HGet(ctx, s.cutoffKey(subject), "at")
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("redisstore: revocation lookup: %w", err)
	}
	if exists.Val() > 0 {
		return true, nil
	}
	if cut.Err() == nil {
		at, err := strconv.ParseInt(cut.Val(), 10, 64)
		if err != nil {
			// A cut-off we cannot read is treated as "revoked": failing
			// closed costs the user a login, failing open could keep a
			// stolen token alive.
			return true, nil
		}
		return millis(issuedAt) <= at, nil
	}
	return false, nil
}
