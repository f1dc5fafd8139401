// Package access decides who may reach an application: CIDR allow and deny
// lists for the client address, globally and per route, and an allow-list
// of Host names.
//
// IP lists keep a private application (an admin area, internal hooks, a
// health check) away from the internet even when its own authentication
// fails. The Host allow-list defeats DNS rebinding — a hostile page whose
// name is made to resolve to the application's address, so the browser
// sends the attacker's name in Host — and Host-header attacks such as
// poisoned password-reset links and cache keys.
//
// # Decisions
//
// The client address comes from a clientip.Resolver: the TCP peer, or,
// when the peer is a trusted proxy, the right-most untrusted address of the
// configured forwarding header (see package clientip). Then:
//
//  1. An address in a deny list is refused (403), whatever the allow list
//     says: deny wins.
//  2. If an allow list is configured, an address outside it is refused
//     (403). An empty allow list allows every address.
//  3. If any list is configured and the client address is unknown (the
//     peer address did not parse), the request is refused (403).
//  4. If a Host allow-list is configured, a missing or malformed Host is
//     refused with 400 and a well-formed but unlisted one with 421
//     Misdirected Request.
//
// A route's lists (Policy.Route) are checked in the route, after the global
// policy: a route can only narrow who may reach it, never widen it.
//
// IP lists are compiled once into sorted, merged ranges; a decision is a
// binary search that does not allocate. IPv4-mapped IPv6 addresses count as
// IPv4 in lists and in lookups.
//
// # Hosts
//
// Host is r.Host: the Host header, or HTTP/2's :authority. For an
// absolute-form request line ("GET http://other/ HTTP/1.1") net/http takes
// the host from the target and drops the Host header; package canonical
// refuses such targets with 400 before this policy runs, so the two can
// never disagree.
//
// Matching ignores the port and ASCII case and a single trailing dot. IPv6
// literals must be bracketed and are compared as addresses ("[::1]" and
// "[0:0::1]" are one host). Userinfo ("app.example.com@evil"), zones,
// percent-encoding, non-ASCII bytes, empty or out-of-range ports, and
// numeric names that are not dotted-quad IPv4 ("127.1", "2130706433") are
// malformed. Browsers send internationalised names as punycode A-labels;
// list entries written in Unicode are converted to A-labels with IDNA
// (UTS #46), and punycode entries are validated the same way. "*.name"
// matches every subdomain of name, at any depth, but not name itself nor
// names that merely end with it ("evilname").
//
// When a Host allow-list is configured, Handler rewrites an allowed
// request's Host to its canonical form, so the application receives exactly
// the host that was checked.
//
// # Security considerations
//
// Every uncertain branch fails closed: an unknown client address is refused
// when any list exists; an unparseable Host is refused when a Host list
// exists; an IP list file that lists nothing makes New fail rather than
// allow everyone. Forwarding headers are believed only from trusted
// proxies, so a client cannot choose its own address; keep
// trusted_proxies to the load balancers in front of Rampart. Refusals
// carry no detail: the reason goes to OnDecision (metrics, logs), the
// client sees a neutral problem document.
//
// URL allow-lists are only safe over canonical paths: run
// canonical.Handler before this policy and before the router.
//
// # Concurrency
//
// A Policy and an IPSet are immutable after construction and safe for
// concurrent use. Reloading means building a new Policy.
//
// References: RFC 9110 §7.2 (Host and :authority) and §15.5.20 (421),
// https://www.rfc-editor.org/rfc/rfc9110; RFC 4632 (CIDR); UTS #46
// (IDNA compatibility processing); OWASP Web Security Testing Guide,
// "Testing for Host Header Injection".
//
// # In a stack
//
// Stacked by hand, this package is layer 4 of 9 from the outside in (see
// package stack and docs/go.md): inside the shield, before CORS and
// everything that costs work: a refused client costs nothing further.
// stack.Parts builds the order for you.
package access
