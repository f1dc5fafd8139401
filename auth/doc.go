// Package auth establishes who a request comes from and enforces who may
// reach each route.
//
// The shared vocabulary is Identity and how it travels in a request's
// context (NewContext, FromContext). Authentication methods — server-side
// sessions (package auth/session), access tokens Rampart issues, bearer
// tokens from external identity providers — are Authenticators. Policy
// enforces one route's rule over a list of them:
//
//   - auth: none — no authentication; the identity headers are still
//     stripped from the request.
//   - auth: optional — the identity is established when a credential is
//     present; anonymous requests pass.
//   - auth: required — no identity, no entry: browser navigations (GET or
//     HEAD asking for text/html) are redirected to the login page with a
//     safe "next", other requests get 401 with WWW-Authenticate; an
//     identity without one of the route's roles (any of them suffices) or
//     without all of its scopes gets 403.
//
// The identity reaches the upstream in headers (X-Rampart-User,
// X-Rampart-Roles, … names configurable, see IdentityHeaders). Redirects
// decides where a login may send the browser afterwards.
//
// # Security considerations
//
// An Identity is only ever created by Rampart after verifying a credential;
// nothing a client sends can place one in the context. Client-supplied
// copies of the identity headers are removed on every route, whatever its
// mode — matched without regard to case and with "_" read as "-", because
// CGI-style frameworks (PHP, WSGI, Rack) read X_Rampart_User as
// X-Rampart-User. An identity whose values cannot be sent exactly (a
// control character in an external subject, a comma in a role) is refused
// rather than forwarded truncated.
//
// Failures fail closed: a credential that is present but invalid is
// refused with 401 and never skipped in favour of the next authenticator;
// an authenticator that cannot decide (its store is down) makes a required
// route answer 503, and an optional route treat the request as anonymous.
// Every refusal goes through package problem with policy "auth".
//
// Redirect targets after login are either plain paths on this site or
// URLs on allow-listed origins; everything browsers might read as another
// host — "//evil.com", "/\evil.com", "https:evil.com", tabs and newlines
// inside the URL, percent-encoded slashes and backslashes, "javascript:" —
// is refused.
//
// # Concurrency
//
// Identity values are immutable once attached to a request and may be read
// from any goroutine. Policy, Redirects and Stripper are immutable after
// construction and safe for concurrent use.
//
// References: RFC 9110 section 11.6.1 (WWW-Authenticate), RFC 6750
// section 3 (Bearer error codes); OWASP Unvalidated Redirects and Forwards
// Cheat Sheet.
//
// # In a stack
//
// Stacked by hand, this package is layer 7 of 9 from the outside in (see
// package stack and docs/go.md): after rate limits, before CSRF and
// validation. stack.Parts builds the order for you.
package auth
