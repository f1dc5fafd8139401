package shardmap

import (
	"hash/maphash"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// sweepSample is how many entries an insertion inspects for expiry.
const sweepSample = 2

// evictSample is how many entries an insertion into a full shard inspects to
// choose a victim.
const evictSample = 8

// Map is a sharded map from string-hashed keys K to values V with expiry.
type Map[K comparable, V any] struct {
	shards    []Shard[K, V]
	mask      uint64
	seed      maphash.Seed
	evictions atomic.Uint64
}

// Shard is one lock-protected part of a Map.
type Shard[K comparable, V any] struct {
	mu       sync.Mutex
	m        map[K]*Entry[V]
	capacity int
	parent   *Map[K, V]
	_        [32]byte // keep neighbouring shards' locks off one cache line
}

// Entry is one stored value and its expiry. Holders of the shard's lock may
// change both in place.
type Entry[V any] struct {
	V V
	// Exp is the instant (in the caller's unit) from which the entry is
	// expired and may be deleted.
	Exp int64
}

// New returns a Map holding at most capacity entries (at least one per
// shard). shards is rounded up to a power of two; 0 picks a count from
// GOMAXPROCS.
func New[K comparable, V any](capacity, shards int) *Map[K, V] {
	if shards <= 0 {
		shards = 16 * runtime.GOMAXPROCS(0)
	}
	shards = 1 << bits.Len(uint(shards-1))
	per := max(1, capacity/shards)
	m := &Map[K, V]{shards: make([]Shard[K, V], shards), mask: uint64(shards - 1), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = make(map[K]*Entry[V])
		m.shards[i].capacity = per
		m.shards[i].parent = m
	}
	return m
}

// Index returns the index of the shard that holds key s.
func (m *Map[K, V]) Index(s string) int {
	return int(maphash.String(m.seed, s) & m.mask)
}

// Lock locks and returns shard i.
func (m *Map[K, V]) Lock(i int) *Shard[K, V] {
	sh := &m.shards[i]
	sh.mu.Lock()
	return sh
}

// LockPair locks shards i and j in ascending order (once when i == j), so
// that callers locking two shards never deadlock, and returns them.
func (m *Map[K, V]) LockPair(i, j int) (*Shard[K, V], *Shard[K, V]) {
	if i == j {
		sh := m.Lock(i)
		return sh, sh
	}
	if i < j {
		a := m.Lock(i)
		return a, m.Lock(j)
	}
	b := m.Lock(j)
	return m.Lock(i), b
}

// UnlockPair unlocks shards returned by LockPair.
func UnlockPair[K comparable, V any](a, b *Shard[K, V]) {
	a.Unlock()
	if b != a {
		b.Unlock()
	}
}

// Len returns the number of entries, expired ones included.
func (m *Map[K, V]) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// Evictions returns how many unexpired entries were evicted to make room.
func (m *Map[K, V]) Evictions() uint64 {
	return m.evictions.Load()
}

// Unlock unlocks the shard.
func (s *Shard[K, V]) Unlock() {
	s.mu.Unlock()
}

// Lookup returns the entry stored under k, or nil. The entry may have
// expired; callers compare Exp with the current time.
func (s *Shard[K, V]) Lookup(k K) *Entry[V] {
	return s.m[k]
}

// Get returns the value stored under k if it has not expired at now.
func (s *Shard[K, V]) Get(k K, now int64) (V, bool) {
	e := s.m[k]
	if e == nil || e.Exp <= now {
		var zero V
		return zero, false
	}
	return e.V, true
}

// Put stores v under k until exp, in place when k is present.
func (s *Shard[K, V]) Put(k K, v V, exp, now int64) {
	if e := s.m[k]; e != nil {
		e.V, e.Exp = v, exp
		return
	}
	s.Insert(k, &Entry[V]{V: v, Exp: exp}, now)
}

// Insert stores e under k, which must be absent. Inserting may delete
// expired entries and, when the shard is full, evict the entry expiring
// soonest.
func (s *Shard[K, V]) Insert(k K, e *Entry[V], now int64) {
	s.sweep(now, sweepSample)
	if len(s.m) >= s.capacity {
		s.sweep(now, evictSample)
	}
	if len(s.m) >= s.capacity {
		s.evict()
	}
	s.m[k] = e
}

// Delete removes k.
func (s *Shard[K, V]) Delete(k K) {
	delete(s.m, k)
}

// sweep inspects up to n entries from a random position and deletes the
// expired ones. Go randomises the start of every map iteration, so repeated
// sweeps cover the whole shard over time.
func (s *Shard[K, V]) sweep(now int64, n int) {
	for k, e := range s.m {
		if e.Exp <= now {
			delete(s.m, k)
		}
		n--
		if n == 0 {
			return
		}
	}
}

// evict deletes the sampled entry that expires soonest.
func (s *Shard[K, V]) evict() {
	var victim K
	found := false
	var soonest int64
	n := evictSample
	for k, e := range s.m {
		if !found || e.Exp < soonest {
			victim, soonest, found = k, e.Exp, true
		}
		n--
		if n == 0 {
			break
		}
	}
	if found {
		delete(s.m, victim)
		s.parent.evictions.Add(1)
	}
}

// Shards returns the number of shards, for Range over all of them with
// Lock(i).
func (m *Map[K, V]) Shards() int { return len(m.shards) }

// Range calls fn for every entry of the locked shard until fn returns
// false. fn may change the entry in place but must not insert or delete.
func (s *Shard[K, V]) Range(fn func(k K, e *Entry[V]) bool) {
	for k, e := range s.m {
		if !fn(k, e) {
			return
		}
	}
}
