package auth

import (
	"errors"
	"net/http"
)

// Authenticator establishes an identity from one kind of credential: a
// session cookie, an access token Rampart issued, a bearer token from an
// external identity provider.
//
// Authenticate returns (nil, nil) when r carries no credential of its
// kind, so that the next authenticator may try. It returns an error
// wrapping ErrInvalidCredential when r carries a credential of its kind
// that is not valid (bad signature, expired token): the request is then
// refused with 401, never treated as anonymous. Any other error is a
// system failure (a store or key set unreachable) and the request fails
// closed with 503.
type Authenticator interface {
	Authenticate(r *http.Request) (*Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*Identity, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Identity, error) { return f(r) }

// Errors of the authentication decision.
var (
	// ErrInvalidCredential is wrapped by authenticators for a credential
	// that is present but not valid.
	ErrInvalidCredential = errors.New("auth: invalid credential")
	// ErrUnauthenticated means the route needs an identity and the request
	// has none.
	ErrUnauthenticated = errors.New("auth: authentication required")
	// ErrForbidden means the identity lacks a role or scope the route
	// requires.
	ErrForbidden = errors.New("auth: insufficient role or scope")
)
