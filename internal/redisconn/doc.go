// Package redisconn opens Redis clients with the timeouts Rampart's stores
// rely on: every call bounded, no silent retries, no unbounded waits for a
// pooled connection.
//
// # Security considerations
//
// A Redis URL may carry a password, so errors never repeat the URL.
//
// # Concurrency
//
// The returned client is safe for concurrent use.
package redisconn
