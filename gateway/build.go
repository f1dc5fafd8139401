package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/access/canonical"
	"github.com/rampartsec/rampart/audit/checklist"
	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/cookies"
	"github.com/rampartsec/rampart/events"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/internal/reserved"
	"github.com/rampartsec/rampart/pages"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
	"github.com/rampartsec/rampart/shield"
)

// generation is everything built from one configuration: the handler chain
// and the resources it holds. Reload replaces the whole generation.
type generation struct {
	cfg       *config.Config
	handler   http.Handler // global policies, then the route table
	proxy     *proxy
	ips       *clientip.Resolver
	ids       requestid.Config
	cert      *tls.Certificate
	log       *slog.Logger
	metrics   *metrics
	now       func() time.Time
	accessLog bool
	// edge removes the request headers a client must not choose.
	edge    *reserved.Filter
	closers []io.Closer
	// lease holds the shared stores the generation uses.
	lease *lease
	// logins guards password logins against guessing.
	logins *bruteforce.Protector
	// pages renders Rampart's own pages (pages settings); renderer is
	// its error-page renderer, made once so that requests do not each
	// allocate the method value.
	pages    *pages.Pages
	renderer problem.HTMLRenderer
	// forwards reports forwarding headers from untrusted private peers;
	// the Gateway's, shared by every generation.
	forwards     *forwardWatch
	clientHeader string
	// events is the Gateway's event stream; sinks forward this
	// generation's events (webhooks, the Redis fan-out).
	events   *eventHub
	sinks    events.Sinks
	instance string // the name in this generation's events
	findingsCache
	// adminTLS serves the admin listener with admin.cert_file; nil for
	// plain HTTP.
	adminTLS *tls.Config

	inflight atomic.Int64
	retired  atomic.Bool
	// drained is closed once a retired generation has no request left.
	drained   chan struct{}
	drainOnce sync.Once
}

// release ends one request's use of gen; the last one out of a retired
// generation tells retire.
func (gen *generation) release() {
	if gen.inflight.Add(-1) == 0 && gen.retired.Load() {
		gen.signalDrained()
	}
}

// signalDrained closes gen.drained, once.
func (gen *generation) signalDrained() { gen.drainOnce.Do(func() { close(gen.drained) }) }

func (gen *generation) close() {
	gen.proxy.upstream.CloseIdleConnections()
	for _, c := range gen.closers {
		if err := c.Close(); err != nil {
			gen.log.Warn("closing policy", slog.String("error", err.Error()))
		}
	}
	if err := gen.lease.release(); err != nil {
		gen.log.Warn("closing stores the configuration no longer uses", slog.String("error", err.Error()))
	}
}

// build constructs a generation for c. Errors name the configuration key
// (and, for a file, its line). Every stage runs even when an earlier one
// failed — validation, the production guard, and each policy's constructor —
// so that one start reports every mistake at once, as config.Errors.
func (g *Gateway) build(c *config.Config) (gen *generation, err error) {
	var errs config.Errors
	fail := func(e error) { errs = appendErrors(errs, c, e) }
	defer func() {
		if len(errs) == 0 {
			return
		}
		if gen != nil {
			gen.close()
		}
		gen, err = nil, dedupeErrors(errs)
	}()

	fail(c.Validate())
	// The guard's findings come last: a key a policy already refused is
	// not reported again as a finding.
	defer func() { errs = appendFindings(errs, g.guard(c)) }()
	ips, err := clientip.New(clientip.Config{TrustedProxies: c.TrustedProxies, Header: c.ClientIPHeader})
	if err != nil {
		key := "client_ip_header"
		if strings.Contains(err.Error(), "trusted prox") {
			key = "trusted_proxies"
		}
		fail(c.Errorf(key, "%v", err))
		// Later stages need a resolver to be built and checked; the
		// default one trusts no proxy.
		ips, _ = clientip.New(clientip.Config{})
	}
	gen = &generation{
		drained:   make(chan struct{}),
		lease:     g.stores.lease(),
		cfg:       c,
		ips:       ips,
		log:       g.log,
		metrics:   g.metrics,
		now:       g.now,
		accessLog: c.Log.Access == nil || *c.Log.Access,
		ids:       requestid.Config{Trust: ips.FromTrustedProxy},
		forwards:  g.forwards,
		events:    g.events,
		// Canonical form, for a map lookup without allocation.
		clientHeader: http.CanonicalHeaderKey(c.ClientIPHeader),
	}
	ih := c.Auth.IdentityHeaders
	edge, err := reserved.NewFilter(reserved.FilterConfig{
		Owned:             []string{ih.User, ih.Roles, ih.Scopes, ih.Method, ih.Issuer, c.Headers.NonceHeader, c.CSRF.UpstreamHeader},
		TrustedForwarding: c.RequestHeaders.TrustedForwarding,
		AllowUnusualNames: c.RequestHeaders.AllowUnusualNames,
	})
	if err != nil {
		fail(c.Errorf("request_headers", "%v", err))
		edge, _ = reserved.NewFilter(reserved.FilterConfig{})
	}
	gen.edge = edge
	if c.TLS != nil && c.TLS.ACME == nil && c.TLS.Cert != "" && c.TLS.Key != "" {
		cert, err := tls.LoadX509KeyPair(c.RelativePath(c.TLS.Cert), c.RelativePath(c.TLS.Key))
		if err != nil {
			fail(c.Errorf("tls.cert", "loading certificate and key: %v", err))
		} else {
			gen.cert = &cert
		}
	}
	switch {
	case g.app == nil && len(c.Upstream) == 0:
		fail(c.Errorf("upstream", "required: the URL of the application to protect, e.g. http://127.0.0.1:3000"))
	case g.app != nil && len(c.Upstream) > 0:
		g.log.Warn("upstream is ignored: the application is served in-process (gateway.Options.App)")
	}
	gen.proxy = newProxy(c, ips, edge, g.log, g.metrics, g.bufs, g.app)
	rl, err := g.overload.newRequestLimits(c, ips)
	if err != nil {
		fail(err)
	}
	gen.proxy.limits = rl
	ckCfg := c.UpstreamCookies
	ckCfg.IsHTTPS = publicHTTPS(ips)
	hardener, err := cookies.New(ckCfg)
	if err != nil {
		fail(c.Errorf("upstream_cookies", "%v", err))
	}
	ur := &upstreamResponse{cookies: hardener, log: g.log, reported: map[string]struct{}{},
		// Without a CORS policy of Rampart's own, the app's CORS headers
		// pass, except the one mistake that hands its users' data to
		// every site.
		// A route with its own cors replaces the app's headers anyway.
		guardCORS: c.CORS == nil && c.UpstreamCORS != config.UpstreamCORSPass}
	gen.proxy.rp.ModifyResponse = ur.modify

	allowCfg := c.Allow
	allowCfg.IPsFile = c.RelativePath(allowCfg.IPsFile)
	allowCfg.DenyIPsFile = c.RelativePath(allowCfg.DenyIPsFile)
	allowCfg.Resolver = ips
	allowCfg.OnDecision = g.metrics.accessDecision
	allow, err := access.New(allowCfg)
	if err != nil {
		fail(c.Errorf("allow", "%v", err))
		allow, _ = access.New(access.Config{Resolver: ips})
	}
	hdrCfg := c.Headers
	hdrCfg.Secure = publicHTTPS(ips)
	hdr, err := headers.New(hdrCfg)
	if err != nil {
		fail(c.Errorf("headers", "%v", err))
		hdr, _ = headers.New(headers.Config{})
	}
	reportCfg := c.CSPReports
	reportCfg.Logger = g.log
	reportCfg.OnViolation = gen.cspEvent(g.metrics.cspViolation)
	reportCfg.OnDrop = g.metrics.cspDrop
	reportCfg.ClientIP = ips.ClientIP
	reports, err := headers.NewReportHandler(reportCfg)
	if err != nil {
		fail(c.Errorf("csp_reports", "%v", err))
		reports, _ = headers.NewReportHandler(headers.ReportConfig{})
	}
	shieldCfg := c.Errors
	shieldCfg.Logger = g.log
	shieldCfg.OnIncident = g.metrics.shieldIncident
	shieldCfg.OnLogDropped = g.metrics.logDrops.Inc
	sh, err := shield.New(shieldCfg)
	if err != nil {
		fail(c.Errorf("errors", "%v", err))
	} else {
		gen.closers = append(gen.closers, sh)
	}

	if gen.pages, err = pages.New(c.Pages, c.RelativePath(".")); err != nil {
		fail(c.Errorf("pages", "%v", err))
		gen.pages, _ = pages.New(pages.Config{}, "")
	}
	gen.renderer = gen.renderPage

	recordKey, ns, err := g.stores.recordKey(c)
	if err != nil {
		fail(err)
		ns = config.NamespaceDefault
	} else if err := gen.lease.claim(context.Background(), c, recordKey, ns, g.log); err != nil {
		fail(err)
	}
	fail(c.AdminAccessError())
	if gen.adminTLS, err = adminTLSConfig(c); err != nil {
		fail(err)
	}
	fail(g.buildEventSinks(c, gen, ns))
	bfStore, bfFallback, err := gen.lease.bruteforce(c, ns)
	if err != nil {
		fail(err)
		bfStore, bfFallback = g.stores.bfMem, nil
	}
	lp := c.LoginProtection
	lp.Store, lp.Fallback = bfStore, bfFallback
	lp.Logger = g.log
	lp.OnDecision = g.metrics.loginDecision
	lp.OnStoreFailure = g.metrics.storeFailure("login_protection")
	if gen.logins, err = bruteforce.New(lp); err != nil {
		fail(c.Errorf("login_protection", "%v", err))
		gen.logins, _ = bruteforce.New(bruteforce.Config{Store: g.stores.bfMem})
	}
	an, err := g.buildAuth(context.Background(), c, gen.lease, ips, gen.logins, gen.pages, recordKey, ns)
	authFailed := err != nil
	if authFailed {
		fail(err)
		// The routes are still built, to report their own mistakes; their
		// authentication rules cannot be checked without the methods.
		an = &authn{}
	}

	rb := &routeBuilder{pages: gen.pages, c: c, upstream: gen.proxy, allow: allow, headers: hdr, reports: reports, metrics: g.metrics, log: g.log, ips: ips, lease: gen.lease, namespace: ns, authn: an}
	routes, err := rb.build()
	if err != nil {
		if authFailed {
			err = withoutAuthRules(c, err)
		}
		fail(err)
	}
	if len(errs) > 0 || sh == nil || rl == nil {
		return gen, nil // the deferred function reports errs
	}
	// Outermost first: security headers on every response, Rampart's own
	// included; panics recovered inside them; then one canonical host and
	// one canonical path for everything after them, the global allow
	// lists, the error shield over whatever the route table and the
	// upstream answer, and the routes.
	// The overload and abuse limits come before any work is done for a
	// request, but inside the headers (and CORS) so their refusals carry
	// them.
	inner := gen.recoverPanics(rl.handler(ips, refuseMethods(
		allow.HostHandler(canonicalPath(rb.matrix, allow.Handler(sh.Handler(routes)))))))
	if c.CORS != nil || routesHaveCORS(c) {
		// Every answer to an allowed origin carries its CORS headers,
		// Rampart's own refusals and recovered panics included.
		inner = (&corsEdge{global: rb.cors}).Handler(inner)
	}
	gen.handler = hdr.Handler(inner)
	return gen, nil
}

// routesHaveCORS reports whether any route configures its own CORS.
func routesHaveCORS(c *config.Config) bool {
	for _, rc := range c.Routes {
		if rc.CORS != nil {
			return true
		}
	}
	return false
}

// canonicalPath is canonical.Handler with two differences: a path with an
// encoded '?' or '#' goes on to the route table marked, and only a route
// with allow_encoded_delimiters serves it; and when matrix is set (an
// OpenAPI operation declares a matrix-style path parameter), a path with a
// raw ';' goes on marked too, and only such a route serves it, with ';' in
// those parameters' segments alone (route.ServeHTTP refuses it everywhere
// else).
func canonicalPath(matrix bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := canonical.Inspect(r)
		if err != nil {
			// Fail closed: an ambiguous path is refused, never guessed.
			problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: "path"})
			return
		}
		if f.EncodedDelimiter || f.PathParameter {
			ex := exchangeOf(w)
			switch {
			case f.PathParameter && (ex == nil || !matrix):
				problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: "path_parameter"})
				return
			case ex == nil:
				problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Policy: "canonical", Reason: "encoded_delimiter"})
				return
			}
			ex.encodedDelimiter, ex.pathParameter = f.EncodedDelimiter, f.PathParameter
		}
		next.ServeHTTP(w, r)
	})
}

// refuseMethods answers TRACE and CONNECT with a neutral 405: TRACE reflects
// requests (cross-site tracing); CONNECT would make the gateway an open
// tunnel. Neither has a place in front of an application.
func refuseMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodTrace, http.MethodConnect:
			problem.Write(w, r, problem.Problem{Status: http.StatusMethodNotAllowed, Policy: "method", Reason: "method_refused"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in the chain into a neutral 500 inside the
// security headers, with the stack in the log only. If the response was
// already under way, the connection is aborted instead.
func (gen *generation) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			ex := exchangeOf(w)
			gen.log.LogAttrs(r.Context(), slog.LevelError, "panic recovered",
				slog.String("request_id", problem.IncidentID(w, r)),
				slog.String("panic", fmt.Sprint(p)),
				slog.String("stack", string(debug.Stack())))
			if ex != nil && (ex.status != 0 || ex.hijacked) {
				panic(http.ErrAbortHandler)
			}
			problem.Write(w, r, problem.Problem{Status: http.StatusInternalServerError, Policy: "panic"})
		}()
		next.ServeHTTP(w, r)
	})
}

// guard is the production guard: it runs the checklist over c, refuses a
// production configuration with critical findings, and logs every other
// finding as a warning (in development, critical ones too).
func (g *Gateway) guard(c *config.Config) error {
	findings := checklist.Run(c)
	if blocking := checklist.Blocking(c, findings); len(blocking) > 0 {
		errs := make(config.Errors, 0, len(blocking))
		for _, f := range blocking {
			errs = append(errs, &config.FieldError{File: c.File(), Line: f.Line, Key: f.Key,
				Msg: fmt.Sprintf("%s (%s; fix: %s)", f.Title, f.Rule, f.Fix)})
		}
		return errs
	}
	for _, f := range findings {
		g.log.Warn("configuration finding", slog.String("rule", f.Rule), slog.String("severity", f.Severity.String()),
			slog.String("where", f.Location()), slog.String("finding", f.Title), slog.String("fix", f.Fix))
	}
	return nil
}

// ServeHTTP is the outermost handler of a generation: request id, access
// log, metrics and panic recovery around the chain.
func (gen *generation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := gen.now()
	gen.metrics.inflight.Inc()
	ex := &exchange{ResponseWriter: w}
	gen.forwards.check(r, gen.ips, gen.clientHeader)
	gen.edge.Client(r.Header)
	id := requestid.Assign(gen.ids, r)
	w.Header().Set(requestid.Header, id)
	r = r.WithContext(problem.WithHTMLRenderer(requestid.NewContext(r.Context(), id), gen.renderer))
	defer gen.finish(ex, r, id, start)
	gen.handler.ServeHTTP(ex, r)
}

// finish runs after every request: it is the last-resort panic recovery
// (recoverPanics inside the chain handles panics with security headers),
// then writes the access log line and the metrics.
func (gen *generation) finish(ex *exchange, r *http.Request, id string, start time.Time) {
	recovered := recover()
	started := ex.status != 0 || ex.hijacked
	if recovered != nil && recovered != http.ErrAbortHandler {
		gen.log.LogAttrs(r.Context(), slog.LevelError, "panic recovered",
			slog.String("request_id", id),
			slog.String("panic", fmt.Sprint(recovered)),
			slog.String("stack", string(debug.Stack())))
		if !started {
			problem.Write(ex, r, problem.Problem{Status: http.StatusInternalServerError, Policy: "panic"})
		}
	}
	gen.metrics.inflight.Dec()
	status := ex.status
	if status == 0 {
		status = http.StatusOK
	}
	policy := ex.policy
	if policy == "" {
		policy = "rampart"
		if ex.upstream != "" {
			policy = "upstream"
		}
	}
	routeLabel := ex.route
	if routeLabel == "" {
		routeLabel = "unmatched"
	}
	end := gen.now()
	elapsed := end.Sub(start)
	gen.metrics.requests.WithLabelValues(routeLabel, codeLabel(status), policy).Inc()
	gen.metrics.duration.WithLabelValues(routeLabel).Observe(elapsed.Seconds())
	if gen.accessLog {
		attrs := [...]slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("host", r.Host),
			slog.String("path", r.URL.Path),
			slog.String("route", routeLabel),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes", ex.bytes),
			slog.String("client_ip", gen.ips.ClientIP(r).String()),
			slog.String("policy", policy),
			slog.String("upstream", ex.upstream),
			slog.String("proto", r.Proto),
			{},
		}
		n := len(attrs) - 1
		if ex.reason != "" || (status >= 400 && policy != "upstream") {
			// Every refusal says why; a refusal whose policy gave no
			// finer reason is logged with its policy and status.
			reason := ex.reason
			if reason == "" {
				reason = policy + "_" + codeLabel(status)
			}
			attrs[n] = slog.String("reason", reason)
			n++
		}
		// The record is handed to the handler directly: Logger.LogAttrs
		// would also look up the caller's program counter, which no
		// handler of ours writes.
		if h := gen.log.Handler(); h.Enabled(r.Context(), slog.LevelInfo) {
			rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
			rec.AddAttrs(attrs[:n]...)
			_ = h.Handle(r.Context(), rec)
		}
	}
	gen.recordEvent(ex, r, id, status, policy, end)
	if recovered == http.ErrAbortHandler || (recovered != nil && started) {
		// The response was already under way: abort the connection so the
		// client sees a truncated response, not a complete-looking one.
		panic(http.ErrAbortHandler)
	}
}
