package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// Mode says whether a route needs an identity.
type Mode int

// The route modes. The zero value is ModeRequired: a rule that forgot to
// say fails closed.
const (
	// ModeRequired refuses requests without an identity.
	ModeRequired Mode = iota
	// ModeOptional establishes the identity when a credential is present
	// and lets anonymous requests through.
	ModeOptional
	// ModeNone does no authentication; identity headers are still
	// stripped.
	ModeNone
)

// String returns "required", "optional" or "none".
func (m Mode) String() string {
	switch m {
	case ModeOptional:
		return "optional"
	case ModeNone:
		return "none"
	default:
		return "required"
	}
}

// UnmarshalText reads "none", "optional" or "required".
func (m *Mode) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "required":
		*m = ModeRequired
	case "optional":
		*m = ModeOptional
	case "none":
		*m = ModeNone
	default:
		return fmt.Errorf("auth: mode must be none, optional or required, got %q", b)
	}
	return nil
}

// MarshalText returns the mode's name.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// DefaultLoginURL is where browsers are sent to log in.
const DefaultLoginURL = "/.rampart/login"

// Config configures a Policy: the rule of one route, plus how identities
// are established and sent upstream.
type Config struct {
	// Auth is the route's mode. Default (zero) ModeRequired.
	Auth Mode `yaml:"auth"`
	// Roles, if set, lets through only identities that have at least one
	// of these roles. Default: any identity.
	Roles []string `yaml:"roles"`
	// Scopes, if set, lets through only identities whose token carries
	// all of these scopes. Default: none required.
	Scopes []string `yaml:"scopes"`

	// Authenticators are tried in order; the first that finds its kind of
	// credential decides. Required unless Auth is ModeNone.
	Authenticators []Authenticator `yaml:"-"`
	// Headers names the identity headers. Default X-Rampart-User and
	// friends (see IdentityHeaders).
	Headers IdentityHeaders `yaml:"-"`
	// LoginURL is where unauthenticated browser navigations are
	// redirected, with the original path in the "next" query parameter.
	// Default "/.rampart/login". It must be a path on this site.
	LoginURL string `yaml:"-"`
	// Realm is the realm in WWW-Authenticate. Default "rampart".
	Realm string `yaml:"-"`
	// Logger receives authenticator failures. Default: slog.Default(), so nothing is lost silently; pass a logger with slog.DiscardHandler to drop.
	Logger *slog.Logger `yaml:"-"`
	// OnDecision, if set, is called with every decision, for metrics. It
	// must be fast and safe for concurrent use.
	OnDecision func(Decision) `yaml:"-"`
}

// Decision is the outcome of one request, reported to Config.OnDecision.
type Decision string

// The decisions.
const (
	DecisionAuthenticated   Decision = "authenticated"
	DecisionAnonymous       Decision = "anonymous" // optional or none route, no identity
	DecisionUnauthenticated Decision = "unauthenticated"
	DecisionInvalid         Decision = "invalid_credential"
	DecisionForbidden       Decision = "forbidden"
	DecisionUnavailable     Decision = "unavailable" // an authenticator failed; failed closed
)

// Policy enforces one route's rule. It is immutable and safe for
// concurrent use.
type Policy struct {
	mode       Mode
	roles      []string
	scopes     []string
	authn      []Authenticator
	headers    headerSet
	loginURL   string
	challenge  []string // WWW-Authenticate for a missing credential
	invalid    []string // … for an invalid one
	scopeError []string // … for missing scopes
	log        *slog.Logger
	onDecision func(Decision)
}

var _ Authenticator = (*Policy)(nil)

// New returns a Policy for c.
func New(c Config) (*Policy, error) {
	p := &Policy{mode: c.Auth, log: c.Logger, onDecision: c.OnDecision}
	if c.Auth < ModeRequired || c.Auth > ModeNone {
		return nil, fmt.Errorf("auth: invalid mode %d", c.Auth)
	}
	for _, r := range c.Roles {
		if r == "" || !safeValue(r, ", ") {
			return nil, fmt.Errorf("auth: invalid role %q", r)
		}
	}
	for _, s := range c.Scopes {
		if s == "" || !safeValue(s, ", ") {
			return nil, fmt.Errorf("auth: invalid scope %q", s)
		}
	}
	if c.Auth == ModeNone && (len(c.Roles) > 0 || len(c.Scopes) > 0) {
		return nil, errors.New("auth: roles and scopes need auth: required")
	}
	if c.Auth == ModeOptional && (len(c.Roles) > 0 || len(c.Scopes) > 0) {
		return nil, errors.New("auth: roles and scopes need auth: required, not optional")
	}
	p.roles = append([]string(nil), c.Roles...)
	p.scopes = append([]string(nil), c.Scopes...)
	for i, a := range c.Authenticators {
		if a == nil {
			return nil, fmt.Errorf("auth: authenticator %d is nil", i)
		}
	}
	if c.Auth != ModeNone && len(c.Authenticators) == 0 {
		return nil, fmt.Errorf("auth: a route with auth: %s needs at least one authenticator", c.Auth)
	}
	p.authn = append([]Authenticator(nil), c.Authenticators...)
	hs, err := newHeaderSet(c.Headers)
	if err != nil {
		return nil, err
	}
	p.headers = hs
	p.loginURL = c.LoginURL
	if p.loginURL == "" {
		p.loginURL = DefaultLoginURL
	}
	if _, ok := (*Redirects)(nil).Sanitize(p.loginURL); !ok || strings.ContainsAny(p.loginURL, "?#") {
		return nil, fmt.Errorf("auth: login URL %q must be a plain path on this site", c.LoginURL)
	}
	realm := c.Realm
	if realm == "" {
		realm = "rampart"
	}
	if !safeValue(realm, `"\`) {
		return nil, fmt.Errorf("auth: invalid realm %q", c.Realm)
	}
	p.challenge = []string{`Bearer realm="` + realm + `"`}
	p.invalid = []string{`Bearer realm="` + realm + `", error="invalid_token"`}
	p.scopeError = []string{`Bearer realm="` + realm + `", error="insufficient_scope", scope="` + strings.Join(p.scopes, " ") + `"`}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.onDecision == nil {
		p.onDecision = func(Decision) {}
	}
	return p, nil
}

// Authenticate runs the authenticators in order and returns the first
// identity found, (nil, nil) if no credential is present, or the first
// error. It makes Policy itself an Authenticator.
func (p *Policy) Authenticate(r *http.Request) (*Identity, error) {
	for _, a := range p.authn {
		id, err := a.Authenticate(r)
		if err != nil {
			// A credential that is present and bad, or that could not be
			// checked, is never skipped in favour of the next one: the
			// request must not quietly become something else.
			return nil, err
		}
		if id != nil {
			return id, nil
		}
	}
	return nil, nil
}

// Check decides r under the rule. It returns the identity (nil for an
// anonymous request that the rule lets through) or an error: one wrapping
// ErrUnauthenticated, ErrInvalidCredential or ErrForbidden, or an
// authenticator's system failure. It writes nothing.
func (p *Policy) Check(r *http.Request) (*Identity, error) {
	if p.mode == ModeNone {
		return nil, nil
	}
	id, err := p.Authenticate(r)
	if err != nil {
		if !errors.Is(err, ErrInvalidCredential) && p.mode == ModeOptional {
			// An optional route fails closed to anonymous when the
			// credential cannot be checked: the request gets no more than
			// a request without credentials would.
			p.log.Warn("auth: authenticator failed; continuing anonymously on an optional route", "err", err)
			return nil, nil
		}
		return nil, err
	}
	if id == nil {
		if p.mode == ModeOptional {
			return nil, nil
		}
		return nil, ErrUnauthenticated
	}
	if len(p.roles) > 0 {
		ok := false
		for _, role := range p.roles {
			if id.HasRole(role) {
				ok = true
				break
			}
		}
		if !ok {
			return id, ErrForbidden
		}
	}
	for _, s := range p.scopes {
		if !id.HasScope(s) {
			return id, ErrForbidden
		}
	}
	return id, nil
}

// Handler returns a handler that enforces the rule before calling h:
// identity headers from the client are stripped, then unauthenticated
// browser navigations are redirected to the login page, other
// unauthenticated requests get 401 with WWW-Authenticate, identities
// without a required role or scope get 403, and authenticator failures
// 503. Allowed requests reach h with the identity in their context (see
// FromContext) and in the identity headers.
func (p *Policy) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Always, whatever the mode: a client must never be able to
		// speak for Rampart to the upstream.
		p.headers.strip(r.Header)
		id, err := p.Check(r)
		if err != nil {
			p.refuse(w, r, id, err)
			return
		}
		if id == nil {
			p.onDecision(DecisionAnonymous)
			h.ServeHTTP(w, r)
			return
		}
		if !p.headers.set(r.Header, id) {
			// Fail closed: an identity that cannot be expressed exactly
			// is not forwarded at all.
			p.log.Warn("auth: identity cannot be sent in headers; refusing", "method", id.Method)
			p.refuse(w, r, nil, ErrInvalidCredential)
			return
		}
		p.onDecision(DecisionAuthenticated)
		h.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

func (p *Policy) refuse(w http.ResponseWriter, r *http.Request, id *Identity, err error) {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		p.onDecision(DecisionUnauthenticated)
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && problem.WantsHTML(r) {
			p.redirectToLogin(w, r)
			return
		}
		w.Header()["Www-Authenticate"] = p.challenge
		problem.Write(w, r, problem.Problem{Status: http.StatusUnauthorized, Policy: "auth", Reason: string(DecisionUnauthenticated)})
	case errors.Is(err, ErrInvalidCredential):
		p.onDecision(DecisionInvalid)
		w.Header()["Www-Authenticate"] = p.invalid
		problem.Write(w, r, problem.Problem{Status: http.StatusUnauthorized, Policy: "auth", Reason: string(DecisionInvalid)})
	case errors.Is(err, ErrForbidden):
		p.onDecision(DecisionForbidden)
		if len(p.scopes) > 0 && id != nil && id.Method != "session" && id.Method != "oidc" {
			w.Header()["Www-Authenticate"] = p.scopeError
		}
		problem.Write(w, r, problem.Problem{Status: http.StatusForbidden, Policy: "auth", Reason: string(DecisionForbidden)})
	default:
		p.onDecision(DecisionUnavailable)
		p.log.Error("auth: authenticator failed; refusing the request", "err", err, "request_id", requestid.FromContext(r.Context()), "reason", "store_unavailable")
		w.Header().Set("Retry-After", "5")
		problem.Write(w, r, problem.Problem{Status: http.StatusServiceUnavailable, Policy: "auth", Reason: "store_unavailable"})
	}
}

// redirectToLogin sends a browser to the login page with the current path
// as next, if it is a safe one.
func (p *Policy) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	target := p.loginURL
	if next, ok := (*Redirects)(nil).Sanitize(r.URL.RequestURI()); ok {
		target += "?next=" + url.QueryEscape(next)
	}
	problem.Record(w, "auth")
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}
