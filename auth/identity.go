package auth

import (
	"context"
	"slices"
	"time"
)

// Identity is who a request comes from, as established by one of the
// authentication methods: a server-side session, an access token Rampart
// issued, or a bearer token from an external identity provider.
//
// An Identity is immutable once attached to a request; code that needs a
// different one builds a new value.
type Identity struct {
	// Subject identifies the user: the user name for sessions and Rampart's
	// tokens, the token's sub claim (prefixed by nothing) for external
	// issuers.
	Subject string
	// Roles are the user's roles, used by route rules.
	Roles []string
	// Scopes are OAuth scopes carried by a token, if any.
	Scopes []string
	// Method says how the identity was established: "session", "token",
	// or "issuer" for an external identity provider.
	Method string
	// Issuer is the token issuer for Method "issuer".
	Issuer string
	// Expires is when the credential that established the identity stops
	// being valid.
	Expires time.Time
}

// Principal names the user uniquely across identity sources: Subject for
// a local user (no Issuer), and Issuer, a space and Subject for a user an
// external identity provider vouched for (an issuer URL has no space, so
// the form cannot be forged by a subject). Two providers' "admin", or a
// provider's "admin" and the local one, are different principals: per-user
// rate limits, session lists and "log out everywhere" use it.
func (id *Identity) Principal() string {
	if id == nil {
		return ""
	}
	if id.Issuer == "" {
		return id.Subject
	}
	return id.Issuer + " " + id.Subject
}

// HasRole reports whether the identity has role.
func (id *Identity) HasRole(role string) bool {
	return id != nil && slices.Contains(id.Roles, role)
}

// HasScope reports whether the identity's token carries scope.
func (id *Identity) HasScope(scope string) bool {
	return id != nil && slices.Contains(id.Scopes, scope)
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity in ctx, or nil for an anonymous request.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(ctxKey{}).(*Identity)
	return id
}
