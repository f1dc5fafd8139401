// Package redisstore keeps Rampart's refresh tokens and access-token
// revocations in Redis, so that gateway replicas share them. It implements
// token.Store on github.com/redis/go-redis/v9.
//
// The threat is a race between replicas and a copy of the data. Every
// operation that reads and writes is one Lua script, atomic on the server:
// two replicas exchanging the same refresh token at once cannot both
// succeed; the loser revokes the family. Only the SHA-256 of each refresh
// token is stored. Every key expires with its family (or, for revocation
// records, when the access tokens they cover have expired), so Redis needs
// no cleanup job.
//
// # Security considerations
//
// The scripts touch keys derived inside the script, which Redis Cluster
// does not allow: use one Redis server, optionally behind Sentinel, version
// 6.2 or later. Protect it like the user database: whoever can write to it
// can revoke or resurrect sessions. Connection failures are returned as
// errors, so callers fail closed.
//
// # Concurrency
//
// A Store is safe for concurrent use by many goroutines and processes.
//
// See package storetest for the contract every store passes.
package redisstore
