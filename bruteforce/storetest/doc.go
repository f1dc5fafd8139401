// Package storetest is the conformance suite every bruteforce.Store must
// pass, run through a Protector so that it checks the behaviour users see:
// the in-memory store and the Redis store run the same tests.
//
// # Security considerations
//
// The suite plays the attacks the package stops: guessing, spraying,
// distributed lockout of an owner, concurrent guesses racing one check.
//
// # Concurrency
//
// Run starts parallel subtests, each with its own store from open.
package storetest
