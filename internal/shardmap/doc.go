// Package shardmap is a sharded, size-bounded map whose entries carry an
// expiry, for the in-memory stores of the rate limiter and the login
// protection.
//
// A flood of unique keys must not exhaust memory, so every Map has a fixed
// capacity. Expired entries are removed lazily: each insertion of a new key
// looks at a few entries and deletes the expired ones, and an insertion into
// a full shard evicts the sampled entry that expires soonest (the one whose
// loss forgets the least). Evictions are counted so operators can see when
// the capacity is too small.
//
// # Security considerations
//
// Keys are hashed with a per-Map random seed (hash/maphash), so a client
// cannot choose keys that all land in one shard.
//
// # Concurrency
//
// A Map is safe for concurrent use. Callers lock one shard at a time with
// Lock, or several in ascending index order; the shard index depends only
// on the key's hash, so contention is limited to keys in the same shard.
package shardmap
