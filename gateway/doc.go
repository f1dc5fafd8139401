// Package gateway turns a configuration into a running security gateway: it
// builds every policy once, chains them per route, and proxies what passes to
// the upstream application.
//
// The request path is:
//
//	client ─▶ listener (timeouts, size limits)
//	       ─▶ request id · client IP (trusted proxies)
//	       ─▶ route match (URL allow-list) ─▶ route policies
//	       ─▶ reverse proxy ─▶ upstream app
//
// Each policy lives in its own package and is usable without this one; the
// gateway is only the composition. It also owns the lifecycle (graceful
// shutdown, atomic reload), the admin listener (metrics, health, readiness)
// and the access log.
//
// # Security considerations
//
// Forwarding headers (X-Forwarded-For, -Proto, -Host, Forwarded, X-Real-IP)
// are always set by the gateway: a client's copies are believed only when the
// TCP peer is a trusted proxy, and even then the upstream receives only the
// resolved client address, never a client-written chain. Upgrade requests
// are passed only for WebSocket; any other Upgrade value (such as h2c, which
// can smuggle requests past a proxy's checks) is stripped. TRACE and CONNECT
// are refused. Hop-by-hop headers are removed. Errors from the upstream
// connection are answered with a neutral 502/504 carrying only an incident
// id; the cause goes to the log. A panic anywhere in the chain is recovered
// into a neutral 500.
//
// When routes are configured, anything that matches none of them is refused
// with a neutral 404 (or 405 with Allow): nothing undeclared reaches the
// upstream.
//
// # Concurrency
//
// A Gateway is safe for concurrent use. Reload builds a complete new chain
// and swaps it in atomically; requests in flight finish on the chain they
// started with, which is closed once they are done.
package gateway
