package csrf

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/internal/origin"
	"github.com/rampartsec/rampart/internal/reserved"
	"github.com/rampartsec/rampart/internal/upgrade"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

// Mode selects the checks. The zero value is ModeOrigin.
type Mode string

// The modes.
const (
	// ModeOrigin checks Sec-Fetch-Site, Origin and Referer. The default.
	ModeOrigin Mode = "origin"
	// ModeToken checks a session-bound token only.
	ModeToken Mode = "token"
	// ModeBoth requires both the origin check and the token.
	ModeBoth Mode = "both"
	// ModeOff checks nothing: for machine-to-machine routes such as
	// webhooks, which carry no browser credentials.
	ModeOff Mode = "off"
)

// UnmarshalText accepts origin, token, both or off, so that a configuration
// file with any other value is an error at its line.
func (m *Mode) UnmarshalText(b []byte) error {
	switch v := Mode(b); v {
	case "", ModeOrigin, ModeToken, ModeBoth, ModeOff:
		*m = v
		return nil
	}
	return fmt.Errorf("csrf: mode must be origin, token, both or off, got %q", truncate(string(b), 40))
}

func (m Mode) origin() bool { return m == "" || m == ModeOrigin || m == ModeBoth }
func (m Mode) token() bool  { return m == ModeToken || m == ModeBoth }

// Defaults of the documented settings.
const (
	DefaultHeader         = "X-CSRF-Token"
	DefaultFormField      = "csrf_token"
	DefaultCookie         = "__Host-rampart-csrf"
	DefaultUpstreamHeader = "X-Rampart-CSRF-Token"
	DefaultMaxFormBytes   = 64 << 10
	// MinKeyBytes is the shortest token key New accepts.
	MinKeyBytes = 32
)

// Config configures a Protection. The zero value is origin mode with no
// trusted origins: safe, and what zero-config Rampart runs.
type Config struct {
	// Mode is origin (default), token, both or off.
	Mode Mode `yaml:"mode"`
	// TrustedOrigins are other origins whose unsafe requests are accepted,
	// e.g. a front end on another host. Exact origins or "*." subdomain
	// patterns, matched as in package cors. "null" is never trusted.
	// Default none.
	TrustedOrigins []string `yaml:"trusted_origins"`
	// Proxies, when set, lets the request's public scheme and host be read
	// from X-Forwarded-Proto and X-Forwarded-Host when the TCP peer is a
	// trusted proxy. Default nil: the Host header, and the scheme only when
	// the connection itself is TLS.
	Proxies *clientip.Resolver `yaml:"-"`

	// Key is the token HMAC key, at least 32 random bytes. Required in
	// token and both modes; the gateway generates and keeps one.
	Key []byte `yaml:"-"`
	// SessionID returns the id of r's session, or ok=false for an anonymous
	// request. Tokens are bound to it. Nil means every request is
	// anonymous and bound to the __Host- cookie.
	SessionID func(r *http.Request) (id string, ok bool) `yaml:"-"`
	// Header is the request header a token is accepted from. Default
	// X-CSRF-Token.
	Header string `yaml:"header"`
	// FormField is the urlencoded form field a token is accepted from.
	// Default csrf_token.
	FormField string `yaml:"form_field"`
	// Cookie names the HttpOnly cookie that binds anonymous users' tokens.
	// It must start with "__Host-". Default __Host-rampart-csrf.
	Cookie string `yaml:"cookie"`
	// ReadableCookie, when set, names a cookie that script can read,
	// holding a token, for single-page applications (Angular and axios read
	// "XSRF-TOKEN"; set Header to "X-XSRF-TOKEN" to match). Default "":
	// none, use TokenHandler.
	ReadableCookie string `yaml:"readable_cookie"`
	// UnsafePlainHTTP, when set, is asked about every request; for one it
	// reports true — a request that reached the site over plain HTTP — the
	// binding cookie is read and set without Secure under Cookie without
	// its __Host- prefix ("rampart-csrf" by default), because browsers
	// refuse Secure cookies from insecure origins other than localhost.
	// Requests over HTTPS never read the plain cookie. The gateway sets it
	// in development only. Default nil.
	UnsafePlainHTTP func(r *http.Request) bool `yaml:"-"`
	// UpstreamHeader is the request header the wrapped handler receives a
	// fresh token in. Client-supplied copies are always removed. Default
	// X-Rampart-CSRF-Token.
	UpstreamHeader string `yaml:"upstream_header"`
	// MaxFormBytes bounds how much of a urlencoded body is read to find the
	// form field. Default 64KiB.
	MaxFormBytes int64 `yaml:"max_form_bytes"`

	// OnDecision, when set, is called once for every request with the
	// decision, for metrics. It runs on the request path and must be fast
	// and safe for concurrent use. Default nil.
	OnDecision func(r *http.Request, d Decision) `yaml:"-"`
	// Logger receives one line per refused request with the reason and the
	// request id. Nil uses slog.Default(), so nothing is lost silently.
	Logger *slog.Logger `yaml:"-"`
}

// Outcome is what a Protection decided.
type Outcome uint8

// The outcomes.
const (
	// Safe means the method was safe and nothing was checked.
	Safe Outcome = iota
	// Allowed means an unsafe request passed the checks.
	Allowed
	// Rejected means an unsafe request was refused.
	Rejected
)

var outcomeNames = [...]string{"safe", "allowed", "rejected"}

// String returns the outcome's metric label.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Decision is passed to Config.OnDecision.
type Decision struct {
	// Outcome is the decision.
	Outcome Outcome
	// Reason is a short static label for metrics, such as "same_origin",
	// "no_browser_headers", "trusted_origin", "token" or, for a rejection,
	// the reason of Err ("cross_site", "token_invalid", …).
	Reason string
	// Err is the rejection error, one of the Err* sentinels, or nil.
	Err error
}

// Error is a rejection. Its Reason is a metric label.
type Error struct {
	reason, msg string
	status      int
}

// Error returns the message, prefixed with the package name.
func (e *Error) Error() string { return e.msg }

// Reason returns the rejection's metric label, such as "cross_site".
func (e *Error) Reason() string { return e.reason }

// Reasons a request is refused. They are static so that refusing does not
// allocate; compare them with errors.Is.
var (
	ErrCrossSite       = &Error{"cross_site", "csrf: cross-site request (Sec-Fetch-Site)", 403}
	ErrOriginMismatch  = &Error{"origin_mismatch", "csrf: Origin does not match the served origin", 403}
	ErrNullOrigin      = &Error{"null_origin", "csrf: null Origin", 403}
	ErrMalformedHeader = &Error{"malformed_header", "csrf: malformed or repeated Sec-Fetch-Site, Origin or Referer", 403}
	ErrRefererMismatch = &Error{"referer_mismatch", "csrf: Referer does not match the served origin", 403}
	ErrTokenMissing    = &Error{"token_missing", "csrf: token missing", 403}
	ErrTokenInvalid    = &Error{"token_invalid", "csrf: token invalid or bound to another session", 403}
	ErrBodyUnreadable  = &Error{"body_unreadable", "csrf: request body could not be read", 400}
	ErrBodyTooLarge    = &Error{"body_too_large", "csrf: request body too large", 413}
)

// Protection enforces one Config. Create it with New.
type Protection struct {
	mode           Mode
	trusted        *origin.Set
	proxies        *clientip.Resolver
	key            []byte
	sessionID      func(*http.Request) (string, bool)
	header         string
	formField      string
	cookie         string
	readable       string
	upstreamHdr    string
	reserved       reserved.Names // upstreamHdr in every spelling, and the default's
	maxFormBytes   int64
	onDecision     func(*http.Request, Decision)
	log            *slog.Logger
	formFieldEsc   string // url.QueryEscape(formField), for matching encoded keys
	readableSecure bool
	plain          func(*http.Request) bool
}

// New validates c and returns its Protection. Every problem is reported,
// each naming its field; New never panics on user input.
func New(c Config) (*Protection, error) {
	var m Mode
	if err := m.UnmarshalText([]byte(c.Mode)); err != nil {
		return nil, err
	}
	p := &Protection{
		mode:         m,
		proxies:      c.Proxies,
		sessionID:    c.SessionID,
		header:       http.CanonicalHeaderKey(strings.TrimSpace(c.Header)),
		formField:    c.FormField,
		cookie:       c.Cookie,
		readable:     c.ReadableCookie,
		upstreamHdr:  http.CanonicalHeaderKey(strings.TrimSpace(c.UpstreamHeader)),
		maxFormBytes: c.MaxFormBytes,
		onDecision:   c.OnDecision,
		log:          c.Logger,
		plain:        c.UnsafePlainHTTP,
	}
	if p.mode == "" {
		p.mode = ModeOrigin
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("csrf: "+format, args...))
	}
	for i, o := range c.TrustedOrigins {
		switch strings.TrimSpace(o) {
		case "null":
			fail("trusted_origins[%d]: the null origin is sent by sandboxed frames any site can create and is never trusted", i)
		case "*":
			fail("trusted_origins[%d]: \"*\" would trust every site; use mode: off on the routes that need it", i)
		}
	}
	set, err := origin.NewSet(c.TrustedOrigins)
	if err != nil && len(errs) == 0 {
		fail("trusted_origins%v", err)
	}
	p.trusted = set

	if p.header == "" {
		p.header = http.CanonicalHeaderKey(DefaultHeader)
	} else if !validToken(p.header) {
		fail("header: invalid header name %q", truncate(c.Header, 40))
	}
	if p.upstreamHdr == "" {
		p.upstreamHdr = http.CanonicalHeaderKey(DefaultUpstreamHeader)
	} else if !validToken(p.upstreamHdr) {
		fail("upstream_header: invalid header name %q", truncate(c.UpstreamHeader, 40))
	}
	p.reserved = reserved.New(p.upstreamHdr, DefaultUpstreamHeader)
	if p.formField == "" {
		p.formField = DefaultFormField
	}
	p.formFieldEsc = url.QueryEscape(p.formField)
	if p.cookie == "" {
		p.cookie = DefaultCookie
	} else if !strings.HasPrefix(p.cookie, "__Host-") || !validToken(p.cookie) {
		fail("cookie: %q must be a cookie name starting with __Host-, so that no other host can set it", truncate(c.Cookie, 40))
	}
	if p.readable != "" {
		if !validToken(p.readable) {
			fail("readable_cookie: invalid cookie name %q", truncate(p.readable, 40))
		}
		if p.readable == p.cookie {
			fail("readable_cookie: must differ from cookie")
		}
		p.readableSecure = strings.HasPrefix(p.readable, "__Host-") || strings.HasPrefix(p.readable, "__Secure-")
	}
	switch {
	case p.maxFormBytes == 0:
		p.maxFormBytes = DefaultMaxFormBytes
	case p.maxFormBytes < 0:
		fail("max_form_bytes: must not be negative")
	}
	if p.mode.token() {
		if len(c.Key) < MinKeyBytes {
			fail("key: token mode needs a key of at least %d random bytes, got %d", MinKeyBytes, len(c.Key))
		}
		p.key = append([]byte(nil), c.Key...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Mode returns the mode in force.
func (p *Protection) Mode() Mode { return p.mode }

// Check reports whether r may proceed: nil for a safe method or a request
// that passes the configured checks, otherwise one of the Err* sentinels. In
// token modes it may read the start of a urlencoded body to find the form
// field, and then replaces r.Body with an equivalent reader. It writes
// nothing.
func (p *Protection) Check(r *http.Request) error {
	_, err := p.check(r, nil)
	return err
}

// check decides. b is r's token binding in token modes.
func (p *Protection) check(r *http.Request, b *binding) (string, error) {
	if p.mode == ModeOff {
		return "off", nil
	}
	if upgrade.IsWebSocket(r) {
		// A WebSocket handshake is a GET that browsers send with the
		// user's cookies from any site, and no token can ride on it: the
		// origin decides, in every mode (cross-site WebSocket hijacking).
		reason, err := p.checkOrigin(r)
		if err != nil {
			return "", err
		}
		return "websocket_" + reason, nil
	}
	if !unsafe(r) {
		return "", nil
	}
	reason := ""
	if p.mode.origin() {
		var err error
		if reason, err = p.checkOrigin(r); err != nil {
			return "", err
		}
	}
	if p.mode.token() {
		if b == nil {
			b = p.bind(r)
		}
		if err := p.checkToken(r, b); err != nil {
			return "", err
		}
		reason = "token"
	}
	return reason, nil
}

// unsafe reports whether r must be checked: its method is not GET, HEAD or
// OPTIONS, or a method override asks for anything else.
func unsafe(r *http.Request) bool {
	if !isSafeMethod(r.Method) {
		// The wire method decides: an override can never turn a protected
		// request into an unprotected one.
		return true
	}
	for _, k := range overrideHeaders {
		for _, v := range r.Header[k] {
			if !isSafeMethod(strings.ToUpper(strings.TrimSpace(v))) {
				return true
			}
		}
	}
	if q := r.URL.RawQuery; q != "" && containsFold(q, "method") {
		// Rare, so parsing (and allocating) here is fine. A query that does
		// not parse is treated as overriding: fail closed.
		vals, err := url.ParseQuery(q)
		if err != nil {
			return true
		}
		for k, vs := range vals {
			if strings.EqualFold(k, "_method") {
				for _, v := range vs {
					if !isSafeMethod(strings.ToUpper(strings.TrimSpace(v))) {
						return true
					}
				}
			}
		}
	}
	return false
}

var overrideHeaders = []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkOrigin is the origin-mode decision for an unsafe request.
func (p *Protection) checkOrigin(r *http.Request) (string, error) {
	switch sfs := r.Header["Sec-Fetch-Site"]; {
	case len(sfs) > 1:
		return "", ErrMalformedHeader
	case len(sfs) == 1:
		switch sfs[0] {
		case "same-origin":
			return "same_origin", nil
		case "none":
			// A user-initiated navigation (address bar, bookmark): no site
			// caused it.
			return "user_initiated", nil
		}
		// same-site, cross-site, and any value a future browser might
		// invent: refused unless the Origin is trusted (fail closed).
		if o := r.Header["Origin"]; len(o) == 1 && p.trusted.Contains(o[0]) {
			return "trusted_origin", nil
		}
		return "", ErrCrossSite
	}
	if o := r.Header["Origin"]; len(o) > 0 && !(len(o) == 1 && o[0] == "") {
		if len(o) > 1 {
			return "", ErrMalformedHeader
		}
		switch {
		case o[0] == "null":
			return "", ErrNullOrigin
		case p.trusted.Contains(o[0]):
			return "trusted_origin", nil
		}
		parsed, ok := origin.Parse(o[0])
		if !ok {
			return "", ErrMalformedHeader
		}
		if p.servedAt(r, parsed) {
			return "same_origin", nil
		}
		return "", ErrOriginMismatch
	}
	if ref := r.Header["Referer"]; len(ref) > 0 && !(len(ref) == 1 && ref[0] == "") {
		// Only browsers from before Origin was sent on POST (2019–2020) get
		// here with a Referer.
		if len(ref) > 1 {
			return "", ErrMalformedHeader
		}
		parsed, serialised, ok := origin.FromURL(ref[0])
		if !ok {
			return "", ErrMalformedHeader
		}
		if p.trusted.Contains(serialised) {
			return "trusted_origin", nil
		}
		if p.servedAt(r, parsed) {
			return "same_origin", nil
		}
		return "", ErrRefererMismatch
	}
	// Neither Sec-Fetch-Site, Origin nor Referer: not a browser, or one that
	// cannot be told from a non-browser client. Failing open here is what
	// makes zero-config safe for API clients; browsers of the last five
	// years always send at least Origin on unsafe requests.
	return "no_browser_headers", nil
}

// servedAt reports whether o is the origin r was served at: the same host
// and port (default ports removed), and the same scheme when r's scheme is
// known.
func (p *Protection) servedAt(r *http.Request, o origin.Origin) bool {
	scheme, host := p.served(r)
	if scheme != "" && !strings.EqualFold(scheme, o.Scheme) {
		return false
	}
	if host == "" {
		// No Host (HTTP/1.0): nothing can match, fail closed.
		return false
	}
	sHost, sPort := splitHost(host)
	oPort := o.Port
	def := origin.DefaultPort(strings.ToLower(o.Scheme))
	if oPort == def {
		oPort = ""
	}
	if sPort == def {
		// The scheme is unknown or equal to the origin's, so the origin's
		// default port is the served default too.
		sPort = ""
	}
	return oPort == sPort && strings.EqualFold(o.Host, sHost)
}

// served returns r's public scheme ("" when unknown) and host.
func (p *Protection) served(r *http.Request) (scheme, host string) {
	host = r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if p.proxies != nil && p.proxies.FromTrustedProxy(r) {
		if v := r.Header["X-Forwarded-Proto"]; len(v) == 1 && (v[0] == "https" || v[0] == "http") {
			scheme = v[0]
		}
		if v := r.Header["X-Forwarded-Host"]; len(v) == 1 && v[0] != "" {
			if _, _, ok := origin.FromURL("http://" + v[0]); ok {
				host = v[0]
			}
		}
	}
	return scheme, host
}

// splitHost splits "host[:port]", including "[v6]:port".
func splitHost(h string) (host, port string) {
	if strings.HasPrefix(h, "[") {
		if end := strings.IndexByte(h, ']'); end >= 0 {
			if rest := h[end+1:]; strings.HasPrefix(rest, ":") {
				return h[:end+1], rest[1:]
			}
			return h[:end+1], ""
		}
		return h, ""
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		return h[:i], h[i+1:]
	}
	return h, ""
}

// Handler returns a handler that refuses forged requests with a neutral 403
// (see package problem; policy "csrf") before calling h. In token modes it
// also binds anonymous users with the __Host- cookie, hands h a fresh token
// in UpstreamHeader, and refreshes ReadableCookie.
func (p *Protection) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A token forged by the client must never reach the application as
		// if it came from here, under any spelling it could read.
		p.reserved.Strip(r.Header)
		var b *binding
		if p.mode.token() {
			// The binding cookie of a new anonymous user is set only once
			// the request is allowed: setting it on a refused cross-site
			// POST would let any site reset the user's binding and break
			// the forms open in other tabs.
			b = p.bind(r)
		}
		reason, err := p.check(r, b)
		if err != nil {
			p.reject(w, r, err)
			return
		}
		out := Allowed
		if reason == "" {
			out, reason = Safe, "safe_method"
		}
		if p.onDecision != nil {
			p.onDecision(r, Decision{Outcome: out, Reason: reason})
		}
		if b != nil {
			r = p.provide(w, r, b)
		}
		h.ServeHTTP(w, r)
	})
}

func (p *Protection) reject(w http.ResponseWriter, r *http.Request, err error) {
	e, _ := err.(*Error)
	if e == nil {
		e = ErrTokenInvalid
	}
	if p.onDecision != nil {
		p.onDecision(r, Decision{Outcome: Rejected, Reason: e.reason, Err: e})
	}
	ctx := r.Context()
	p.log.LogAttrs(ctx, slog.LevelInfo, "csrf request refused",
		slog.String("request_id", requestid.FromContext(ctx)),
		slog.String("method", r.Method),
		slog.String("path", truncate(r.URL.Path, 200)),
		slog.String("reason", e.reason),
		slog.String("sec_fetch_site", truncate(r.Header.Get("Sec-Fetch-Site"), 40)),
		slog.String("origin", truncate(r.Header.Get("Origin"), 200)))
	problem.Write(w, r, problem.Problem{Status: e.status, Policy: "csrf", Reason: reasonWithHeader(r, e)})
}

// reasonWithHeader names the refusal and the header that decided it, for
// the access log: "null_origin (Origin: null)".
func reasonWithHeader(r *http.Request, e *Error) string {
	for _, h := range [...]string{"Sec-Fetch-Site", "Origin", "Referer"} {
		if v := r.Header.Get(h); v != "" {
			return e.reason + " (" + h + ": " + truncate(v, 100) + ")"
		}
	}
	return e.reason
}

func validToken(s string) bool {
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

// containsFold reports whether s contains the lowercase ASCII word sub in
// any case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Policy is the name every middleware package gives its middleware
// (headers.Policy, cors.Policy, access.Policy, …): New returns one, and its
// Handler method wraps an http.Handler.
type Policy = Protection
