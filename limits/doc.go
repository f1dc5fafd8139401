// Package limits bounds how much of a server one client, and all clients
// together, can hold at once: connections per client address, requests in
// flight per client, requests in flight overall (with a short, bounded
// queue), and the rate at which one HTTP/2 connection may reset its streams.
//
// Rate limits count requests per period; they do not stop a client that
// opens thousands of idle connections (slowloris is bounded per connection
// by a header timeout, not in number), that keeps hundreds of slow requests
// running at once, or that opens and cancels HTTP/2 streams faster than the
// server notices (rapid reset, CVE-2023-44487). Each of those lets one
// client starve the others and flood the application behind the server.
// The anchors are nginx's limit_conn, HAProxy's maxconn with its queue and
// Envoy's overload manager.
//
// The parts can be used alone or together:
//
//   - Listener wraps a net.Listener and closes connections over a client
//     address's limit as they are accepted, so they never reach the server.
//   - Limiter is HTTP middleware: requests over their client's in-flight
//     limit get 429 with Retry-After; requests over the global limit wait in
//     a short FIFO queue and get 503 with Retry-After when it is full or the
//     wait times out.
//   - Gate is the semaphore with a bounded queue that Limiter uses, for other
//     resources such as one upstream application.
//   - ResetGuard counts the streams a client resets on each HTTP/2
//     connection and, past its budget, refuses the connection's remaining
//     requests and closes it with GOAWAY. Its Handler also makes sure a
//     request whose client is already gone does no further work.
//
// # Clients
//
// A client is an address: IPv4 addresses as they are, IPv6 addresses by
// their /64 prefix (ClientKey), because one subscriber commonly holds a
// whole /64 and could otherwise open a fresh address for every connection.
// Connections are counted per TCP peer, since nothing else is known when a
// connection is accepted; peers that carry many clients' connections (the
// trusted proxies of a load balancer) should be exempted through
// ConnConfig.Limit. Requests are counted per client address as the
// Limiter's ClientIP function resolves it.
//
// # Security considerations
//
// Every limit fails closed: a refused connection is closed at once (with a
// reset, so it leaves no TIME_WAIT state behind on the server), a refused
// request gets a neutral problem response written by package problem. The
// per-client counters hold one entry per client with something in flight,
// deleted when its count returns to zero; their size is therefore bounded by
// the connections and requests the other limits allow, and a flood of
// distinct addresses cannot grow them beyond that. Counters are sharded by
// a keyed hash with a per-process random seed, so a client cannot choose
// addresses that all land in one shard.
//
// A queue wait is bounded by its length and its timeout, and a request
// whose client disconnects leaves the queue at once. A request whose
// client is gone when it reaches a guarded point is not started: the
// HTTP/2 rapid-reset attack then costs the server a little work and the
// application none.
//
// # Concurrency
//
// Every type is safe for concurrent use. Counters, gates and reset budgets
// may be shared between Limiters (State), so a reconfigured server keeps
// counting what the old configuration admitted.
//
// See RFC 9113 section 6.8 (GOAWAY) and RFC 9110 section 10.2.3
// (Retry-After).
package limits
