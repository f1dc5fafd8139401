package cors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampartsec/rampart/internal/origin"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// Config configures a Policy. The zero value allows no cross-origin access
// at all: every response still gets "Vary: Origin", preflights are refused,
// and no Access-Control-* header is ever sent.
type Config struct {
	// Origins are the origins allowed to read responses. Each is either an
	// exact origin, "https://app.example.com" or "http://localhost:3000"
	// (scheme, host and port compared exactly; the host is lowercased and a
	// default port dropped when the list is read), or a subdomain pattern,
	// "https://*.example.com", which matches true subdomains of
	// example.com at any depth with that scheme and port — not example.com
	// itself, not "https://evilexample.com", not
	// "https://example.com.evil.net". "*" alone allows every origin
	// (answered with the literal "*", never by reflection) and is refused
	// with Credentials. "null" must be listed by name to allow the null
	// origin, and is refused with Credentials. Default: none.
	Origins []string `yaml:"origins"`
	// Credentials lets allowed origins send cookies and HTTP authentication
	// and read the responses (Access-Control-Allow-Credentials: true).
	// Default false.
	Credentials bool `yaml:"credentials"`
	// Methods are the methods a preflight may ask for. Default GET, HEAD,
	// POST. Names are uppercased; CONNECT, TRACE and TRACK are refused.
	Methods []string `yaml:"methods"`
	// Headers are the request headers a preflight may ask for, compared
	// case-insensitively. "*" allows any header (the browser still never
	// sends Authorization under "*") and is refused with Credentials.
	// Default: Accept, Accept-Language, Content-Language, Content-Type —
	// Content-Type because a JSON body makes a browser ask for it.
	Headers []string `yaml:"headers"`
	// ExposeHeaders are response headers, beyond the CORS-safelisted ones,
	// that allowed origins may read. Default none.
	ExposeHeaders []string `yaml:"expose_headers"`
	// MaxAge is how long a browser may cache a preflight answer
	// (Access-Control-Max-Age, whole seconds). Default 10m; from 1s to 24h.
	// Chromium caps it at 2h and Firefox at 24h.
	MaxAge time.Duration `yaml:"max_age"`
	// PrivateNetwork answers Private Network Access preflights
	// (Access-Control-Request-Private-Network: true) from allowed origins
	// with Access-Control-Allow-Private-Network: true, letting public pages
	// of those origins reach this server on a private address. Default
	// false: such preflights are refused.
	PrivateNetwork bool `yaml:"private_network"`

	// OnDecision, when set, is called once for every request with what the
	// policy decided, for metrics (the gateway counts refused preflights by
	// it). It runs on the request path and must be fast and safe for
	// concurrent use. Default nil.
	OnDecision func(r *http.Request, d Decision) `yaml:"-"`
	// Logger receives a debug line for every refused preflight, with the
	// reason and request id. Nil uses slog.Default(), so nothing is lost silently.
	Logger *slog.Logger `yaml:"-"`
}

// Outcome is what a Policy did with one request.
type Outcome uint8

// The outcomes.
const (
	// NotCORS means the request had no Origin header or was same-origin;
	// no CORS header was added.
	NotCORS Outcome = iota
	// Allowed means a cross-origin request came from an allowed origin and
	// got CORS headers.
	Allowed
	// Refused means a cross-origin request came from an origin that is not
	// allowed; it went on to the handler without CORS headers.
	Refused
	// PreflightAllowed means a preflight was answered with 204 and CORS
	// headers.
	PreflightAllowed
	// PreflightRefused means a preflight was answered with 403 and no CORS
	// header.
	PreflightRefused
)

var outcomeNames = [...]string{"not_cors", "allowed", "refused", "preflight_allowed", "preflight_refused"}

// String returns the outcome's metric label, such as "preflight_refused".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Decision is passed to Config.OnDecision.
type Decision struct {
	// Outcome is what was done.
	Outcome Outcome
	// Err is why a request or preflight was refused: one of the Err*
	// sentinels. Nil otherwise.
	Err error
}

// Reasons a request gets no CORS headers. Check returns them; they are
// static so that refusing does not allocate.
var (
	ErrOriginNotAllowed = errors.New("cors: origin not allowed")
	ErrNullOrigin       = errors.New("cors: null origin not allowed")
	ErrMalformedOrigin  = errors.New("cors: malformed or repeated origin header")
	ErrMethodNotAllowed = errors.New("cors: requested method not allowed")
	ErrHeaderNotAllowed = errors.New("cors: requested header not allowed")
	ErrPrivateNetwork   = errors.New("cors: private network access not allowed")
)

// Defaults of the documented settings.
const (
	DefaultMaxAge = 10 * time.Minute
	maxMaxAge     = 24 * time.Hour
)

var (
	defaultMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	defaultHeaders = []string{"Accept", "Accept-Language", "Content-Language", "Content-Type"}
)

// Policy answers CORS for one set of settings. Create it with New.
type Policy struct {
	origins     *origin.Set
	any         bool // "*"
	null        bool // "null" listed
	credentials bool
	methods     []string // uppercased
	headers     []string // lowercased
	anyHeader   bool
	pna         bool
	onDecision  func(*http.Request, Decision)
	log         *slog.Logger

	// Precomputed header values. Each slice has len == cap, so a handler
	// that appends to one (Header.Add) gets a copy and never writes into
	// the shared array.
	star, allowCreds, allowMethods, allowHeaders, exposeHeaders, maxAge, allowPNA []string
	varyActual, varyPreflight                                                     []string
}

// New validates c and returns its Policy. Every problem is reported, each
// naming its field; New never panics on user input.
func New(c Config) (*Policy, error) {
	p := &Policy{credentials: c.Credentials, pna: c.PrivateNetwork, onDecision: c.OnDecision, log: c.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("cors: "+format, args...))
	}
	var listed []string
	for i, o := range c.Origins {
		switch strings.TrimSpace(o) {
		case "*":
			p.any = true
			if c.Credentials {
				fail("origins[%d]: \"*\" cannot be combined with credentials: list the origins that may send cookies", i)
			}
		case "null":
			p.null = true
			if c.Credentials {
				fail("origins[%d]: \"null\" cannot be combined with credentials: any page can send the null origin from a sandboxed frame", i)
			}
		default:
			listed = append(listed, o)
		}
	}
	if p.any && len(listed) > 0 {
		fail("origins: \"*\" already allows every origin; remove the other entries")
	}
	set, err := origin.NewSet(listed)
	if err != nil {
		fail("origins%v", err)
	}
	p.origins = set

	methods := c.Methods
	if len(methods) == 0 {
		methods = defaultMethods
	}
	for i, m := range methods {
		m = strings.ToUpper(strings.TrimSpace(m))
		switch {
		case m == "*":
			fail("methods[%d]: list the methods instead of \"*\"", i)
		case !isToken(m):
			fail("methods[%d]: invalid method %q", i, truncate(m, 40))
		case m == http.MethodConnect || m == http.MethodTrace || m == "TRACK":
			fail("methods[%d]: %s is forbidden in browsers and never allowed", i, m)
		case !slices.Contains(p.methods, m):
			p.methods = append(p.methods, m)
		}
	}

	headers := c.Headers
	if len(headers) == 0 {
		headers = defaultHeaders
	}
	var headerNames []string
	for i, h := range headers {
		h = strings.TrimSpace(h)
		switch {
		case h == "*":
			p.anyHeader = true
			headerNames = append(headerNames, "*")
			if c.Credentials {
				fail("headers[%d]: \"*\" cannot be combined with credentials: browsers treat it as a header named \"*\"; list the headers", i)
			}
		case !isToken(h):
			fail("headers[%d]: invalid header name %q", i, truncate(h, 40))
		case !slices.Contains(p.headers, strings.ToLower(h)):
			p.headers = append(p.headers, strings.ToLower(h))
			headerNames = append(headerNames, http.CanonicalHeaderKey(h))
		}
	}
	var expose []string
	for i, h := range c.ExposeHeaders {
		h = strings.TrimSpace(h)
		switch {
		case h == "*" && c.Credentials:
			fail("expose_headers[%d]: \"*\" cannot be combined with credentials; list the headers", i)
		case h != "*" && !isToken(h):
			fail("expose_headers[%d]: invalid header name %q", i, truncate(h, 40))
		default:
			expose = append(expose, h)
		}
	}
	maxAge := c.MaxAge
	switch {
	case maxAge == 0:
		maxAge = DefaultMaxAge
	case maxAge < time.Second:
		fail("max_age: %v is below one second; the header counts whole seconds", maxAge)
	case maxAge > maxMaxAge:
		fail("max_age: %v is above 24h, which every browser caps (Chromium at 2h)", maxAge)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	p.star = fixed("*")
	p.allowCreds = fixed("true")
	p.allowMethods = fixed(strings.Join(p.methods, ", "))
	p.allowHeaders = fixed(strings.Join(headerNames, ", "))
	if len(expose) > 0 {
		p.exposeHeaders = fixed(strings.Join(expose, ", "))
	}
	p.maxAge = fixed(strconv.FormatInt(int64(maxAge/time.Second), 10))
	p.allowPNA = fixed("true")
	p.varyActual = fixed("Origin")
	p.varyPreflight = fixed("Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
	return p, nil
}

// fixed returns a one-element slice whose capacity is its length.
func fixed(v string) []string { return []string{v}[:1:1] }

// IsPreflight reports whether r is a CORS preflight: OPTIONS with Origin and
// Access-Control-Request-Method. A gateway that routes by method must route
// a preflight by the method it asks about.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// Check reports whether r would get CORS permission: nil for an allowed
// cross-origin request or preflight, and for a request that is not CORS at
// all (no Origin header, or same-origin); one of the Err* sentinels
// otherwise. It writes nothing.
func (p *Policy) Check(r *http.Request) error {
	vals := r.Header["Origin"]
	if len(vals) == 0 {
		return nil
	}
	if IsPreflight(r) {
		return p.checkPreflight(r, vals)
	}
	_, out, err := p.checkOrigin(r, vals)
	if out == NotCORS {
		return nil
	}
	return err
}

// checkOrigin decides the Access-Control-Allow-Origin value for vals, the
// request's Origin header lines: nil when the origin is not allowed.
func (p *Policy) checkOrigin(r *http.Request, vals []string) ([]string, Outcome, error) {
	if len(vals) != 1 {
		// Browsers send one Origin; several are a forgery or a broken
		// client, and choosing one of them would be a guess.
		return nil, Refused, ErrMalformedOrigin
	}
	o := vals[0]
	switch {
	case o == "null":
		if p.null {
			return slices.Clip(vals), Allowed, nil
		}
		return nil, Refused, ErrNullOrigin
	case p.any:
		if _, ok := origin.Parse(o); !ok {
			return nil, Refused, ErrMalformedOrigin
		}
		return p.star, Allowed, nil
	case p.origins.Contains(o):
		// The request's own header slice, clipped so that appending to the
		// response header cannot write into it: echoing the exact allowed
		// value costs no allocation.
		return slices.Clip(vals), Allowed, nil
	}
	if sameOrigin(r, o) {
		return nil, NotCORS, nil
	}
	if _, ok := origin.Parse(o); !ok {
		return nil, Refused, ErrMalformedOrigin
	}
	return nil, Refused, ErrOriginNotAllowed
}

// sameOrigin reports whether a request whose origin is not allowed is simply
// same-origin, so that it is not counted as refused. It only affects
// metrics: a same-origin response needs no CORS header.
func sameOrigin(r *http.Request, o string) bool {
	if r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	parsed, ok := origin.Parse(o)
	if !ok {
		return false
	}
	host := parsed.Host
	if parsed.Port != "" {
		host = o[len(parsed.Scheme)+3:]
	}
	return host == r.Host
}

func (p *Policy) checkPreflight(r *http.Request, vals []string) error {
	_, out, err := p.checkOrigin(r, vals)
	if out != Allowed {
		if err == nil {
			// A same-origin "preflight" is not one browsers send; without an
			// allowed origin there is nothing to grant.
			err = ErrOriginNotAllowed
		}
		return err
	}
	method := r.Header.Get("Access-Control-Request-Method")
	if !slices.Contains(p.methods, method) {
		return ErrMethodNotAllowed
	}
	if !p.anyHeader {
		for _, line := range r.Header["Access-Control-Request-Headers"] {
			for line != "" {
				var name string
				name, line, _ = strings.Cut(line, ",")
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				if !p.headerAllowed(name) {
					return ErrHeaderNotAllowed
				}
			}
		}
	}
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" && !p.pna {
		return ErrPrivateNetwork
	}
	return nil
}

func (p *Policy) headerAllowed(name string) bool {
	for _, h := range p.headers {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// Handler returns a handler that answers preflights itself and adds CORS
// headers to h's responses to allowed cross-origin requests, replacing any
// Access-Control-* header h sets.
func (p *Policy) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header["Origin"]
		if len(vals) == 0 {
			addVary(w.Header(), p.varyActual)
			p.decided(r, NotCORS, nil)
			h.ServeHTTP(w, r)
			return
		}
		if IsPreflight(r) {
			p.preflight(w, r, vals)
			return
		}
		addVary(w.Header(), p.varyActual)
		acao, out, err := p.checkOrigin(r, vals)
		p.decided(r, out, err)
		cw := writerPool.Get().(*writer)
		cw.ResponseWriter, cw.p, cw.acao = w, p, acao
		defer cw.release()
		h.ServeHTTP(cw, r)
		if !cw.wrote {
			cw.fix()
		}
	})
}

// Apply sets on h the CORS response headers Handler would set for r —
// Access-Control-Allow-Origin, Access-Control-Allow-Credentials and
// Access-Control-Expose-Headers, when r's origin is allowed — and adds
// "Vary: Origin". It is for responses made outside Handler, such as a
// gateway's own refusals written before the request reaches the route the
// policy guards, so that a permitted page can read them. It reports
// whether the origin was allowed. It never answers a preflight and does
// not report a decision to OnDecision.
func (p *Policy) Apply(h http.Header, r *http.Request) bool {
	addVary(h, p.varyActual)
	vals := r.Header["Origin"]
	if len(vals) == 0 {
		return false
	}
	acao, out, _ := p.checkOrigin(r, vals)
	if out != Allowed {
		return false
	}
	for _, k := range responseHeaders {
		delete(h, k)
	}
	h["Access-Control-Allow-Origin"] = acao
	if p.credentials {
		h["Access-Control-Allow-Credentials"] = p.allowCreds
	}
	if p.exposeHeaders != nil {
		h["Access-Control-Expose-Headers"] = p.exposeHeaders
	}
	return true
}

func (p *Policy) decided(r *http.Request, out Outcome, err error) {
	if p.onDecision != nil {
		p.onDecision(r, Decision{Outcome: out, Err: err})
	}
}

// preflight answers a preflight without calling the next handler.
func (p *Policy) preflight(w http.ResponseWriter, r *http.Request, vals []string) {
	h := w.Header()
	addVary(h, p.varyPreflight)
	// A preflight is answered here whatever happens: forwarding it would let
	// the application's own, possibly permissive, CORS code answer it.
	if err := p.checkPreflight(r, vals); err != nil {
		p.decided(r, PreflightRefused, err)
		if p.log.Enabled(r.Context(), slog.LevelDebug) {
			p.logRefused(r.Context(), r, vals, err)
		}
		problem.Write(w, r, problem.Problem{Status: http.StatusForbidden, Policy: "cors", Reason: PreflightRefused.String()})
		return
	}
	p.decided(r, PreflightAllowed, nil)
	problem.Record(w, "cors")
	if p.any {
		h["Access-Control-Allow-Origin"] = p.star
	} else {
		h["Access-Control-Allow-Origin"] = slices.Clip(vals)
	}
	if p.credentials {
		h["Access-Control-Allow-Credentials"] = p.allowCreds
	}
	h["Access-Control-Allow-Methods"] = p.allowMethods
	if p.allowHeaders[0] != "" {
		h["Access-Control-Allow-Headers"] = p.allowHeaders
	}
	h["Access-Control-Max-Age"] = p.maxAge
	if p.pna && r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h["Access-Control-Allow-Private-Network"] = p.allowPNA
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *Policy) logRefused(ctx context.Context, r *http.Request, vals []string, err error) {
	p.log.LogAttrs(ctx, slog.LevelDebug, "cors preflight refused",
		slog.String("request_id", requestid.FromContext(ctx)),
		slog.String("origin", truncate(strings.Join(vals, ","), 200)),
		slog.String("method", truncate(r.Header.Get("Access-Control-Request-Method"), 40)),
		slog.String("reason", err.Error()))
}

// addVary adds v to the response's Vary header unless a line already says
// exactly that.
func addVary(h http.Header, v []string) {
	old := h["Vary"]
	if len(old) == 0 {
		h["Vary"] = v
		return
	}
	if slices.Contains(old, v[0]) {
		return
	}
	h["Vary"] = append(old, v[0])
}

// responseHeaders are the CORS response headers a Policy owns.
var responseHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Expose-Headers", "Access-Control-Max-Age",
	"Access-Control-Allow-Private-Network",
}

// writer replaces the wrapped handler's CORS headers with the policy's when
// the response header is written. Writers are pooled: one is needed for
// every cross-origin request.
type writer struct {
	http.ResponseWriter
	p     *Policy
	acao  []string
	wrote bool
}

var writerPool = sync.Pool{New: func() any { return new(writer) }}

func (w *writer) release() {
	*w = writer{}
	writerPool.Put(w)
}

// fix removes whatever CORS headers the handler set and sets the policy's.
func (w *writer) fix() {
	h := w.ResponseWriter.Header()
	for _, k := range responseHeaders {
		delete(h, k)
	}
	if w.acao == nil {
		return
	}
	h["Access-Control-Allow-Origin"] = w.acao
	if w.p.credentials {
		h["Access-Control-Allow-Credentials"] = w.p.allowCreds
	}
	if w.p.exposeHeaders != nil {
		h["Access-Control-Expose-Headers"] = w.p.exposeHeaders
	}
}

// WriteHeader fixes the CORS headers, then writes the status. It runs for
// informational (1xx) responses too, whose headers are sent as well.
func (w *writer) WriteHeader(code int) {
	w.fix()
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write fixes the CORS headers before the first byte, then writes b.
func (w *writer) Write(b []byte) (int, error) {
	if !w.wrote {
		w.fix()
		w.wrote = true
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets handlers that type-assert http.Flusher stream through the
// policy.
func (w *writer) Flush() {
	if !w.wrote {
		w.fix()
		w.wrote = true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var _ http.ResponseWriter = (*writer)(nil)
