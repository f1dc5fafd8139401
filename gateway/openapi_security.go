package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/validate"
)

// An OpenAPI document's security requirements are route rules. Each scheme
// maps to the authentication methods that can vouch for it:
//
//	http bearer, oauth2, openIdConnect  Rampart's access tokens and the auth.issuers' tokens
//	apiKey in cookie, the session cookie's name  sessions
//
// Any other scheme (http basic, mutualTLS, an apiKey Rampart does not
// issue) is a start-up error: a requirement Rampart cannot check must not
// become a route anyone can call. The scopes of oauth2 and openIdConnect
// requirements must all be on the identity; for other schemes OpenAPI 3.1
// lists role names, which the identity must all have.

// credential is a kind of credential an OpenAPI scheme asks for.
type credential uint8

const (
	credBearer credential = iota
	credSession
	nCredentials
)

// schemeCheck is one scheme of a requirement, mapped.
type schemeCheck struct {
	cred   credential
	scopes []string
	roles  []string
}

// securityRule enforces a document's security requirement: any one of its
// alternatives (OR), each satisfied when every scheme in it is (AND) by
// the same principal. It is an auth.Authenticator for the route's
// auth.Policy, which turns its answers into 401 and 403.
type securityRule struct {
	a *authn
	// methods are the authenticators of each kind of credential, in the
	// order identify tries them.
	methods [nCredentials][]auth.Authenticator
	alts    [][]schemeCheck
	// anonymous: an empty alternative ({}) lets requests without a
	// credential through.
	anonymous bool
}

var _ auth.Authenticator = (*securityRule)(nil)

type credResult struct {
	done bool
	id   *auth.Identity
	err  error
}

// Authenticate returns the identity of the first alternative r satisfies.
// Without one it returns an error for a credential that is present and bad
// (or could not be checked), auth.ErrForbidden when a credential was good
// but lacked a scope or role, and (nil, nil) when none was sent — on a
// route with an anonymous alternative also when the identity satisfies
// none of the others, since the request may then pass as anonymous.
func (s *securityRule) Authenticate(r *http.Request) (*auth.Identity, error) {
	var results [nCredentials]credResult
	var firstErr error
	forbidden := false
	for _, alt := range s.alts {
		var who *auth.Identity
		ok := true
		for _, c := range alt {
			res := &results[c.cred]
			if !res.done {
				res.id, res.err = s.authenticate(r, c.cred)
				res.done = true
			}
			switch {
			case res.err != nil:
				if firstErr == nil {
					firstErr = res.err
				}
				ok = false
			case res.id == nil:
				ok = false
			case !hasAll(res.id.Scopes, c.scopes) || !hasAll(res.id.Roles, c.roles):
				forbidden, ok = true, false
			case who != nil && who.Principal() != res.id.Principal():
				// Two credentials of two people are not one requester.
				forbidden, ok = true, false
			case who == nil:
				who = res.id
			}
			if !ok {
				break
			}
		}
		if ok && who != nil {
			return who, nil
		}
	}
	switch {
	case firstErr != nil:
		return nil, firstErr
	case s.anonymous:
		return nil, nil
	case forbidden:
		return nil, auth.ErrForbidden
	}
	return nil, nil
}

// authenticate runs the methods that read cred, reusing the answer
// identify found when it came from one of them.
func (s *securityRule) authenticate(r *http.Request, cred credential) (*auth.Identity, error) {
	methods := s.methods[cred]
	if res, ok := r.Context().Value(identifiedKey{}).(*identified); ok {
		if res.from == nil {
			// identify ran every method and none found a credential.
			return nil, nil
		}
		for _, m := range methods {
			if m == res.from {
				return res.id, res.err
			}
		}
	}
	for _, m := range methods {
		id, err := m.Authenticate(r)
		if err != nil || id != nil {
			return id, err
		}
	}
	return nil, nil
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// modeRank orders modes from the loosest to the strictest.
func modeRank(m auth.Mode) int {
	switch m {
	case auth.ModeNone:
		return 0
	case auth.ModeOptional:
		return 1
	}
	return 2
}

// routeAuth returns the authentication mode and authenticators of a
// route: the configuration's, unless the route is an OpenAPI operation
// whose document declares security, which then decides, tightened by a
// routes: entry and loosened only with unsafe_override_security.
func (b *routeBuilder) routeAuth(e entry) (auth.Mode, []auth.Authenticator, error) {
	c := b.c
	mode, authns := b.mode(e), b.authn.authenticators()
	override := e.idx >= 0 && c.Routes[e.idx].UnsafeOverrideSecurity
	sec, err := b.operationSecurity(e)
	if err != nil {
		return 0, nil, err
	}
	if sec == nil {
		if override {
			return 0, nil, c.Errorf(e.key+".unsafe_override_security", "this route has no security from the OpenAPI document to override")
		}
		return mode, authns, nil
	}
	docMode := auth.ModeRequired
	switch {
	case len(sec.Alternatives) == 0:
		docMode = auth.ModeNone
	case sec.Public():
		docMode = auth.ModeOptional
	}
	where := "the OpenAPI document (#" + sec.Pointer + ")"
	if e.idx >= 0 && c.Has(e.key+".auth") {
		routeMode := c.Routes[e.idx].Auth
		if modeRank(routeMode) < modeRank(docMode) {
			if !override {
				return 0, nil, c.Errorf(e.key+".auth", "auth: %s loosens the security %s declares for %s (auth: %s); a route may only tighten the document: remove auth here, or set unsafe_override_security: true to override it", routeMode, where, e.rc.Match, docMode)
			}
			b.log.Warn("a route loosens the security the OpenAPI document declares for it", "route", e.key, "match", e.rc.Match, "document", docMode.String(), "route_auth", routeMode.String())
			return routeMode, authns, nil
		}
		if routeMode != docMode {
			// Tightened: the route's mode, and the document's schemes
			// when it names any.
			docMode = routeMode
		}
	}
	if override {
		return 0, nil, c.Errorf(e.key+".unsafe_override_security", "the route does not loosen the security of %s: remove unsafe_override_security", where)
	}
	rule, err := b.securityRule(sec, e)
	if err != nil {
		return 0, nil, err
	}
	if docMode == auth.ModeNone {
		return auth.ModeNone, authns, nil
	}
	if rule == nil {
		// Only anonymous alternatives ({}): any configured method may
		// establish an identity, none is needed.
		if !b.authn.enabled {
			return auth.ModeNone, nil, nil
		}
		return docMode, authns, nil
	}
	return docMode, []auth.Authenticator{rule}, nil
}

// operationSecurity returns the security of the route's operations, nil
// when the route is no operation or its document declares none. The
// operations behind one route must agree: one rule guards them all.
func (b *routeBuilder) operationSecurity(e entry) (*validate.Security, error) {
	if e.spec == nil || b.spec == nil {
		return nil, nil
	}
	secs := b.spec.Security(*e.spec)
	if len(secs) == 0 {
		return nil, nil
	}
	for i := 1; i < len(secs); i++ {
		if !secs[0].Equal(secs[i]) {
			return nil, b.c.Errorf("openapi", "operations %q and %q share the route %s but declare different security: Rampart applies one rule per route, so give them the same security or paths that differ outside a segment", e.spec.Operations[0], e.spec.Operations[i], e.spec.Match())
		}
	}
	return secs[0], nil
}

// securityRule maps a document's requirement to Rampart's methods. It
// returns nil when no alternative names a scheme.
func (b *routeBuilder) securityRule(sec *validate.Security, e entry) (*securityRule, error) {
	a := b.authn
	rule := &securityRule{a: a}
	if a.tokens != nil {
		rule.methods[credBearer] = append(rule.methods[credBearer], a.tokens)
	}
	if a.issuers != nil {
		rule.methods[credBearer] = append(rule.methods[credBearer], a.issuers)
	}
	if a.sessions != nil {
		rule.methods[credSession] = append(rule.methods[credSession], a.sessions)
	}
	var errs []error
	for _, alt := range sec.Alternatives {
		if len(alt) == 0 {
			rule.anonymous = true
			continue
		}
		var checks []schemeCheck
		for _, use := range alt {
			ck, err := b.schemeCheck(use, rule)
			if err != nil {
				errs = append(errs, b.c.Errorf("openapi", "%s: security scheme %q (#%s): %v", e.rc.Match, use.Scheme.Name, use.Scheme.Pointer, err))
				continue
			}
			checks = append(checks, ck)
		}
		rule.alts = append(rule.alts, checks)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(rule.alts) == 0 {
		return nil, nil
	}
	return rule, nil
}

// schemeCheck maps one scheme to a kind of credential Rampart checks.
func (b *routeBuilder) schemeCheck(use validate.SchemeUse, rule *securityRule) (schemeCheck, error) {
	sc := use.Scheme
	var ck schemeCheck
	switch {
	case sc.Type == "http" && sc.Scheme == "bearer", sc.Type == "oauth2", sc.Type == "openIdConnect":
		ck.cred = credBearer
		if len(rule.methods[credBearer]) == 0 {
			return ck, fmt.Errorf("%s needs bearer tokens: configure auth.tokens or auth.issuers", describeScheme(sc))
		}
	case sc.Type == "apiKey" && sc.In == "cookie":
		ck.cred = credSession
		if b.authn.sessions == nil {
			return ck, fmt.Errorf("%s is a session cookie only when auth.sessions is configured", describeScheme(sc))
		}
		if name := b.authn.sessions.CookieName(); sc.ParamName != name {
			return ck, fmt.Errorf("%s is not the session cookie %q: Rampart cannot check it", describeScheme(sc), name)
		}
	default:
		return ck, fmt.Errorf("cannot enforce %s: use http bearer, oauth2, openIdConnect or the session cookie, or check it in the application and declare the operation with security: []", describeScheme(sc))
	}
	if sc.Type == "oauth2" || sc.Type == "openIdConnect" {
		ck.scopes = use.Scopes
	} else {
		ck.roles = use.Scopes
	}
	return ck, nil
}

func describeScheme(sc validate.SecurityScheme) string {
	switch sc.Type {
	case "http":
		return "http " + sc.Scheme + " authentication"
	case "apiKey":
		return "an apiKey in " + sc.In + " " + fmt.Sprintf("%q", sc.ParamName)
	}
	return strings.TrimSpace(sc.Type)
}
