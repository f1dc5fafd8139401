// Package token issues and verifies Rampart's own tokens: short-lived signed
// access tokens (JWT) for Authorization: Bearer, rotating opaque refresh
// tokens with reuse detection, revocation, key rotation, the JWKS endpoint
// and the /.rampart/token endpoint.
//
// The threat is a stolen or forged credential. A forged access token is
// stopped by signatures over keys that only the configuration chooses, with
// the algorithm fixed by the key and never by the token. A stolen access
// token works only for its short lifetime (at most MaxAccessTTL), or not at
// all once revoked when the optional revocation list is on. A stolen refresh
// token is caught the first time both the thief and the victim use it: each
// refresh token can be exchanged once, and presenting a used one revokes its
// whole family (RFC 9700, section 4.14.2).
//
// # Tokens
//
// An access token is a compact JWS signed with EdDSA (Ed25519) or ES256
// (P-256) through github.com/go-jose/go-jose/v4. Its header carries typ
// at+jwt and the kid of the signing key (the key's RFC 7638 thumbprint); its
// claims are iss, sub, aud, exp, nbf, iat, jti, roles and scope (RFC 9068).
//
// A refresh token is 256 bits, base64url-encoded behind the prefix "rrt_":
// random at login, and at each refresh derived from the presented token by
// HMAC-SHA256 under a key derived from the record key (or the signing key),
// so that every replica rotates a token into the same successor. Stores keep
// only SHA-256 hashes. Each login starts a family; each refresh marks the
// presented token used and adds its successor to the same family. A token
// expires after RefreshTTL unused; a family ends after RefreshAbsoluteTTL
// whatever happens.
//
// A client whose refresh was applied but whose answer was lost presents
// the used token again. Within RefreshRetryWindow (default 10s), and while
// the successor is unused, that retry returns the same successor (with a
// new access token) instead of revoking the family: the family never forks,
// and once the successor is used, or after the window, a second
// presentation is reuse as always (RFC 9700, section 4.14.2, allows this
// grace period).
//
// # Keys and rotation
//
// One key signs (SigningKey); any number verify (VerificationKeys), and all
// of them are published at /.well-known/jwks.json. To rotate without
// rejecting a single valid token:
//
//  1. Add the new key to VerificationKeys on every replica and wait
//     JWKSMaxAge, so that every verifier knows it.
//  2. Make it the SigningKey and move the old one to VerificationKeys.
//  3. After AccessTTL plus ClockSkew, remove the old key.
//
// CheckKeyFile reports missing, weak, unsupported or world-readable key
// files for the production guard.
//
// # Security considerations
//
// Verification accepts only the algorithms of the configured keys, decided
// before any key is looked up; "none" and every HMAC algorithm are never
// accepted, so a public key can never be used as an HMAC secret. The kid
// selects among configured keys only, and the key's own algorithm must match
// the header's. Headers that point elsewhere for keys (jku, x5u, x5c, an
// embedded jwk) are ignored: nothing is ever fetched. exp, iat, sub and jti
// are required, and exp - iat may not exceed AccessTTL, so a token signed
// with a good key but an absurd lifetime is refused. Authorization values
// longer than MaxTokenBytes are refused before decoding.
//
// A token that verified is remembered (by its SHA-256, at most 10,000
// entries) so that the next requests carrying it skip the signature check;
// its expiry and, with RevocationList, the store are still checked every
// time. The Identity returned for it is shared between those requests and
// must not be modified.
//
// Verification errors name the reason for logs (ErrExpired, ErrSignature,
// ...); clients only ever see a generic 401 through package problem.
// With RevocationList on, a store failure rejects the token (fail closed).
//
// # Concurrency
//
// A Manager is immutable after New and safe for concurrent use; so are the
// stores. Rotation is atomic in every store: of two concurrent exchanges of
// one refresh token, exactly one succeeds and the other revokes the family.
// The package starts no goroutines.
//
// Specifications: RFC 7519 (JWT), https://www.rfc-editor.org/rfc/rfc7519;
// RFC 7515 (JWS); RFC 7517 (JWK); RFC 7638 (JWK thumbprint); RFC 8037
// (EdDSA); RFC 8725 (JWT best current practices); RFC 9068 (JWT access
// tokens); RFC 6750 (bearer tokens); RFC 9700 (OAuth 2.0 security best
// current practice); OWASP JSON Web Token Cheat Sheet.
package token
