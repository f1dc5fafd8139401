package token

import (
	"errors"
	"fmt"

	"github.com/rampartsec/rampart/auth"
)

// Rejection reasons. They are returned (wrapped) by Verify and Authenticate
// and by the external issuer verifier in package issuer, so that callers and
// logs can tell why a token was refused. Each wraps auth.ErrInvalidCredential,
// so route rules answer 401 (a bad credential), never 503 (a system
// failure). Their text never reaches a client: the client only ever sees a
// generic 401.
var (
	// ErrMalformed is returned for an Authorization header or a token that
	// cannot be parsed: not a compact JWS, bad base64 or JSON, too long.
	ErrMalformed = fmt.Errorf("token: malformed token: %w", auth.ErrInvalidCredential)
	// ErrAlgorithm is returned when the token's alg header is not one of the
	// pinned algorithms. It is decided before any key is looked up.
	ErrAlgorithm = fmt.Errorf("token: algorithm not allowed: %w", auth.ErrInvalidCredential)
	// ErrUnknownKey is returned when no verification key has the token's kid.
	ErrUnknownKey = fmt.Errorf("token: unknown signing key: %w", auth.ErrInvalidCredential)
	// ErrSignature is returned when the signature does not verify.
	ErrSignature = fmt.Errorf("token: invalid signature: %w", auth.ErrInvalidCredential)
	// ErrType is returned when the typ header is not the expected one, for
	// example an ID token presented as an access token.
	ErrType = fmt.Errorf("token: wrong token type: %w", auth.ErrInvalidCredential)
	// ErrIssuer is returned for a wrong iss claim.
	ErrIssuer = fmt.Errorf("token: wrong issuer: %w", auth.ErrInvalidCredential)
	// ErrAudience is returned when the aud claim does not name this service.
	ErrAudience = fmt.Errorf("token: wrong audience: %w", auth.ErrInvalidCredential)
	// ErrMissingClaim is returned when a required claim (sub, exp, iat, jti)
	// is absent or has the wrong type.
	ErrMissingClaim = fmt.Errorf("token: required claim missing: %w", auth.ErrInvalidCredential)
	// ErrExpired is returned when exp has passed (beyond the clock skew).
	ErrExpired = fmt.Errorf("token: expired: %w", auth.ErrInvalidCredential)
	// ErrNotYetValid is returned when nbf or iat is in the future (beyond the
	// clock skew).
	ErrNotYetValid = fmt.Errorf("token: not yet valid: %w", auth.ErrInvalidCredential)
	// ErrLifetime is returned when exp - iat is longer than allowed: a
	// near-infinite token is refused even if its signature is good.
	ErrLifetime = fmt.Errorf("token: lifetime too long: %w", auth.ErrInvalidCredential)
	// ErrRevoked is returned for a token that was revoked (by jti, by
	// subject, or because its refresh family was revoked).
	ErrRevoked = fmt.Errorf("token: revoked: %w", auth.ErrInvalidCredential)
	// ErrInvalidRefresh is returned for a refresh token that is unknown,
	// expired, or belongs to a revoked or expired family. The reasons are
	// not told apart on purpose.
	ErrInvalidRefresh = errors.New("token: invalid refresh token")
	// ErrRefreshReused is returned when a refresh token that was already
	// exchanged is presented again. The whole family has been revoked by the
	// time it is returned.
	ErrRefreshReused = errors.New("token: refresh token reused; family revoked")
	// ErrUnavailable is returned (wrapped, with the cause) when a store
	// failed: the refresh-token store, or the user store behind
	// IdentityLoader or PasswordVerifier. Nothing was consumed or revoked;
	// the token endpoint answers 503 with Retry-After, and the same
	// request may be sent again once the store is back.
	ErrUnavailable = errors.New("token: store unavailable")
	// ErrInvalidCredentials is what a PasswordVerifier returns (wrapped or
	// not) for a wrong user name or password, or a locked account.
	ErrInvalidCredentials = errors.New("token: invalid credentials")
)
