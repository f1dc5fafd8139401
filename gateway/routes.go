package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/pages"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/validate"
)

// routeBuilder builds the route table: each route's own chain of policies
// in front of the upstream, Rampart's endpoints, and the default deny.
type routeBuilder struct {
	pages    *pages.Pages
	c        *config.Config
	upstream http.Handler
	allow    *access.Policy
	headers  *headers.Policy
	reports  http.Handler
	metrics  *metrics
	log      *slog.Logger
	ips      *clientip.Resolver
	lease    *lease
	// namespace is the deployment's Redis namespace.
	namespace string
	authn     *authn

	rate                    *ratelimit.Limiter // global rate limits; nil when none
	rateStore, rateFallback ratelimit.Store
	cors                    *cors.Policy     // global CORS; nil when not configured
	csrf                    *csrf.Protection // global CSRF
	csrfKey                 []byte
	csrfModes               map[string]*csrf.Protection
	// spec is the OpenAPI document, when configured.
	spec *validate.Spec
	// matrix: an operation of spec declares a matrix-style path
	// parameter, so paths with ';' go on to the route table.
	matrix bool
	// preflights answers CORS preflights for declared routes, by pattern:
	// a preflight is an OPTIONS request, which a "POST /api/items" route
	// does not match.
	preflights map[string]http.Handler
}

func (b *routeBuilder) build() (http.Handler, error) {
	c := b.c
	// Mistakes are collected, not returned one at a time: a route's error
	// does not hide the next route's.
	var errs []error
	if err := b.buildShared(); err != nil {
		if b.csrf == nil || b.preflights == nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	mux := http.NewServeMux()
	// Rampart's own endpoints: never proxied, whatever the routes say.
	mux.Handle("/.rampart/", &route{pattern: "/.rampart/", next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Policy: "rampart"})
	})})
	mux.Handle("GET "+pages.StylesheetPath, &route{pattern: "GET " + pages.StylesheetPath, next: b.pages.Stylesheet()})
	mux.Handle("POST /.rampart/csp-report", &route{pattern: "POST /.rampart/csp-report", next: b.reports})
	mux.Handle("GET /.rampart/csrf", &route{pattern: "GET /.rampart/csrf", cors: b.cors, next: b.withCORS(b.csrf.TokenHandler())})
	b.mountAuth(mux)

	entries, err := b.entries()
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	var patterns []string
	hasCatchAll := false
	for i, e := range entries {
		if reservedPath(e.rc.Match) {
			errs = append(errs, c.Errorf(e.key+".match", "pattern %q covers Rampart's own endpoints under /.rampart/ (or /.well-known/jwks.json), which are never proxied: choose another path", e.rc.Match))
			continue
		}
		rt, err := b.route(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := register(mux, e.rc.Match, rt); err != nil {
			errs = append(errs, b.conflict(entries[:i], e))
			continue
		}
		patterns = append(patterns, e.rc.Match)
		hasCatchAll = hasCatchAll || isCatchAll(e.rc.Match)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if !hasCatchAll {
		var deny http.Handler = &denyUnmatched{mux: mux, methods: declaredMethods(patterns)}
		if b.rate != nil {
			// Requests for undeclared paths count against the global
			// limits too: scanners must not probe for free.
			deny = b.rate.Handler(deny)
		}
		if err := register(mux, "/", deny); err != nil {
			return nil, c.Errorf("routes", "%v", err)
		}
	}
	if len(b.preflights) == 0 {
		return mux, nil
	}
	return &preflightRouter{mux: mux, byPattern: b.preflights}, nil
}

// buildShared builds the policies every route shares.
func (b *routeBuilder) buildShared() error {
	c := b.c
	// Each shared policy is built even when another failed, so that all
	// their mistakes are reported together.
	var errs []error
	var err error
	if b.rateStore, b.rateFallback, err = b.lease.rate(c, b.namespace); err != nil {
		return err
	}
	if len(c.RateLimits) > 0 {
		if b.rate, err = b.newLimiter(c.RateLimits, "global", "rate_limits"); err != nil {
			errs = append(errs, err)
		}
	}
	if c.CORS != nil {
		p, err := b.newCORS(*c.CORS, "cors")
		if err != nil {
			errs = append(errs, err)
		}
		b.cors = p
	}
	key, err := b.loadCSRFKey()
	if err != nil {
		errs = append(errs, err)
		key = make([]byte, 32)
	}
	b.csrfKey = key
	b.csrfModes = map[string]*csrf.Protection{}
	var origins []string
	if c.CORS != nil && b.cors != nil {
		// Only a CORS policy that was built lends its origins to CSRF;
		// a refused one is reported once, under cors.
		origins = c.CORS.Origins
	}
	p, err := b.csrfFor("", origins)
	if err != nil {
		errs = append(errs, c.Errorf("csrf", "%v", err))
	}
	b.csrf = p
	b.preflights = map[string]http.Handler{}
	return errors.Join(errs...)
}

// newLimiter builds a rate limiter over the shared stores.
func (b *routeBuilder) newLimiter(rules []ratelimit.Rule, namespace, key string) (*ratelimit.Limiter, error) {
	l, err := ratelimit.New(ratelimit.Config{
		Rules:          rules,
		Namespace:      namespace,
		Store:          b.rateStore,
		Fallback:       b.rateFallback,
		Resolver:       b.ips,
		Route:          routePattern,
		User:           userOf,
		Logger:         b.log,
		OnDecision:     b.metrics.rateDecision,
		OnStoreFailure: b.metrics.storeFailure("ratelimit"),
	})
	if err != nil {
		return nil, b.c.Errorf(key, "%v", err)
	}
	return l, nil
}

// routePattern is the route key of rate limits: the matched pattern.
func routePattern(r *http.Request) string { return r.Pattern }

func (b *routeBuilder) newCORS(cc cors.Config, key string) (*cors.Policy, error) {
	cc.Logger = b.log
	cc.OnDecision = b.metrics.corsDecision
	p, err := cors.New(cc)
	if err != nil {
		return nil, b.c.Errorf(key, "%v", err)
	}
	return p, nil
}

// loadCSRFKey reads csrf.key_file or csrf.key, or makes a random key for
// this process.
func (b *routeBuilder) loadCSRFKey() ([]byte, error) {
	c := b.c
	if c.CSRF.Key != "" {
		if len(c.CSRF.Key) < 32 {
			return nil, c.Errorf("csrf.key", "the key must be at least 32 bytes, got %d", len(c.CSRF.Key))
		}
		return []byte(c.CSRF.Key), nil
	}
	if c.CSRF.KeyFile == "" {
		// The process's key, not this configuration's: a reload of the
		// same file must not invalidate every form already rendered.
		key := b.lease.s.processCSRFKey()
		if m := c.CSRF.Mode; m == csrf.ModeToken || m == csrf.ModeBoth {
			b.log.Warn("csrf.key_file is not set: CSRF tokens are signed with a random key that does not survive a restart or work across replicas")
		}
		return key, nil
	}
	key, err := os.ReadFile(c.RelativePath(c.CSRF.KeyFile))
	if err != nil {
		return nil, c.Errorf("csrf.key_file", "%v", err)
	}
	if len(key) < 32 {
		return nil, c.Errorf("csrf.key_file", "the key must be at least 32 bytes, got %d", len(key))
	}
	return key, nil
}

// csrfFor returns the CSRF protection for a route mode ("" = global) on a
// route whose CORS policy allows corsOrigins. Origins allowed by CORS are
// trusted by CSRF too: allowing an origin's cross-origin PUT in CORS and
// then refusing it as a forgery would be a contradiction.
func (b *routeBuilder) csrfFor(mode csrf.Mode, corsOrigins []string) (*csrf.Protection, error) {
	var trusted []string
	for _, o := range corsOrigins {
		if o != "*" && o != "null" {
			trusted = append(trusted, o)
		}
	}
	key := string(mode) + "|" + strings.Join(trusted, " ")
	if p, ok := b.csrfModes[key]; ok {
		return p, nil
	}
	cc := b.c.CSRF.Config
	if mode != "" {
		cc.Mode = mode
	}
	cc.TrustedOrigins = append(slices.Clone(cc.TrustedOrigins), trusted...)
	cc.Key = b.csrfKey
	if b.authn.sessions != nil {
		cc.SessionID = b.authn.sessionID
	}
	cc.Proxies = b.ips
	if b.c.Env == config.Development {
		// Development over plain HTTP on any host name works without
		// settings: the binding cookie drops Secure there (never over
		// HTTPS, never in production).
		cc.UnsafePlainHTTP = plainHTTP(b.ips)
	}
	cc.Logger = b.log
	cc.OnDecision = b.metrics.csrfDecision
	p, err := csrf.New(cc)
	if err != nil {
		return nil, err
	}
	b.csrfModes[key] = p
	return p, nil
}

// entry is one route to build: the configured settings, and the OpenAPI
// route it validates against, if any.
type entry struct {
	rc   config.Route
	key  string // configuration key for errors
	idx  int    // index in c.Routes, or -1
	spec *validate.Route
}

// mode is the route's authentication mode.
func (b *routeBuilder) mode(e entry) auth.Mode {
	if e.idx >= 0 {
		return b.c.RouteAuth(e.idx)
	}
	if b.authn.enabled {
		return auth.ModeRequired
	}
	return auth.ModeNone
}

// mountAuth serves the authentication endpoints that are configured. Each
// is behind the global rate limits; login and token are also behind login
// protection, inside the login service.
func (b *routeBuilder) mountAuth(mux *http.ServeMux) {
	a := b.authn
	mount := func(pattern string, h http.Handler) {
		// The configured CORS policy applies to Rampart's own endpoints
		// too: an allowed origin's single-page app can obtain tokens,
		// sign in and read /.rampart/me (with credentials where the
		// policy allows them), and its preflights are answered.
		h = b.withCORS(h)
		if b.rate != nil {
			h = b.rate.Handler(h)
		}
		mux.Handle(pattern, &route{pattern: pattern, maxBody: 64 << 10, cors: b.cors, next: h})
	}
	if a.sessions != nil && a.login != nil {
		mount("/.rampart/login", a.login.LoginHandler())
		mount("/.rampart/logout", a.login.LogoutHandler())
		mount("/.rampart/me", a.login.MeHandler())
	}
	if a.tokens != nil {
		mount("/.rampart/token", a.tokens.TokenHandler())
		mount("GET /.well-known/jwks.json", a.tokens.JWKS())
	}
	if a.oidc != nil {
		mount("GET /.rampart/oidc/login", a.oidc.Start())
		mount("GET /.rampart/oidc/callback", a.oidc.Callback())
	}
}

// withCORS puts h behind the global CORS policy, when there is one.
func (b *routeBuilder) withCORS(h http.Handler) http.Handler {
	if b.cors == nil {
		return h
	}
	return b.cors.Handler(h)
}

// entries merges the configured routes with the OpenAPI document's: a
// configured route whose pattern is also an operation adds its settings to
// it. With neither, there is one catch-all route.
func (b *routeBuilder) entries() ([]entry, error) {
	c := b.c
	var out []entry
	byPattern := map[string]int{}
	if c.OpenAPI != "" {
		responses := c.Env == config.Development
		if c.Validation.Responses != nil {
			responses = *c.Validation.Responses
		}
		spec, err := validate.Load(c.RelativePath(c.OpenAPI), validate.Options{
			MaxBodyBytes:      c.Limits.MaxBodyBytes,
			MaxDepth:          c.Validation.MaxDepth,
			Strict:            c.Validation.Strict,
			ValidateResponses: responses,
			Logger:            b.log,
			OnDecision:        b.metrics.validationDecision,
			BasePath:          c.Validation.BasePath,
			BodyBudget:        b.lease.s.bodyBudget(c.Validation.MaxBufferedBytes),
		})
		if err != nil {
			return nil, c.Errorf("openapi", "%v", err)
		}
		b.spec = spec
		for _, sr := range spec.Routes() {
			byPattern[normPattern(sr.Match())] = len(out)
			out = append(out, entry{rc: config.Route{Match: sr.Match()}, key: "openapi", idx: -1, spec: &sr})
		}
	}
	for i, rc := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if j, ok := byPattern[normPattern(rc.Match)]; ok {
			// The document's pattern is kept: its wildcard names are what
			// the validator knows.
			match := out[j].rc.Match
			out[j].rc, out[j].key, out[j].idx = rc, key, i
			out[j].rc.Match = match
			continue
		}
		out = append(out, entry{rc: rc, key: key, idx: i})
	}
	if len(out) == 0 {
		// Zero routes: one catch-all route with every global policy.
		out = append(out, entry{rc: config.Route{Match: "/"}, key: "routes", idx: -1})
	}
	return out, nil
}

// normPattern forgets wildcard names: "GET /a/{id}" and "GET /a/{x}" are
// the same route to ServeMux.
func normPattern(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		name := p[i+1 : i+j]
		switch {
		case name == "$":
			b.WriteString("{$}")
		case strings.HasSuffix(name, "..."):
			b.WriteString("{...}")
		default:
			b.WriteString("{}")
		}
		p = p[i+j+1:]
	}
}

// validator returns the route's request validator, or nil when it has none.
func (b *routeBuilder) validator(e entry, maxBody int64) (*validate.Validator, error) {
	c := b.c
	var vc validate.Config
	if e.rc.Validate != nil {
		vc = *e.rc.Validate
	}
	if vc.MaxBodyBytes == 0 {
		vc.MaxBodyBytes = maxBody
	}
	vc.OnDecision = b.metrics.validationDecision
	vc.BodyBudget = b.lease.s.bodyBudget(c.Validation.MaxBufferedBytes)
	if e.spec != nil {
		v, err := b.spec.Validator(e.spec.Method, e.spec.Pattern, vc)
		if err != nil {
			return nil, c.Errorf(e.key+".validate", "%v", err)
		}
		return v, nil
	}
	if e.rc.Validate == nil {
		return nil, nil
	}
	vc.BaseDir = c.RelativePath(".")
	vc.Match = e.rc.Match
	if vc.MaxDepth == 0 {
		vc.MaxDepth = c.Validation.MaxDepth
	}
	vc.Strict = vc.Strict || c.Validation.Strict
	v, err := validate.New(vc)
	if err != nil {
		return nil, c.Errorf(e.key+".validate", "%v", err)
	}
	return v, nil
}

// route builds one route's chain. From the outside in: security header
// overrides, route IP lists, global then route rate limits, CORS, CSRF,
// request validation, then the upstream.
func (b *routeBuilder) route(e entry) (*route, error) {
	c := b.c
	rc, key := e.rc, e.key
	maxBody := c.Limits.MaxBodyBytes
	if rc.MaxBodyBytes > 0 {
		maxBody = rc.MaxBodyBytes
	}
	// Every policy of the route is built even when another fails, so
	// that all of its mistakes are reported together.
	var errs []error
	next := b.upstream
	v, err := b.validator(e, maxBody)
	if err != nil {
		errs = append(errs, err)
	} else if v != nil {
		next = v.Handler(next)
	}
	mode, authns, authErr := b.routeAuth(e)
	rule, err := auth.New(auth.Config{
		Auth: mode, Roles: rc.Roles, Scopes: rc.Scopes,
		Authenticators: authns,
		Headers:        c.Auth.IdentityHeaders,
		LoginURL:       b.authn.loginURL(),
		Realm:          "rampart",
		Logger:         b.log,
		OnDecision:     b.metrics.authRule,
	})
	switch {
	case authErr != nil:
		errs = append(errs, authErr)
	case err != nil:
		errs = append(errs, c.Errorf(key+".auth", "%v", err))
	default:
		// Always in the chain, whatever the mode: it strips client
		// copies of the identity headers.
		next = rule.Handler(next)
	}

	corsP := b.cors
	var corsOrigins []string
	if c.CORS != nil && b.cors != nil {
		corsOrigins = c.CORS.Origins
	}
	if rc.CORS != nil {
		var err error
		corsOrigins = rc.CORS.Origins
		if corsP, err = b.newCORS(*rc.CORS, key+".cors"); err != nil {
			errs = append(errs, err)
			corsOrigins = nil // reported once, under cors
		}
	}
	csrfP, err := b.csrfFor(rc.CSRF, corsOrigins)
	if err != nil {
		errs = append(errs, c.Errorf(key+".csrf", "%v", err))
	} else {
		next = csrfP.Handler(next)
	}
	// preflight answers this route's CORS preflights, behind the same IP
	// lists and rate limits as the route itself.
	var preflight http.Handler
	if corsP != nil {
		next = corsP.Handler(next)
		preflight = corsP.Handler(http.NotFoundHandler())
	}
	var routeRate *ratelimit.Limiter
	if len(rc.RateLimits) > 0 {
		if routeRate, err = b.newLimiter(rc.RateLimits, rc.Match, key+".rate_limits"); err != nil {
			errs = append(errs, err)
		}
	}
	ac := rc.Route
	ac.AllowIPsFile, ac.DenyIPsFile = c.RelativePath(ac.AllowIPsFile), c.RelativePath(ac.DenyIPsFile)
	routeAccess, err := b.allow.Route(ac)
	if err != nil {
		errs = append(errs, c.Errorf(key, "%v", err))
	}
	var routeHeaders *headers.Policy
	if rc.Headers != nil {
		if routeHeaders, err = b.headers.With(*rc.Headers); err != nil {
			errs = append(errs, c.Errorf(key+".headers", "%v", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	outer := func(h http.Handler, identify bool) http.Handler {
		if routeRate != nil {
			h = routeRate.Handler(h)
		}
		if b.rate != nil {
			h = b.rate.Handler(h)
		}
		if identify {
			// Identify once, before rate limits keyed by user.
			h = b.authn.identify(h)
		}
		return routeAccess.Handler(h)
	}
	next = outer(next, b.authn.enabled && mode != auth.ModeNone)
	var matrix []int
	if e.spec != nil && len(e.spec.MatrixSegments) > 0 {
		matrix = e.spec.MatrixSegments
		b.matrix = true
	}
	if preflight != nil {
		b.preflights[rc.Match] = &route{pattern: rc.Match, cors: corsP, matrixSegments: matrix, next: outer(preflight, false)}
	}

	if routeHeaders != nil {
		next = routeHeaders.Handler(next)
	}
	return &route{pattern: rc.Match, maxBody: maxBody, encodedDelimiters: rc.AllowEncodedDelimiters, matrixSegments: matrix, cors: corsP, next: next}, nil
}

// preflightRouter sends a CORS preflight to the route of the method it asks
// about, since the preflight's own method (OPTIONS) matches no declared route.
type preflightRouter struct {
	mux       *http.ServeMux
	byPattern map[string]http.Handler
}

func (p *preflightRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if cors.IsPreflight(r) {
		probe := &http.Request{Method: r.Header.Get("Access-Control-Request-Method"), URL: r.URL, Host: r.Host, Header: r.Header}
		if _, pattern := p.mux.Handler(probe); pattern != "" {
			if h, ok := p.byPattern[pattern]; ok {
				h.ServeHTTP(w, r)
				return
			}
		}
	}
	p.mux.ServeHTTP(w, r)
}

// route is one entry of the route table: its own chain of policies in front
// of the proxy.
type route struct {
	pattern string
	maxBody int64
	// cors is the route's CORS policy, nil without one.
	cors *cors.Policy
	// encodedDelimiters: paths with an encoded '?' or '#' are served.
	encodedDelimiters bool
	// matrixSegments are the path segments (0 is the first after '/')
	// that hold a matrix-style parameter: the only ones where ';' is
	// served.
	matrixSegments []int
	next           http.Handler
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := exchangeOf(w); e != nil {
		e.route = rt.pattern
		if rt.cors != nil {
			e.cors = rt.cors
		}
		if e.encodedDelimiter && !rt.encodedDelimiters {
			problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: "encoded_delimiter"})
			return
		}
		if e.pathParameter && !rt.servesParameters(r.URL.Path) {
			problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: "path_parameter"})
			return
		}
	}
	if rt.maxBody > 0 && r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > rt.maxBody {
			w.Header().Set("Connection", "close")
			problem.Write(w, r, problem.Problem{Status: http.StatusRequestEntityTooLarge, Policy: "limits", Reason: "body_too_large"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody)
	}
	rt.next.ServeHTTP(w, r)
}

// reservedPath reports whether pattern's path is under /.rampart/ or is
// the JWKS document: Rampart's own, whatever the routes say.
func reservedPath(pattern string) bool {
	p := strings.TrimSpace(pattern)
	if _, rest, ok := strings.Cut(p, " "); ok {
		p = strings.TrimSpace(rest)
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[i:]
	}
	return p == "/.rampart" || strings.HasPrefix(p, "/.rampart/") || p == "/.well-known/jwks.json"
}

// isCatchAll reports whether pattern matches every method, host and path:
// "/" or "/{name...}".
func isCatchAll(pattern string) bool {
	switch normPattern(strings.TrimSpace(pattern)) {
	case "/", "/{...}":
		return true
	}
	return false
}

// conflict explains why e's pattern could not be registered, in terms of
// the configuration: which earlier route (or Rampart endpoint) it
// conflicts with, by key and line — never ServeMux's own message, which
// names Rampart's source files.
func (b *routeBuilder) conflict(earlier []entry, e entry) error {
	c := b.c
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	probe := http.NewServeMux()
	if err := register(probe, e.rc.Match, nop); err != nil {
		return c.Errorf(e.key+".match", "invalid pattern %q: %s", e.rc.Match, muxReason(err))
	}
	for _, prev := range earlier {
		m := http.NewServeMux()
		m.Handle(prev.rc.Match, nop)
		if register(m, e.rc.Match, nop) == nil {
			continue
		}
		where := prev.key
		if prev.idx < 0 && prev.spec != nil {
			where = "the OpenAPI operation " + prev.spec.Method + " " + prev.spec.Pattern
		} else if line := c.Line(prev.key); line > 0 {
			where = fmt.Sprintf("%s (line %d)", prev.key, line)
		}
		return c.Errorf(e.key+".match", "pattern %q conflicts with %q at %s: both match some requests and neither is more specific; make one of them more specific or merge them", e.rc.Match, prev.rc.Match, where)
	}
	return c.Errorf(e.key+".match", "pattern %q conflicts with Rampart's own endpoints under /.rampart/ and /.well-known/jwks.json: choose another path", e.rc.Match)
}

// muxReason is ServeMux's message without the source location it appends.
func muxReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " (registered at "); i >= 0 {
		if j := strings.Index(msg[i:], ")"); j >= 0 {
			msg = msg[:i] + msg[i+j+1:]
		}
	}
	return msg
}

// register adds a pattern to mux, turning ServeMux's panic on a conflicting
// pattern into an error.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// commonMethods are always considered when computing Allow for a 405.
var commonMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

func declaredMethods(patterns []string) []string {
	methods := slices.Clone(commonMethods)
	for _, p := range patterns {
		if m, _, ok := strings.Cut(p, " "); ok && !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	return methods
}

// servesParameters reports whether every ';' of path is in a segment that
// holds one of the route's matrix-style parameters, and starts it: the
// value of such a parameter begins with ";name".
func (rt *route) servesParameters(path string) bool {
	if len(rt.matrixSegments) == 0 {
		return false
	}
	for i, seg := 0, path[1:]; ; i++ {
		end := strings.IndexByte(seg, '/')
		cur := seg
		if end >= 0 {
			cur = seg[:end]
		}
		if strings.IndexByte(cur, ';') >= 0 && (cur[0] != ';' || !slices.Contains(rt.matrixSegments, i)) {
			return false
		}
		if end < 0 {
			return true
		}
		seg = seg[end+1:]
	}
}

// denyUnmatched answers requests that match no route: 405 with Allow when
// the path exists for other methods, 404 otherwise. Both are neutral.
type denyUnmatched struct {
	mux     *http.ServeMux
	methods []string
}

func (d *denyUnmatched) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := exchangeOf(w); e != nil && e.pathParameter {
		problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: "path_parameter"})
		return
	}
	if e := exchangeOf(w); e != nil && e.encodedDelimiter {
		problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: "encoded_delimiter"})
		return
	}
	var allow []string
	for _, m := range d.methods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := d.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: "routes", Reason: "method_not_routed"})
		return
	}
	problem.Write(w, r, problem.Problem{Status: http.StatusNotFound, Policy: "routes", Reason: "path_not_routed"})
}
