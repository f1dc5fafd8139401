// Package dashboard serves Rampart's live dashboard: one self-contained page,
// for the admin listener, that shows what the gateway refuses as it happens.
//
// The page reads the admin API of the same listener — GET /stats,
// GET /events, GET /events/stream (Server-Sent Events), GET /login-locks and
// POST /login-locks/unlock — and draws requests and refusals per policy as
// time series, the top refused client addresses, routes and users, the most
// recent events with their incident ids, current login lockouts with an
// unlock action, the configuration status and the upstream's health. When
// the API answers 401 it asks for the admin token and posts it to
// POST /session, which sets an HttpOnly cookie: the page's script never holds
// the token.
//
// # Security considerations
//
// An operator's browser is the target. Event fields — a reason, a user
// name, a route — are chosen by whoever sends requests to the gateway, so
// the page inserts every value as text (textContent), never as markup, and
// it runs under a strict Content-Security-Policy of its own: no inline
// script or style, no third-party origin, no framing
// (frame-ancestors 'none'), connections to its own origin only. Everything it
// needs is embedded in the binary; nothing is fetched from a CDN. Responses
// are not cached and send no referrer.
//
// The handler itself serves only static files and holds no data. It does no
// access control: the admin API the page reads does, so a page loaded by
// someone without the token shows nothing but the token form.
//
// # Concurrency
//
// The handler returned by Handler is safe for concurrent use.
//
// See https://www.w3.org/TR/CSP3/ and
// https://html.spec.whatwg.org/multipage/server-sent-events.html.
package dashboard
