// Package origin parses and matches Web origins, the scheme://host[:port]
// triples that browsers send in the Origin header and that CORS allow-lists
// and CSRF trusted-origin lists name.
//
// An allow-list that matches origins by substring, prefix or regular
// expression is the classic CORS hole: "https://example.com.evil.net" and
// "https://evilexample.com" both contain "example.com". This package matches
// exactly: an incoming origin is either byte-for-byte one of the listed
// origins, or its scheme and port are those of a "https://*.example.com"
// pattern and its host is a true subdomain of the pattern's domain, made of
// valid DNS labels.
//
// # Security considerations
//
// Incoming values are never normalised before matching: browsers serialise
// origins in one canonical form (lowercase scheme and host, no default port,
// no path), so anything else did not come from a browser's origin
// serialiser and matches nothing. List entries, on the other hand, are
// normalised when they are parsed (lowercased, default port removed) and
// rejected with a clear error when they are not origins at all (a path, a
// query, user information, a wildcard anywhere but the first label,
// non-ASCII hosts, a pattern over a single label such as "https://*.com").
// The literal "null" origin, sent by sandboxed frames and local files that
// any attacker can create, is not an origin here: callers decide about it.
//
// # Concurrency
//
// A Set is immutable after NewSet and safe for concurrent use. Parse and
// FromURL are pure functions that do not allocate.
//
// Specification: the origin concept and its serialisation, RFC 6454 and
// https://html.spec.whatwg.org/multipage/browsers.html#origin; the Origin
// header, https://fetch.spec.whatwg.org/#origin-header.
package origin
