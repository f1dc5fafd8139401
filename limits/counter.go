package limits

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
)

// ClientKey returns the address that stands for a's client: an IPv4
// address (or an IPv4-mapped IPv6 address) as it is, an IPv6 address masked
// to its /64 prefix, without a zone. The zero Addr stays zero.
func ClientKey(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return a
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a
	}
	return p.Addr()
}

// counterShards is the number of shards of a Counter; a power of two.
const counterShards = 64

// Counter counts what each client holds (connections, requests in flight)
// and refuses a client at its limit. Keys are client addresses, normally
// from ClientKey. An entry exists only while its count is positive. The
// zero value is not usable; call NewCounter. A Counter is safe for
// concurrent use.
type Counter struct {
	seed   maphash.Seed
	total  atomic.Int64
	shards [counterShards]counterShard
}

type counterShard struct {
	mu sync.Mutex
	m  map[netip.Addr]int32
	_  [40]byte // keep neighbouring shards' locks off one cache line
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter {
	c := &Counter{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[netip.Addr]int32)
	}
	return c
}

func (c *Counter) shard(k netip.Addr) *counterShard {
	b := k.As16()
	return &c.shards[maphash.Bytes(c.seed, b[:])&(counterShards-1)]
}

// Acquire counts one more for key k and reports true, unless k already
// holds max or more, in which case it counts nothing and reports false. A
// max of zero or less means no limit (k is still counted). Each true result
// must be matched by one Release.
func (c *Counter) Acquire(k netip.Addr, max int) bool {
	sh := c.shard(k)
	sh.mu.Lock()
	n := sh.m[k]
	if max > 0 && int(n) >= max {
		sh.mu.Unlock()
		return false
	}
	sh.m[k] = n + 1
	sh.mu.Unlock()
	c.total.Add(1)
	return true
}

// Release gives back one count of k taken by Acquire.
func (c *Counter) Release(k netip.Addr) {
	sh := c.shard(k)
	sh.mu.Lock()
	switch n := sh.m[k]; {
	case n > 1:
		sh.m[k] = n - 1
	case n == 1:
		delete(sh.m, k)
	default:
		// A Release without its Acquire: nothing to give back. Counting
		// below zero would hand the client free capacity.
		sh.mu.Unlock()
		return
	}
	sh.mu.Unlock()
	c.total.Add(-1)
}

// Count returns what k holds now.
func (c *Counter) Count(k netip.Addr) int {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return int(sh.m[k])
}

// Total returns what all clients hold together.
func (c *Counter) Total() int { return int(c.total.Load()) }

// Clients returns how many clients hold something.
func (c *Counter) Clients() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
