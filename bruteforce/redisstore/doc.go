// Package redisstore keeps login protection counters in Redis, so that
// every replica counts the same attempts.
//
// Each step is a Lua script that reads, decides and writes atomically,
// mirroring the reference functions of package bruteforce. An attempt
// takes two round trips (the client address's counter, then the account's
// two counters, which share a hash tag and so one Redis Cluster slot); a
// success takes two; logins are rare enough that clarity wins here.
//
// # Security considerations
//
// Every call is bounded by Config.Timeout and never retried. Keys hold
// hashes of account names, never the names. Counters expire once nothing
// in them matters. Errors never repeat the URL.
//
// # Concurrency
//
// A Store is safe for concurrent use.
package redisstore
