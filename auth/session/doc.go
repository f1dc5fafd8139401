// Package session keeps server-side login sessions: opaque random ids in a
// __Host- cookie, records stored under the id's SHA-256, idle and absolute
// expiry, id rotation at login and privilege change, logout, and "log out
// everywhere".
//
// The threats are session hijacking and fixation. An id that can be
// guessed, read by script, sent over plain HTTP, planted by a sibling
// subdomain or adopted from before login gives the attacker the session.
// Here an id is 256 bits from crypto/rand; the cookie is HttpOnly, Secure,
// SameSite=Lax (or Strict), Path=/ and has no Domain, under the __Host-
// prefix that makes browsers refuse it from anything but this exact secure
// origin. Login always issues a fresh id and deletes whatever session the
// request carried, so an id an attacker planted before login is never
// promoted. A session ends at the first of its idle and absolute
// deadlines, both of which are required.
//
// # Storage
//
// A Store holds records under Key, the SHA-256 of the id: the cookie value
// itself is never stored, so a copy of the database or of Redis gives no
// live session. SQLStore (SQLite, the default, or PostgreSQL) and
// RedisStore (for several gateway replicas, expiry driven by Redis TTLs)
// implement it; a session created through one Manager works through every
// other Manager sharing the store.
//
// Store implementations follow one rule for errors: found=false for a key
// that is unknown, deleted or expired; a non-nil error only for a system
// failure, on which the Manager fails closed (Authenticate returns the
// error, and route rules answer 503 rather than treat the request as
// authenticated).
//
// # Idle expiry and writes
//
// Recording every request's time would make each request a database write.
// The Manager records activity at most once per TouchInterval (a tenth of
// the idle timeout, at most one minute): a session may therefore end up to
// that much before its idle timeout, never after it.
//
// # Plain HTTP during development
//
// Browsers accept Secure and __Host- cookies only from secure contexts.
// Chromium and Firefox count http://localhost and 127.0.0.1 as secure, so
// the defaults work unchanged for `rampart demo` on http://localhost. For
// development on any other plain-HTTP host, UnsafePlainHTTP (which the
// gateway sets in development only) drops Secure and the __Host- prefix on
// the requests that arrived over plain HTTP, and only on those;
// UnsafeInsecureCookie does it for every request, and CheckProduction
// reports it, so production refuses to start with it.
//
// # Security considerations
//
// Cookie values are parsed strictly (exactly 43 base64url characters)
// before any store is asked, so junk never reaches a query. The identity
// a session carries is fixed at login; changing a user's roles or
// password does not change open sessions unless the caller rotates them or
// logs the user out everywhere, as the users CLI does.
//
// # Concurrency
//
// Manager and the stores are safe for concurrent use.
//
// References: OWASP Session Management Cheat Sheet; RFC 6265bis (cookie
// prefixes, SameSite), https://datatracker.ietf.org/doc/draft-ietf-httpbis-rfc6265bis/;
// NIST SP 800-63B-4 section 5.1 (session management).
package session
