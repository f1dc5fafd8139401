// Package redisstore keeps rate limit counters in Redis, so that every
// replica of a service enforces one limit together.
//
// Each decision is one round trip: a Lua script (EVALSHA, falling back to
// EVAL after a server restart) reads, decides and writes every quota of one
// key atomically, mirroring ratelimit.Decide operation for operation. The
// counters of one key share a hash tag ({identity}), so the script's keys
// always hash to one slot and it runs unchanged on Redis Cluster.
//
// # Security considerations
//
// Every call is bounded by Config.Timeout and is not retried: a slow or
// dead Redis becomes an error quickly, and the Limiter applies its failure
// policy. Keys hold no secrets: API keys arrive already hashed from the
// Limiter. Counters expire when they no longer matter, so Redis memory is
// bounded by the number of active clients. Errors never repeat the URL,
// which may carry a password.
//
// Decisions use the time the caller passes; replicas must keep their
// clocks in sync (NTP), or set Config.ServerClock to use Redis's clock.
//
// # Concurrency
//
// A Store is safe for concurrent use.
package redisstore
