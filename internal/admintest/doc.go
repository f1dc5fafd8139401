// Package admintest is a stand-in for the admin API of a running gateway —
// /stats, /events, /events/stream, /login-locks, /session — for tests of
// the programs that read it: the dashboard page and `rampart top`. It
// implements the JSON shapes those programs rely on, keeps its state in
// memory, and records the requests it gets so a test can assert what a
// client sent.
//
// # Security considerations
//
// It is for tests only. Its session cookie is a random value per API and
// its checks compare in constant time, but it has no expiry, no rate limit
// and no TLS: it stands in for the gateway's admin listener, it is not one.
//
// # Concurrency
//
// An API is safe for concurrent use.
package admintest
