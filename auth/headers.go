package auth

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/rampartsec/rampart/internal/reserved"
)

// IdentityHeaders names the request headers that carry the identity to the
// upstream. Client-supplied headers with these names, and with the
// default names even when renamed — compared case-insensitively and with
// "_" read as "-" — are always removed first, on every route, so that only
// Rampart can set them.
type IdentityHeaders struct {
	// User carries Identity.Subject. Default "X-Rampart-User".
	User string `yaml:"user"`
	// Roles carries Identity.Roles, comma-separated. Default
	// "X-Rampart-Roles".
	Roles string `yaml:"roles"`
	// Scopes carries Identity.Scopes, space-separated as in OAuth.
	// Default "X-Rampart-Scopes".
	Scopes string `yaml:"scopes"`
	// Method carries Identity.Method ("session", "token" or "issuer"), so
	// that the upstream can tell a local user from an external subject
	// of the same name. Default "X-Rampart-Auth-Method".
	Method string `yaml:"method"`
	// Issuer carries Identity.Issuer for external tokens. Default
	// "X-Rampart-Issuer".
	Issuer string `yaml:"issuer"`
}

// headerSet is IdentityHeaders normalised once.
type headerSet struct {
	user, roles, scopes, method, issuer string
	// reserved are the names to strip from client requests.
	reserved reserved.Names
}

func newHeaderSet(h IdentityHeaders) (headerSet, error) {
	var s headerSet
	names := []*string{&h.User, &h.Roles, &h.Scopes, &h.Method, &h.Issuer}
	defaults := []string{"X-Rampart-User", "X-Rampart-Roles", "X-Rampart-Scopes", "X-Rampart-Auth-Method", "X-Rampart-Issuer"}
	seen := map[string]bool{}
	for i, p := range names {
		if *p == "" {
			*p = defaults[i]
		}
		if !validHeaderName(*p) {
			return headerSet{}, fmt.Errorf("auth: identity header name %q is not a valid header name", *p)
		}
		f := fold(*p)
		if seen[f] {
			return headerSet{}, fmt.Errorf("auth: identity header name %q is used twice", *p)
		}
		seen[f] = true
		*p = textproto.CanonicalMIMEHeaderKey(*p)
	}
	// The default names are stripped even when renamed: an upstream
	// written against the defaults must not read a client's copy.
	s.reserved = reserved.New(defaults...).With(h.User, h.Roles, h.Scopes, h.Method, h.Issuer)
	s.user, s.roles, s.scopes, s.method, s.issuer = h.User, h.Roles, h.Scopes, h.Method, h.Issuer
	return s, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func fold(s string) string { return reserved.Fold(s) }

// strip removes every client-supplied identity header from h.
func (s *headerSet) strip(h http.Header) { s.reserved.Strip(h) }

// set writes id into h. It returns false, writing nothing, if a value
// cannot travel safely in a header (a control character in a subject from
// an external token, a comma inside a role); the caller then refuses the
// request rather than send a truncated or ambiguous identity.
func (s *headerSet) set(h http.Header, id *Identity) bool {
	if !safeValue(id.Subject, "") || !safeValue(id.Method, "") || !safeValue(id.Issuer, "") {
		return false
	}
	for _, r := range id.Roles {
		if r == "" || !safeValue(r, ", ") {
			return false
		}
	}
	for _, sc := range id.Scopes {
		if sc == "" || !safeValue(sc, " ,") {
			return false
		}
	}
	h[s.user] = []string{id.Subject}
	if len(id.Roles) > 0 {
		h[s.roles] = []string{strings.Join(id.Roles, ",")}
	}
	if len(id.Scopes) > 0 {
		h[s.scopes] = []string{strings.Join(id.Scopes, " ")}
	}
	if id.Method != "" {
		h[s.method] = []string{id.Method}
	}
	if id.Issuer != "" {
		h[s.issuer] = []string{id.Issuer}
	}
	return true
}

// safeValue reports whether v is printable ASCII without the bytes in
// also.
func safeValue(v, also string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || strings.IndexByte(also, c) >= 0 {
			return false
		}
	}
	return true
}

// Stripper removes client-supplied identity headers. The route-rule
// Policy does this itself; Stripper is for paths that have no Policy,
// such as Rampart's own endpoints.
type Stripper struct{ hs headerSet }

// NewStripper returns a Stripper for the header names in h (defaults
// applied).
func NewStripper(h IdentityHeaders) (*Stripper, error) {
	hs, err := newHeaderSet(h)
	if err != nil {
		return nil, err
	}
	return &Stripper{hs: hs}, nil
}

// Strip removes the identity headers from h.
func (s *Stripper) Strip(h http.Header) { s.hs.strip(h) }

// Handler returns a handler that strips the identity headers from each
// request before calling next.
func (s *Stripper) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hs.strip(r.Header)
		next.ServeHTTP(w, r)
	})
}
