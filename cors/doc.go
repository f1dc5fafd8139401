// Package cors answers Cross-Origin Resource Sharing for an application: it
// tells browsers which other origins may read its responses, with or
// without the user's cookies, and answers preflight requests itself.
//
// The threat is a permissive CORS policy. An application that reflects any
// Origin header into Access-Control-Allow-Origin together with
// Access-Control-Allow-Credentials lets every website read its users' data
// with their cookies; one that matches origins by substring or regular
// expression lets "https://example.com.evil.net" in; one that trusts the
// "null" origin trusts every sandboxed iframe. One whose responses do not
// carry "Vary: Origin" can have a cache hand one origin's permission to
// another.
//
// A Policy is authoritative: for a cross-origin request, whatever
// Access-Control-* response headers the wrapped handler (for example the
// upstream application behind a reverse proxy) sets are removed, and only
// the policy's own are sent. Non-CORS requests — those without an Origin
// header — pass through untouched except for "Vary: Origin".
//
// # What is answered
//
//   - An actual request (any method) from an allowed origin gets
//     Access-Control-Allow-Origin with that exact origin (or "*" when the
//     list is "*" and credentials are off), Access-Control-Allow-Credentials
//     when configured, and Access-Control-Expose-Headers. From any other
//     origin it gets no CORS header: the request still reaches the handler
//     (CORS protects reads; package csrf protects writes) but the browser
//     will not let the page read the response.
//   - A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
//     answered here and never reaches the handler. It is allowed when the
//     origin, the method and every requested header are allowed (and, for a
//     Private Network Access preflight, when PrivateNetwork is on): 204 with
//     Access-Control-Allow-Methods, -Headers, -Max-Age. Otherwise it gets a
//     neutral 403 (see package problem) without any CORS header, so the
//     browser blocks the request, and is counted through OnDecision.
//   - Every response carries the Vary header its CORS headers depend on:
//     "Origin" always; on preflights also Access-Control-Request-Method,
//     -Headers and -Private-Network.
//
// # Security considerations
//
// Origins are matched exactly (see the Origins field); nothing received is
// ever reflected unless it equals an allowed origin or is a true subdomain
// of an allowed "*." pattern. New refuses "*" combined with credentials,
// "null" combined with credentials (any page can put itself in a sandboxed
// frame and send "null"), and wildcard methods or headers with credentials,
// because browsers ignore those wildcards for credentialed requests anyway.
// A preflight's answer lists the configured methods and headers, never the
// requested ones. CORS does not stop a cross-site form POST from being sent;
// use package csrf for that.
//
// # Concurrency
//
// A Policy is immutable after New and safe for concurrent use.
//
// Specification: the Fetch standard's CORS protocol,
// https://fetch.spec.whatwg.org/#http-cors-protocol; Private Network Access,
// https://wicg.github.io/private-network-access/.
//
// # In a stack
//
// Stacked by hand, this package is layer 5 of 9 from the outside in (see
// package stack and docs/go.md): after access, before rate limits and
// authentication: preflights are answered before anything asks for
// credentials, and refusals further in keep the CORS headers. stack.Parts
// builds the order for you.
package cors
