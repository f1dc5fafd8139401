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
//  4. If an entry cannot be parsed (garbage, "unknown", an obfuscated
//     identifier), the walk stops and the client is the last trusted hop
//     that was reached: that hop is the best-known origin, and an attacker
//     cannot use garbage to choose an address.
//  5. At most MaxHops entries are examined. If every examined entry is
//     trusted, the left-most examined one is the client.
//
// Several lines of the same header are read as one comma-separated list, in
// order. Only the configured header is read: a client who adds a different
// forwarding header cannot influence the result. X-Real-IP is believed only
// as a single, well-formed value.
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
