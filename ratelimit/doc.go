// Package ratelimit limits how often a client may call an HTTP service, by
// client IP, authenticated user, API key, route or a combination, in memory
// or across replicas through a shared store.
//
// The threat is abuse by volume: credential stuffing, scraping, enumeration,
// and denial of service by expensive requests. A Limiter applies a list of
// Rules to every request; each rule counts the requests of one key (say,
// the client IP) and refuses those over its limit with 429 Too Many
// Requests, a Retry-After field and the RateLimit fields of the IETF draft.
//
// # Algorithms
//
// GCRA (the default) is a token bucket kept as a single timestamp, the
// theoretical arrival time of the next request: Limit requests per Per on
// average, up to Burst at once. SlidingWindow counts requests in fixed
// windows of length Per and weighs the previous window by its overlap with
// the sliding window that ends now, so that a client cannot double its rate
// by straddling a window boundary.
//
// Several rules apply to one request (10 per second with a burst of 20 and
// 1000 per hour, say). Rules with the same key are decided atomically
// together: a request refused by one takes nothing from the others. Rules
// with different keys are decided one key after another, and a refusal
// stops the rest.
//
// Decide is the reference semantics; every Store must agree with it exactly,
// which package storetest checks against the in-memory and Redis stores.
//
// # Keys
//
// "ip" is the client address from a clientip.Resolver, which believes
// forwarding headers only from trusted proxies; IPv6 addresses are grouped
// by a /64 prefix by default, because a single subscriber holds a whole /64.
// "user" is the authenticated user; anonymous requests count by IP.
// "header:NAME" counts by the value of a header such as an API key, which is
// hashed (SHA-256) before it reaches any store; a missing or repeated header
// counts by IP. "route" counts by the matched route pattern.
//
// # Security considerations
//
// A limit is only as good as its key. Keys derived from anything a client
// can vary freely (an unverified API key, a spoofed X-Forwarded-For) give
// an attacker a fresh budget per variation, so: client IPs come only from
// the trusted-proxy resolver; header keys should be paired with an "ip"
// rule; and unknown or unparseable peers share one budget.
//
// The in-memory store is bounded (MemoryConfig.MaxKeys): a flood of unique
// keys evicts the counters closest to expiry instead of exhausting memory,
// and Evictions counts them.
//
// When the shared store fails, each rule follows its OnStoreError policy:
// fail_open (the default for rate limits) decides with a local in-memory
// store, so limits still hold per replica; fail_closed refuses with 503.
// After a failure the Limiter skips the store for RetryStoreAfter, then
// tries again, logging the outage and the recovery once each.
//
// # Concurrency
//
// Limiter and MemoryStore are safe for concurrent use. The memory store is
// sharded by key so that cores do not contend on one lock, and it is exact:
// N goroutines hammering one key get exactly the allowed count through.
//
// Specifications: draft-ietf-httpapi-ratelimit-headers (RateLimit and
// RateLimit-Policy fields), https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/;
// RFC 9110 section 10.2.3 (Retry-After); RFC 6585 section 4 (429); GCRA as
// in ITU-T I.371.
//
// # In a stack
//
// Stacked by hand, this package is layer 6 of 9 from the outside in (see
// package stack and docs/go.md): after CORS, before authentication, CSRF and
// validation: counted before the expensive work. stack.Parts builds the
// order for you.
package ratelimit
