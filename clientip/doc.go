// Package clientip decides which IP address a request really comes from,
// believing forwarding headers only from proxies the operator trusts.
//
// Every IP-based decision — allow-lists, rate limits, login protection, logs
// — depends on this one answer, so all of Rampart's policies share one
// Resolver. Trusting X-Forwarded-For from anyone lets a client pick its own
// address and walk past an allow-list or get a fresh rate-limit budget per
// request; this package exists to make that impossible.
//
// # The algorithm
//
//  1. The TCP peer (RemoteAddr) is the starting point.
//  2. If the peer is not in TrustedProxies, it is the client. Forwarding
//     headers are ignored entirely.
//  3. Otherwise the configured header (X-Forwarded-For by default, or
//     Forwarded, or X-Real-IP) is read from the right: each entry was
//     appended by the hop to its right. Entries that are trusted proxies are
//     skipped; the first untrusted address is the client.
//  4. If an entry that must be examined cannot be parsed (garbage,
//     "unknown", an obfuscated identifier), the whole header is malformed
//     and the client is unknown: the zero netip.Addr, on which every
//     allow-list fails closed. Falling back to the proxy's own address
//     instead would let a client behind a proxy that sits in an allowed
//     range borrow that range by sending garbage.
//  5. At most MaxHops entries are examined; needing more makes the client
//     unknown. If every entry is trusted, the left-most one is the client
//     (a request that originated inside the trusted network).
//  6. With no header at all, the trusted peer itself is the client.
//
// Several lines of the same header are read as one comma-separated list, in
// order. Only the configured header is read: a client who adds a different
// forwarding header cannot influence the result. X-Real-IP is believed only
// as a single, well-formed value; two values, or a malformed one, make the
// client unknown. A Forwarded header that does not parse as RFC 7239 makes
// the client unknown.
//
// Addresses are normalised with net/netip: IPv4-mapped IPv6 becomes IPv4,
// zones are dropped, ports are removed.
//
// # Security considerations
//
// Trusting a CIDR means trusting everyone who can send packets from it. Keep
// TrustedProxies to the load balancers actually in front of Rampart; never
// 0.0.0.0/0. A resolver never returns an address that appears only to the
// left of an untrusted hop.
//
// # Concurrency
//
// A Resolver is immutable after New and safe for concurrent use.
//
// References: RFC 7239 (Forwarded), https://www.rfc-editor.org/rfc/rfc7239;
// MDN on X-Forwarded-For's security and privacy concerns.
package clientip
