// Package headers sets the HTTP security headers on every response — helmet's
// defaults out of the box — builds and validates Content-Security-Policy with
// per-request nonces, removes headers that leak what runs behind the gateway,
// and receives CSP violation reports.
//
// The threat is the browser doing what an attacker asks: running injected
// script (cross-site scripting), framing the site to steal clicks
// (clickjacking), sniffing a download into HTML, leaking URLs through the
// Referer header, being downgraded to plain HTTP, or sharing a process with a
// hostile cross-origin page. Each header tells the browser to refuse one of
// these. Headers such as X-Powered-By and Server tell an attacker which
// framework and version to target; they are removed.
//
// A Policy is built once by New from a Config. The zero Config is helmet v8's
// defaults (see HelmetVersion) plus the removal of DefaultRemove. The strict
// preset goes further: a CSP on default-src 'none' without 'unsafe-inline'
// and with per-request nonces, Permissions-Policy, Cross-Origin-Embedder-Policy
// (require-corp when the CSP only allows the site's own origin, otherwise
// credentialless), frames denied and a preload-ready HSTS. Policy.With derives
// a per-route policy from an Override.
//
// # Security considerations
//
// Headers are set when the wrapped handler writes its status — so error
// responses that inner policies write with problem.Write carry them — over
// whatever the handler or the upstream put in the header map, so an
// upstream cannot weaken them: the gateway's value replaces the upstream's
// unless the header is listed in KeepUpstream. A handler that writes
// nothing, or panics before writing, still gets them.
//
// Nonces are 128 bits from crypto/rand, fresh for every request. The nonce is
// handed to Go handlers through the request context (NonceFromContext) and to
// upstream applications in a request header (DefaultNonceHeader); a copy of
// that header sent by the client is always deleted. The package never
// rewrites response bodies to stamp nonces on script tags: that would bless
// scripts an attacker injected into the page along with the application's
// own, which is exactly what the nonce exists to tell apart. A page that is
// cached and replayed replays its nonce too; pages rendered with a nonce must
// not be stored by shared caches.
//
// The CSP builder rejects, at configuration time, unknown directives (with a
// suggestion), unquoted keywords ('self' without quotes names a host called
// self), fixed nonces, malformed hosts, schemes and hashes, values containing
// whitespace, ';' or ',' (which would inject directives), and policies
// without default-src.
//
// ReportHandler accepts reports from anyone — browsers send them without
// credentials — so it caps body size, reports per request and requests per
// minute, strips query strings and fragments from reported URLs (they may
// carry tokens) and reduces directives to known names before they reach the
// log or a metric label.
//
// # Concurrency
//
// A Policy and a ReportHandler are safe for concurrent use. A Policy is
// immutable after New. The precomputed header values are shared between
// responses with len == cap, so a handler's Header().Add copies instead of
// writing into them; handlers must not modify a header value slice in place.
//
// Specifications: Content Security Policy Level 3,
// https://www.w3.org/TR/CSP3/; Reporting API,
// https://www.w3.org/TR/reporting-1/; RFC 6797 (HSTS); Fetch's
// Cross-Origin-Resource-Policy, https://fetch.spec.whatwg.org/; HTML's
// Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy; OWASP Secure
// Headers Project, https://owasp.org/www-project-secure-headers/.
//
// # In a stack
//
// Stacked by hand, this package is layer 2 of 9 from the outside in (see
// package stack and docs/go.md): just inside requestid, so every answer,
// Rampart's own refusals included, carries the headers. stack.Parts builds
// the order for you.
package headers
