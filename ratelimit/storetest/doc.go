// Package storetest is the conformance suite every ratelimit.Store must
// pass: the in-memory store and the Redis store run the same tests, so that
// a limit means the same thing on both.
//
// # Security considerations
//
// The suite includes the properties a limiter's security rests on: exact
// counts under concurrency, all-or-nothing decisions, and agreement with
// ratelimit.Decide to the microsecond.
//
// # Concurrency
//
// Run starts parallel subtests; the store opened for each must be private
// to it or at least use keys no other test uses (each subtest uses its own).
package storetest
