// Package sqlstore keeps Rampart's refresh tokens and access-token
// revocations in SQL: SQLite, the embedded default that needs nothing
// installed, or PostgreSQL for replicas that share a database. It
// implements token.Store.
//
// The threat is a copy of the database, or a race between replicas. Only
// the SHA-256 of each refresh token is stored, so a leaked table holds no
// usable token. Rotation runs in one transaction whose conditional UPDATE
// claims the presented token: of two concurrent exchanges, on one process
// or many, exactly one succeeds and the other revokes the family.
//
// Schema migrations are applied by New through package sqldb, safely when
// several replicas start at once. Expired families (their tokens with them)
// and expired revocation records are deleted at most once an hour, as new
// families are created; no goroutine is started.
//
// # Security considerations
//
// A used refresh token is kept until its family expires, so that replaying
// it is recognised as reuse. Times are stored as Unix milliseconds. Store
// failures are returned as errors (wrapped), never as "invalid token", so
// callers fail closed and log them.
//
// # Concurrency
//
// A Store is safe for concurrent use by many goroutines and processes.
//
// See package storetest for the contract every store passes, and RFC 9700,
// section 4.14.2, for refresh token rotation.
package sqlstore
