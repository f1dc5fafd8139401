// Package issuer verifies bearer JWTs issued by external identity providers
// (Keycloak, Auth0, Okta, Entra ID, Google, Dex, ...), so that an API behind
// Rampart accepts its users' tokens without trusting anything the token
// says about how to check it.
//
// Each provider is one Verifier: its issuer, its audience, its pinned
// algorithms, and its keys, from a JWKS URL (fetched, cached and refreshed)
// or a static public key file. A Set routes each token to the Verifier of
// its iss claim. Both implement the route rules' authenticator contract
// (Authenticate) and can be used as middleware (Handler).
//
// Login adds browser sign-in with the provider: the OpenID Connect
// authorization code flow with PKCE (S256), state and nonce, whose verified
// ID token becomes an identity that the caller turns into a session.
//
// # Threat
//
// JWT verification has a long history of bypasses: alg "none" accepted,
// RSA public keys used as HMAC secrets (algorithm confusion), keys taken
// from the token itself (embedded jwk, jku, x5u), unchecked audiences that
// let a token for one application open another, tokens that never expire,
// and key fetching that an attacker can trigger at will. This package closes
// each of them:
//
//   - The algorithms are pinned per provider in the configuration. A token
//     whose alg header is not pinned is refused before any key is looked
//     up or fetched. HMAC algorithms and none cannot even be configured.
//   - Keys come only from the configured JWKS URL or public key file. jku,
//     x5u, x5c and embedded jwk headers are ignored and never fetched. A key
//     must suit the token's algorithm (type, curve, and its own alg member);
//     RSA keys under 2048 bits, private or symmetric keys in a JWKS, and
//     encryption keys are skipped.
//   - iss must match exactly and aud must contain the configured audience.
//     exp and iat are required, exp - iat may not exceed MaxLifetime, and
//     exp, nbf and iat are checked against the clock with ClockSkew.
//   - An unknown kid triggers a JWKS fetch at most once per
//     JWKSMinRefreshInterval, shared by all requests waiting for it; each
//     fetch is bounded in time and size and follows no redirect.
//
// # Security considerations
//
// When the provider cannot be reached, keys fetched earlier keep working
// for up to JWKSMaxStale, so an outage of the provider does not lock every
// user out; after that, every token is refused (fail closed). A JWKS
// document that parses is authoritative: a key the provider removes stops
// verifying at the next fetch.
//
// Roles are read from RolesClaim; values that are not plain strings, or
// that contain a comma or control characters, are dropped, so a role can
// neither smuggle a second role into the roles header nor break it. Tokens
// are routed to a verifier by their unverified iss, which only chooses who
// checks them: that verifier then checks everything, iss included.
//
// A token that verified is remembered (by its SHA-256, at most 10,000
// per key set) until the keys are fetched again, so that later requests
// carrying it only have their expiry checked; a JWKS fetch, which may
// withdraw a key, starts afresh.
//
// The login flow keeps no server state: each attempt's state, nonce, PKCE
// verifier and return path ride in a short-lived __Host- cookie (Secure,
// HttpOnly, SameSite=Lax) that only this origin can set, and are compared in
// constant time with what comes back. A callback without the cookie or with
// another state is refused (login CSRF); the return path must be local (no
// open redirect); the ID token must carry the nonce and be issued to the
// client id.
//
// Rejection reasons wrap package token's sentinels (token.ErrExpired,
// token.ErrAudience, ...) for logs; clients only ever see a generic 401.
//
// # Concurrency
//
// Verifier and Set are safe for concurrent use. No goroutine is started: a
// JWKS fetch runs on the request that needs it, while the others that need
// it wait, each bounded by its own context.
//
// Specifications: RFC 7519 (JWT), https://www.rfc-editor.org/rfc/rfc7519;
// RFC 7517 (JWK); RFC 8725 (JWT best current practices); RFC 9068 (JWT
// access tokens); RFC 6750 (bearer tokens); OpenID Connect Discovery 1.0
// (jwks_uri); OpenID Connect Core 1.0 (ID token validation, section
// 3.1.3.7); RFC 7636 (PKCE); RFC 9700 (OAuth 2.0 security best current
// practice).
package issuer
