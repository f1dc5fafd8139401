package token

import "errors"

// Rejection reasons. They are returned (wrapped) by Verify and Authenticate
// and by the external issuer verifier in package issuer, so that callers and
// logs can tell why a token was refused. Their text never reaches a client:
// the client only ever sees a generic 401.
var (
	// ErrMalformed is returned for an Authorization header or a token that
	// cannot be parsed: not a compact JWS, bad base64 or JSON, too long.
	ErrMalformed = errors.New("token: malformed token")
	// ErrAlgorithm is returned when the token's alg header is not one of the
	// pinned algorithms. It is decided before any key is looked up.
	ErrAlgorithm = errors.New("token: algorithm not allowed")
	// ErrUnknownKey is returned when no verification key has the token's kid.
	ErrUnknownKey = errors.New("token: unknown signing key")
	// ErrSignature is returned when the signature does not verify.
	ErrSignature = errors.New("token: invalid signature")
	// ErrType is returned when the typ header is not the expected one, for
	// example an ID token presented as an access token.
	ErrType = errors.New("token: wrong token type")
	// ErrIssuer is returned for a wrong iss claim.
	ErrIssuer = errors.New("token: wrong issuer")
	// ErrAudience is returned when the aud claim does not name this service.
	ErrAudience = errors.New("token: wrong audience")
	// ErrMissingClaim is returned when a required claim (sub, exp, iat, jti)
	// is absent or has the wrong type.
	ErrMissingClaim = errors.New("token: required claim missing")
	// ErrExpired is returned when exp has passed (beyond the clock skew).
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid is returned when nbf or iat is in the future (beyond the
	// clock skew).
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrLifetime is returned when exp - iat is longer than allowed: a
	// near-infinite token is refused even if its signature is good.
	ErrLifetime = errors.New("token: lifetime too long")
	// ErrRevoked is returned for a token that was revoked (by jti, by
	// subject, or because its refresh family was revoked).
	ErrRevoked = errors.New("token: revoked")
	// ErrInvalidRefresh is returned for a refresh token that is unknown,
	// expired, or belongs to a revoked or expired family. The reasons are
	// not told apart on purpose.
	ErrInvalidRefresh = errors.New("token: invalid refresh token")
	// ErrRefreshReused is returned when a refresh token that was already
	// exchanged is presented again. The whole family has been revoked by the
	// time it is returned.
	ErrRefreshReused = errors.New("token: refresh token reused; family revoked")
	// ErrInvalidCredentials is what a PasswordVerifier returns (wrapped or
	// not) for a wrong user name or password, or a locked account.
	ErrInvalidCredentials = errors.New("token: invalid credentials")
)
