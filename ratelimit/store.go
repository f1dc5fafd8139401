package ratelimit

import (
	"context"
	"errors"
	"time"

	"github.com/rampartsec/rampart/internal/shardmap"
)

// Store keeps the counters of a Limiter. Implementations must be safe for
// concurrent use.
type Store interface {
	// Take decides, atomically, whether n units may be taken from every
	// quota in qs for key at now, and takes them from all of them only if
	// every quota allows it. It writes one Result per quota into res, which
	// has len(qs) elements. A refused request takes nothing.
	//
	// Take returns an error only when the store itself failed (unreachable,
	// timed out); the Limiter then applies each rule's failure policy. It
	// never returns an error for a refusal.
	Take(ctx context.Context, key string, qs []Quota, now time.Time, n int64, res []Result) error
}

// DefaultMaxKeys is the default capacity of a MemoryStore.
const DefaultMaxKeys = 1_000_000

// MemoryConfig configures a MemoryStore.
type MemoryConfig struct {
	// MaxKeys bounds the number of counters kept; at capacity, inserting a
	// new one evicts a counter close to expiry. Default 1,000,000 (about
	// 100 MB at the measured size per key, see docs/ratelimit.md).
	MaxKeys int
	// Shards is the number of independently locked parts, rounded up to a
	// power of two. Default 16 × GOMAXPROCS.
	Shards int
}

// MemoryStore is the embedded Store: exact, sharded and bounded. It is safe
// for concurrent use. Counters live in this process only, so replicas each
// count separately; use a shared store (package redisstore) for a limit
// that holds across replicas.
type MemoryStore struct {
	m *shardmap.Map[string, bucket]
}

// bucket holds the states of every quota of one key. Most keys have one
// quota, kept inline; a map lookup per decision is the main cost, so there
// is one per key, not one per quota.
type bucket struct {
	first slot
	more  []slot
}

type slot struct {
	id  string
	st  State
	exp int64
}

func (b *bucket) find(id string) *slot {
	if b.first.id == id {
		return &b.first
	}
	for i := range b.more {
		if b.more[i].id == id {
			return &b.more[i]
		}
	}
	return nil
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(c MemoryConfig) (*MemoryStore, error) {
	switch {
	case c.MaxKeys < 0:
		return nil, errors.New("ratelimit: max keys must not be negative")
	case c.Shards < 0:
		return nil, errors.New("ratelimit: shards must not be negative")
	}
	if c.MaxKeys == 0 {
		c.MaxKeys = DefaultMaxKeys
	}
	return &MemoryStore{m: shardmap.New[string, bucket](c.MaxKeys, c.Shards)}, nil
}

var _ Store = (*MemoryStore)(nil)

// Take implements Store. It never returns an error.
func (s *MemoryStore) Take(_ context.Context, key string, qs []Quota, now time.Time, n int64, res []Result) error {
	us := now.UnixMicro()
	sh := s.m.Lock(s.m.Index(key))
	defer sh.Unlock()
	e := sh.Lookup(key)
	var b *bucket
	if e != nil {
		b = &e.V
	}
	// Few quotas apply to one key; keep their states on the stack.
	var buf [8]pending
	batch := buf[:0]
	allowed := true
	for i := range qs {
		q := &qs[i]
		var st State
		found := false
		if b != nil {
			if sl := b.find(q.ID); sl != nil && sl.exp > us {
				st, found = sl.st, true
			}
		}
		next, exp, write, r := Decide(q, st, found, us, n)
		res[i] = r
		allowed = allowed && r.Allowed
		batch = append(batch, pending{st, found, next, exp, write})
	}
	if !allowed {
		// All or nothing: a refused request takes nothing, so the quotas
		// that would have allowed it report their untouched state.
		for i := range res {
			if res[i].Allowed {
				_, _, _, res[i] = Decide(&qs[i], batch[i].old, batch[i].found, us, 0)
				res[i].Allowed = false
			}
		}
		return nil
	}
	if e == nil {
		e = &shardmap.Entry[bucket]{}
		sh.Insert(key, e, us)
		b = &e.V
	}
	for i, p := range batch {
		if !p.write {
			continue
		}
		sl := b.find(qs[i].ID)
		if sl == nil {
			if b.first.id == "" || b.first.exp <= us {
				sl = &b.first
			} else {
				b.more = append(b.more, slot{})
				sl = &b.more[len(b.more)-1]
			}
			sl.id = qs[i].ID
		}
		sl.st, sl.exp = p.next, p.exp
		e.Exp = max(e.Exp, p.exp)
	}
	return nil
}

type pending struct {
	old   State
	found bool
	next  State
	exp   int64
	write bool
}

// Len returns the number of counters held, expired ones not yet removed
// included.
func (s *MemoryStore) Len() int { return s.m.Len() }

// Evictions returns how many live counters were evicted because the store
// was full. A growing number means MaxKeys is too small for the traffic, or
// that someone is flooding the limiter with unique keys.
func (s *MemoryStore) Evictions() uint64 { return s.m.Evictions() }
