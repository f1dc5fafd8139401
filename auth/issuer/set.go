package issuer

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
)

// Set routes bearer tokens to the Verifier of their issuer, so that the
// route rules need one authenticator for all external providers. It is
// immutable and safe for concurrent use.
type Set struct {
	byIssuer map[string]*Verifier
	log      *slog.Logger
}

// NewSet returns a Set of verifiers. Two verifiers for the same issuer are
// an error: which one decides would be ambiguous.
func NewSet(vs ...*Verifier) (*Set, error) {
	s := &Set{byIssuer: map[string]*Verifier{}, log: slog.Default()}
	for _, v := range vs {
		if _, dup := s.byIssuer[v.issuer]; dup {
			return nil, fmt.Errorf("issuer: %s is configured twice", v.issuer)
		}
		s.byIssuer[v.issuer] = v
		s.log = v.log
	}
	return s, nil
}

// Verify checks raw with the verifier of its issuer. A token whose issuer is
// not in the set is refused with token.ErrIssuer.
func (s *Set) Verify(ctx context.Context, raw string) (*auth.Identity, error) {
	iss, err := token.UnverifiedIssuer(raw)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	v := s.byIssuer[iss]
	if v == nil {
		return nil, fmt.Errorf("issuer: %w: %q is not configured", token.ErrIssuer, iss)
	}
	return v.Verify(ctx, raw)
}

// Authenticate implements the route rules' authenticator contract for every
// provider in the set: (nil, nil) when r has no bearer token or one whose
// issuer is not in the set (Rampart's own tokens, for instance), the
// identity for a valid token, an error for one that does not verify.
func (s *Set) Authenticate(r *http.Request) (*auth.Identity, error) {
	raw, err := token.Bearer(r)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, nil
	}
	if len(raw) <= token.MaxTokenBytes {
		// A token one of the verifiers already verified needs no routing.
		key := cacheKey(raw)
		for _, v := range s.byIssuer {
			if id, hit, err := v.cached(key); hit {
				v.decide("verify", outcome(err))
				return id, err
			}
		}
	}
	iss, err := token.UnverifiedIssuer(raw)
	if err != nil {
		return nil, nil
	}
	v := s.byIssuer[iss]
	if v == nil {
		return nil, nil
	}
	return v.Verify(r.Context(), raw)
}

// Handler returns a handler that requires a valid token from one of the
// set's providers, stores the identity in the request's context, and calls
// h; other requests get a neutral 401.
func (s *Set) Handler(h http.Handler) http.Handler {
	return handler(s.Authenticate, s.log, h)
}
