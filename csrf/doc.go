// Package csrf stops cross-site request forgery without changes to the
// application: it refuses state-changing requests that a browser sent on
// behalf of another site, using the Fetch Metadata and Origin headers that
// every current browser sends, and optionally HMAC-signed tokens bound to the
// user's session.
//
// The threat: a page on another site makes the victim's browser submit a
// form or a fetch to the application, and the browser attaches the victim's
// cookies. The application sees an authenticated request it cannot tell
// from a real one.
//
// # Origin mode (the default)
//
// Requests with a safe method (GET, HEAD, OPTIONS) pass. For any other
// method, in this order:
//
//  1. Sec-Fetch-Site "same-origin" or "none" (the user typed the URL or
//     used a bookmark) passes; "same-site", "cross-site" or any other value
//     is refused unless Origin is a trusted origin.
//  2. Without Sec-Fetch-Site (browsers before 2023), an Origin header is
//     compared with the origin the request was served at — host and port,
//     and the scheme when it is known — and with the trusted origins. "null"
//     and malformed values are refused.
//  3. Without either (very old browsers), a Referer header is compared the
//     same way; a cross-origin Referer is refused.
//  4. A request with none of the three is not from a browser, or from one
//     that cannot be told apart from a non-browser client, and passes: curl,
//     server-to-server calls and mobile apps are not CSRF vectors.
//
// This is the algorithm of Go's net/http.CrossOriginProtection, which this
// package re-implements rather than wraps, for four reasons: it adds the
// Referer fallback (OWASP's recommendation for browsers that send no
// Origin); it compares the scheme when the request's scheme is known
// (served over TLS, or X-Forwarded-Proto from a trusted proxy), where the
// standard library must ignore it; trusted origins may be "*." subdomain
// patterns with the same strict matching as package cors; and its state is
// immutable after New, with static errors and no allocation on the allowed
// path. On requests without a Referer, with lowercase hosts, a canonical
// Origin, no trusted origins and an unknown scheme, both decide alike; a
// test checks this against the standard library.
//
// Method overrides cannot weaken the check. The method used is the one on
// the wire, so "POST" with "X-HTTP-Method-Override: GET" or a "_method=GET"
// form field is still checked as a POST; and a safe method is checked as
// unsafe when X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override or a
// "_method" query parameter names any other method, because frameworks that
// honour those would run, say, a DELETE for a cross-site GET link.
//
// # Token mode
//
// Mode "token" (or "both", which requires the origin check and the token)
// adds synchronizer tokens for old browsers and defence in depth. A token is
// HMAC-SHA256(Key, binding), where the binding is the session id given by
// Config.SessionID, or, for anonymous users, a random value in an HttpOnly
// "__Host-" cookie that only this host can set (the signed double-submit
// pattern: an attacker who can plant a cookie still cannot compute its
// HMAC). Every token handed out is masked with fresh random bytes (BREACH),
// so no two responses carry the same string. Tokens are accepted from a
// request header (default X-CSRF-Token) or a urlencoded form field (default
// csrf_token) and compared in constant time. They change when the session
// id changes; Protection.Rotate must be called at login and logout.
//
// The upstream application receives a fresh token in a request header
// (default X-Rampart-CSRF-Token; client-supplied copies are removed) to
// render into its forms; single-page applications get one from TokenHandler
// or, when ReadableCookie is set, from a cookie script can read.
//
// Reading the form field does not consume the body: the urlencoded body is
// read only until the field is found, at most MaxFormBytes, and what was
// read is put back in front of the rest. Put the hidden field first in the
// form. Multipart bodies are never parsed: a multipart request must carry
// the token in the header (or its route use origin mode).
//
// # Security considerations
//
// Origin mode needs no secret and no state and protects every browser
// released since 2020. Its deliberate fail-open cases are the ones Go's
// standard library makes: requests with no Sec-Fetch-Site, Origin or
// Referer; and, when the scheme is unknown, an http:// page of the same host
// (use HSTS). "same-site" is refused like "cross-site": a sibling subdomain
// is not trusted unless listed. Exemptions are by route only (the gateway's
// routes[].csrf), never by header or client. Token mode needs HTTPS (or
// localhost) because of the __Host- cookie prefix. GET handlers must not
// change state: nothing here checks them.
//
// # Concurrency
//
// A Protection is immutable after New and safe for concurrent use.
//
// References: https://fetch.spec.whatwg.org/#origin-header;
// https://www.w3.org/TR/fetch-metadata/;
// https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html;
// https://words.filippo.io/csrf/.
//
// # In a stack
//
// Stacked by hand, this package is layer 8 of 9 from the outside in (see
// package stack and docs/go.md): after authentication, before validation:
// checked only for requests that would otherwise be served. stack.Parts
// builds the order for you.
package csrf
