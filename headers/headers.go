package headers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampartsec/rampart/internal/reserved"
)

// DefaultNonceHeader is the request header that carries the CSP nonce to the
// upstream application.
const DefaultNonceHeader = "X-Rampart-CSP-Nonce"

// ReportEndpointName is the Reporting API endpoint name written into
// Reporting-Endpoints and report-to when Config.ReportURI is set.
const ReportEndpointName = "rampart-csp"

// DefaultRemove lists the response headers removed by default because they
// tell an attacker what runs behind the gateway and at which version. A
// trailing "*" matches any suffix.
var DefaultRemove = []string{
	"X-Powered-By", "Server", "X-AspNet-Version", "X-AspNetMvc-Version",
	"X-Runtime", "X-Debug-*",
}

// Config configures a Policy. The zero value is helmet's defaults plus the
// removal of DefaultRemove.
type Config struct {
	// Preset is the base header set: "helmet" (the default), "strict" or
	// "none".
	Preset string `yaml:"preset" json:"preset,omitempty"`
	// CSP overrides the preset's Content-Security-Policy directives: a
	// listed directive replaces the preset's, a null (nil) one removes it.
	// Validated by Directives.Build. Default: none.
	CSP Directives `yaml:"csp" json:"csp,omitempty"`
	// CSPReportOnly sends the policy as Content-Security-Policy-Report-Only,
	// which browsers report but do not enforce. Default false.
	CSPReportOnly bool `yaml:"csp_report_only" json:"csp_report_only,omitempty"`
	// ReportURI, when set, adds report-uri and report-to directives and a
	// Reporting-Endpoints header pointing there, typically
	// "/.rampart/csp-report" served by ReportHandler. Default "": no
	// reporting.
	ReportURI string `yaml:"report_uri" json:"report_uri,omitempty"`
	// Nonce adds a fresh 128-bit nonce per request to script-src and
	// style-src and hands it to the application (see NonceFromContext and
	// NonceHeader). Default: on for the strict preset, off otherwise.
	Nonce *bool `yaml:"nonce" json:"nonce,omitempty"`
	// NonceHeader is the request header that carries the nonce upstream.
	// Any copy sent by the client is always removed. Default
	// DefaultNonceHeader.
	NonceHeader string `yaml:"nonce_header" json:"nonce_header,omitempty"`
	// HSTS overrides the preset's Strict-Transport-Security.
	HSTS HSTS `yaml:"hsts" json:"hsts,omitzero"`
	// Set adds or replaces response headers, for example
	// {"Referrer-Policy": "strict-origin-when-cross-origin"}. CSP and HSTS
	// have their own fields. Default none.
	Set map[string]string `yaml:"set" json:"set,omitempty"`
	// Remove lists headers that never reach the client: upstream copies are
	// deleted and the preset's are not sent. A trailing "*" matches a
	// prefix. It adds to DefaultRemove; to let one of those through, list it
	// in KeepUpstream.
	Remove []string `yaml:"remove" json:"remove,omitempty"`
	// Server, when set, replaces the upstream's Server header with this
	// fixed value instead of removing it. Default "": removed.
	Server string `yaml:"server" json:"server,omitempty"`
	// KeepUpstream lists headers the application manages itself: when the
	// upstream sends one, its value is kept; when it does not, the preset's
	// is sent. Listing a DefaultRemove header lets the upstream's through.
	// Default none: rampart's values win.
	KeepUpstream []string `yaml:"keep_upstream" json:"keep_upstream,omitempty"`

	// Secure reports whether r reached the site over HTTPS: TLS on this
	// connection, or a trusted proxy that says so. The CSP directive
	// upgrade-insecure-requests is sent only on such responses: on a site
	// served over plain HTTP it makes browsers submit forms and load
	// subresources over https://, where nothing answers. Default nil:
	// r.TLS != nil.
	Secure func(r *http.Request) bool `yaml:"-" json:"-"`
}

// HSTS configures Strict-Transport-Security. Zero fields take the preset's
// value.
type HSTS struct {
	// MaxAge is how long browsers remember to use HTTPS only. Default: one
	// year (helmet), two years (strict). Whole seconds.
	MaxAge time.Duration `yaml:"max_age" json:"max_age,omitempty"`
	// IncludeSubdomains extends the policy to every subdomain. Default true.
	IncludeSubdomains *bool `yaml:"include_subdomains" json:"include_subdomains,omitempty"`
	// Preload asks to be listed in browsers' preload lists; it requires
	// IncludeSubdomains and a MaxAge of at least a year. Default: false
	// (helmet), true (strict).
	Preload *bool `yaml:"preload" json:"preload,omitempty"`
}

// Override is a per-route change to a Policy, applied with Policy.With.
type Override struct {
	// CSP overrides directives of the route's policy; a null (nil) list
	// removes a directive.
	CSP Directives `yaml:"csp" json:"csp,omitempty"`
	// CSPReportOnly, when set, switches the route between enforcing and
	// report-only.
	CSPReportOnly *bool `yaml:"csp_report_only" json:"csp_report_only,omitempty"`
	// Nonce, when set, turns per-request nonces on or off for the route.
	Nonce *bool `yaml:"nonce" json:"nonce,omitempty"`
	// Set adds or replaces headers on the route.
	Set map[string]string `yaml:"set" json:"set,omitempty"`
	// Remove lists headers that never reach the client on the route.
	Remove []string `yaml:"remove" json:"remove,omitempty"`
	// KeepUpstream lists headers the route's application manages itself.
	KeepUpstream []string `yaml:"keep_upstream" json:"keep_upstream,omitempty"`
}

// Policy sets security headers on every response and removes leaking ones.
// It is immutable after New and safe for concurrent use.
type Policy struct {
	cfg    Config
	fields []field
	// CSP: header name ("" when not sent), value without nonce, and the
	// value split where each nonce goes.
	cspKey   string
	cspValue []string
	cspParts []string
	// plainValue and plainParts are the same without
	// upgrade-insecure-requests, for responses served over plain HTTP.
	plainValue []string
	plainParts []string
	secure     func(*http.Request) bool
	cspKeep    bool

	nonceHeader  string
	reserved     reserved.Names // nonceHeader in every spelling, and the default's
	remove       []string       // canonical names
	removePrefix []string       // canonical prefixes
	server       []string

	writers sync.Pool
}

// field is one precomputed header. value has len == cap so that an append by
// a handler (Header().Add) copies instead of writing into shared memory.
type field struct {
	key   string
	value []string
	keep  bool
}

// New returns a Policy for c. Every header value is validated and computed
// here; nothing is parsed per request. It never panics on user input.
func New(c Config) (*Policy, error) {
	pre, ok := presetFor(c.Preset)
	if !ok {
		return nil, fmt.Errorf("headers: preset must be helmet, strict or none, got %q", truncate(c.Preset, 40))
	}
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	p := &Policy{cfg: cloneConfig(c)}
	p.nonceHeader = http.CanonicalHeaderKey(DefaultNonceHeader)
	if c.NonceHeader != "" {
		if !validToken(c.NonceHeader) {
			fail(fmt.Errorf("headers: nonce_header %q is not a valid header name", truncate(c.NonceHeader, 40)))
		}
		p.nonceHeader = http.CanonicalHeaderKey(c.NonceHeader)
	}
	p.reserved = reserved.New(p.nonceHeader, DefaultNonceHeader)

	// Removal and keep lists.
	keep := map[string]bool{}
	for i, k := range c.KeepUpstream {
		if !validToken(k) {
			fail(fmt.Errorf("headers: keep_upstream[%d]: %q is not a valid header name", i, truncate(k, 40)))
			continue
		}
		keep[http.CanonicalHeaderKey(k)] = true
	}
	removed := map[string]bool{}
	for i, k := range slices.Concat(DefaultRemove, c.Remove) {
		user := i >= len(DefaultRemove)
		name, prefix := strings.CutSuffix(k, "*")
		if !validToken(name) {
			fail(fmt.Errorf("headers: remove[%d]: %q is not a valid header name or prefix", i-len(DefaultRemove), truncate(k, 40)))
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		if keep[canon] {
			if user {
				fail(fmt.Errorf("headers: %s is in both remove and keep_upstream", canon))
			}
			continue
		}
		if canon == "Server" && c.Server != "" {
			continue
		}
		if prefix {
			if !slices.Contains(p.removePrefix, canon) {
				p.removePrefix = append(p.removePrefix, canon)
			}
			continue
		}
		removed[canon] = true
		if !slices.Contains(p.remove, canon) {
			p.remove = append(p.remove, canon)
		}
	}
	if c.Server != "" {
		if !validValue(c.Server) {
			fail(fmt.Errorf("headers: server: invalid header value %q", truncate(c.Server, 40)))
		}
		p.server = []string{c.Server}
	}

	// Fixed headers: the preset's, then HSTS, then Set.
	values := maps.Clone(pre.headers)
	// Preset none sends HSTS only when asked to with a max_age.
	if !removed[hHSTS] && (c.Preset != PresetNone || c.HSTS.MaxAge > 0) {
		v, err := hstsValue(pre.hsts, c.HSTS)
		if err != nil {
			fail(err)
		}
		values[hHSTS] = v
	}
	for k, v := range c.Set {
		canon := http.CanonicalHeaderKey(k)
		switch {
		case !validToken(k):
			fail(fmt.Errorf("headers: set: %q is not a valid header name", truncate(k, 40)))
			continue
		case canon == hCSP || canon == hCSPReportOnly:
			fail(fmt.Errorf("headers: set: %s is built from csp; use the csp key", canon))
			continue
		case canon == hHSTS:
			fail(fmt.Errorf("headers: set: %s is built from hsts; use the hsts key", canon))
			continue
		case canon == "Server":
			fail(fmt.Errorf("headers: set: use the server key to replace Server"))
			continue
		case removed[canon]:
			fail(fmt.Errorf("headers: %s is in both set and remove", canon))
			continue
		}
		if err := validateKnown(canon, v); err != nil {
			fail(err)
			continue
		}
		values[canon] = v
	}

	// Content-Security-Policy.
	nonce := pre.nonce
	if c.Nonce != nil {
		nonce = *c.Nonce
	}
	cspRemoved := removed[hCSP] || (c.CSPReportOnly && removed[hCSPReportOnly])
	if err := c.CSP.checkNames(); err != nil {
		fail(err)
	} else if pre.csp != nil || len(c.CSP) > 0 {
		if cspRemoved {
			nonce = false
		} else if err := p.buildCSP(pre, c, nonce, keep, values); err != nil {
			fail(err)
		}
	} else {
		nonce = false
	}
	if !nonce {
		p.cspParts, p.plainParts = nil, nil
	}
	p.secure = c.Secure
	if p.secure == nil {
		p.secure = func(r *http.Request) bool { return r.TLS != nil }
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if removed[k] {
			continue
		}
		p.fields = append(p.fields, field{key: k, value: []string{values[k]}, keep: keep[k]})
	}
	p.writers.New = func() any { return new(writer) }
	return p, nil
}

// buildCSP computes the policy's CSP header and, with nonces, its parts.
func (p *Policy) buildCSP(pre preset, c Config, nonce bool, keep map[string]bool, values map[string]string) error {
	d := pre.csp.merge(c.CSP)
	if pre.csp == nil {
		d = Directives{}.merge(c.CSP)
	}
	n, err := d.normalize()
	if err != nil {
		return err
	}
	if _, ok := n["default-src"]; !ok {
		return errNoDefaultSrc
	}
	if c.ReportURI != "" {
		if err := validateReportURI(c.ReportURI); err != nil {
			return err
		}
		n["report-uri"] = []string{c.ReportURI}
		n["report-to"] = []string{ReportEndpointName}
		values[hReporting] = ReportEndpointName + `="` + c.ReportURI + `"`
	}
	if pre.coep {
		if _, set := values[hCOEP]; !set {
			if sameOriginOnly(n) {
				values[hCOEP] = "require-corp"
			} else {
				// Cross-origin sources are allowed: require-corp would
				// block every one of them that does not opt in, so
				// subresources are loaded without credentials instead.
				values[hCOEP] = "credentialless"
			}
		}
	}
	p.cspKey = hCSP
	if c.CSPReportOnly {
		p.cspKey = hCSPReportOnly
	}
	p.cspKeep = keep[p.cspKey]
	plain := maps.Clone(n)
	delete(plain, "upgrade-insecure-requests")
	p.cspValue = []string{n.String()}
	p.plainValue = []string{plain.String()}
	if nonce {
		p.cspParts = nonceParts(n)
		p.plainParts = nonceParts(plain)
	}
	return nil
}

// nonceParts splits n's serialisation where each request's nonce goes.
func nonceParts(n Directives) []string {
	const mark = "\x00"
	withNonce := maps.Clone(n)
	for _, name := range []string{"script-src", "style-src"} {
		src, ok := withNonce[name]
		if !ok {
			// The directive falls back to default-src: copy it so the
			// nonce does not loosen default-src for everything else.
			src = withNonce["default-src"]
		}
		if slices.Contains(src, "'none'") {
			// A nonce would turn "nothing" into "anything carrying the
			// nonce"; the operator asked for nothing.
			continue
		}
		withNonce[name] = append(slices.Clone(src), "'nonce-"+mark+"'")
	}
	return strings.Split(withNonce.String(), mark)
}

// sameOriginOnly reports whether every fetch directive allows only the
// document's own origin (plus data:, blob:, nonces and hashes), which makes
// Cross-Origin-Embedder-Policy: require-corp safe to send.
func sameOriginOnly(d Directives) bool {
	for _, name := range fetchDirectives {
		for _, s := range d[name] {
			ls := strings.ToLower(s)
			switch {
			case strings.HasPrefix(ls, "'"), ls == "data:", ls == "blob:":
			default:
				return false
			}
		}
	}
	return true
}

func validateReportURI(u string) error {
	if !(strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//")) && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("headers: report_uri must be a path such as /.rampart/csp-report or an https:// URL, got %q", truncate(u, 60))
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f || c == '"' || c == ';' || c == ',' || c == '\\' {
			return fmt.Errorf("headers: report_uri contains %q", c)
		}
	}
	return nil
}

// hstsValue builds Strict-Transport-Security from the preset and overrides.
func hstsValue(def hstsDefaults, o HSTS) (string, error) {
	maxAge, sub, preload := def.maxAge, def.includeSubdomains, def.preload
	if o.MaxAge < 0 {
		return "", fmt.Errorf("headers: hsts.max_age must not be negative")
	}
	if o.MaxAge > 0 {
		maxAge = o.MaxAge
	}
	if o.IncludeSubdomains != nil {
		sub = *o.IncludeSubdomains
	}
	if o.Preload != nil {
		preload = *o.Preload
	}
	if preload && (!sub || maxAge < year) {
		// Preload lists reject such a header, and a site that asks for
		// preloading without them gets a false sense of protection.
		return "", fmt.Errorf("headers: hsts.preload needs include_subdomains and a max_age of at least 365d")
	}
	v := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	if sub {
		v += "; includeSubDomains"
	}
	if preload {
		v += "; preload"
	}
	return v, nil
}

// validateKnown checks values of headers with a fixed vocabulary, so that a
// typo does not silently turn a protection off.
func validateKnown(name, v string) error {
	if !validValue(v) {
		return fmt.Errorf("headers: set: %s: invalid header value %q", name, truncate(v, 60))
	}
	oneOf := func(allowed ...string) error {
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				return nil
			}
		}
		return fmt.Errorf("headers: set: %s must be one of %s, got %q", name, strings.Join(allowed, ", "), truncate(v, 60))
	}
	switch name {
	case hXFO:
		if strings.HasPrefix(strings.ToUpper(v), "ALLOW-FROM") {
			return fmt.Errorf("headers: set: X-Frame-Options ALLOW-FROM is ignored by browsers; use the csp directive frame-ancestors")
		}
		return oneOf("DENY", "SAMEORIGIN")
	case hXCTO:
		return oneOf("nosniff")
	case hCOOP:
		return oneOf("same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none")
	case hCORP:
		return oneOf("same-origin", "same-site", "cross-origin")
	case hCOEP:
		return oneOf("require-corp", "credentialless", "unsafe-none")
	case hOAC:
		return oneOf("?1", "?0")
	case hXDNS:
		return oneOf("on", "off")
	case hXPCDP:
		return oneOf("none", "master-only", "by-content-type", "all")
	case hReferrer:
		for tok := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(tok)) {
			case "no-referrer", "no-referrer-when-downgrade", "same-origin", "origin",
				"strict-origin", "origin-when-cross-origin", "strict-origin-when-cross-origin", "unsafe-url":
			default:
				return fmt.Errorf("headers: set: Referrer-Policy: unknown policy %q", truncate(tok, 40))
			}
		}
	}
	return nil
}

// checkNames reports unknown or duplicate directive names in an override.
func (d Directives) checkNames() error {
	seen := map[string]bool{}
	var errs []error
	for raw := range d {
		name := strings.ToLower(strings.TrimSpace(raw))
		if seen[name] {
			errs = append(errs, fmt.Errorf("headers: csp: directive %q given twice", name))
		}
		seen[name] = true
		if !knownDirective(name) {
			msg := fmt.Sprintf("headers: csp: unknown directive %q", truncate(raw, 40))
			if s := suggestDirective(raw); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	return errors.Join(errs...)
}

// With returns a new Policy: p's configuration with o applied on top, for a
// route whose application needs something different.
func (p *Policy) With(o Override) (*Policy, error) {
	c := cloneConfig(p.cfg)
	if len(o.CSP) > 0 {
		c.CSP = c.CSP.merge(nil)
		for k, v := range o.CSP {
			c.CSP[strings.ToLower(strings.TrimSpace(k))] = v
		}
	}
	if o.CSPReportOnly != nil {
		c.CSPReportOnly = *o.CSPReportOnly
	}
	if o.Nonce != nil {
		c.Nonce = o.Nonce
	}
	if c.Set == nil {
		c.Set = map[string]string{}
	}
	for k, v := range o.Set {
		c.Set[k] = v
		// A route that sets a header explicitly wants it sent.
		c.Remove = slices.DeleteFunc(c.Remove, func(r string) bool { return strings.EqualFold(r, k) })
	}
	for _, r := range o.Remove {
		for k := range c.Set {
			if strings.EqualFold(k, r) {
				delete(c.Set, k)
			}
		}
		c.KeepUpstream = slices.DeleteFunc(c.KeepUpstream, func(k string) bool { return strings.EqualFold(k, r) })
		c.Remove = append(c.Remove, r)
	}
	for _, k := range o.KeepUpstream {
		c.Remove = slices.DeleteFunc(c.Remove, func(r string) bool { return strings.EqualFold(r, k) })
		c.KeepUpstream = append(c.KeepUpstream, k)
	}
	np, err := New(c)
	if err != nil {
		return nil, fmt.Errorf("headers: route override: %w", err)
	}
	return np, nil
}

func cloneConfig(c Config) Config {
	c.CSP = maps.Clone(c.CSP)
	c.Set = maps.Clone(c.Set)
	c.Remove = slices.Clone(c.Remove)
	c.KeepUpstream = slices.Clone(c.KeepUpstream)
	return c
}

// Header returns the headers p sets on a response without nonce, in a new
// map: for documentation, tests and audits.
func (p *Policy) Header() http.Header {
	h := http.Header{}
	for _, f := range p.fields {
		h[f.key] = slices.Clone(f.value)
	}
	if p.cspKey != "" {
		h[p.cspKey] = slices.Clone(p.cspValue)
	}
	if p.server != nil {
		h["Server"] = slices.Clone(p.server)
	}
	return h
}

// NonceHeader returns the request header that carries the nonce upstream.
func (p *Policy) NonceHeader() string { return p.nonceHeader }

type nonceKey struct{}

// NonceFromContext returns the CSP nonce of the request whose context is
// ctx, or "" when nonces are off. Templates put it in nonce="…" attributes
// of the inline scripts and styles the application wrote itself.
func NonceFromContext(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey{}).(string)
	return n
}

// newNonce returns 128 random bits, base64url without padding: safe in an
// HTML attribute and in the CSP grammar.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error.
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// cspWithNonce builds the CSP value for one request from parts.
func cspWithNonce(parts []string, nonce string) string {
	n := len(nonce) * (len(parts) - 1)
	for _, s := range parts {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for i, s := range parts {
		if i > 0 {
			b.WriteString(nonce)
		}
		b.WriteString(s)
	}
	return b.String()
}

// Handler returns a handler that sets p's headers on every response h
// writes — including error responses written with problem.Write — and
// removes leaking headers. Headers are set before h runs, so responses
// written by inner policies carry them, and enforced again when h writes its
// status, so an upstream's weaker values lose (except those in
// KeepUpstream).
func (p *Policy) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A client must never choose the nonce the application renders,
		// under any spelling the application could read.
		p.reserved.Strip(r.Header)
		csp, parts := p.cspValue, p.cspParts
		if p.cspKey != "" && !p.secure(r) {
			// Over plain HTTP, upgrade-insecure-requests would send the
			// page's forms and subresources to an https:// nobody serves.
			csp, parts = p.plainValue, p.plainParts
		}
		if parts != nil {
			nonce := newNonce()
			csp = []string{cspWithNonce(parts, nonce)}
			r.Header[p.nonceHeader] = []string{nonce}
			r = r.WithContext(context.WithValue(r.Context(), nonceKey{}, nonce))
		}
		if outer := outerWriter(w); outer != nil {
			// A route's policy nested inside a gateway-wide one takes the
			// outer writer over instead of stacking a second one: exactly
			// one policy decides each header, and it is the innermost.
			outer.p, outer.csp = p, csp
			h.ServeHTTP(w, r)
			return
		}
		// The headers are set when the status is written (and by the
		// deferred call below when nothing is): once per response, over
		// whatever the handler or the upstream put in the map.
		hw := p.writers.Get().(*writer)
		*hw = writer{ResponseWriter: w, p: p, csp: csp}
		defer func() {
			if !hw.wrote {
				// The handler wrote nothing (or panicked): the server
				// sends the header map as it is now.
				hw.p.enforce(w.Header(), hw.csp)
			}
			*hw = writer{}
			p.writers.Put(hw)
		}()
		h.ServeHTTP(hw, r)
	})
}

// outerWriter finds a writer of an enclosing Handler that has not sent the
// response yet.
func outerWriter(w http.ResponseWriter) *writer {
	for w != nil {
		if hw, ok := w.(*writer); ok {
			if hw.wrote {
				return nil
			}
			return hw
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// enforce sets p's headers on h and removes the leaking ones.
func (p *Policy) enforce(h http.Header, csp []string) {
	for i := range p.fields {
		f := &p.fields[i]
		put(h, f.key, f.value, f.keep)
	}
	if p.cspKey != "" {
		put(h, p.cspKey, csp, p.cspKeep)
	}
	for _, k := range p.remove {
		delete(h, k)
	}
	for k := range h {
		if p.removable(k) {
			delete(h, k)
		}
	}
	if p.server != nil {
		h["Server"] = p.server
	}
}

// removable reports whether a header key (maybe not canonical, if a handler
// wrote the map directly) must be removed.
func (p *Policy) removable(k string) bool {
	for _, pre := range p.removePrefix {
		if len(k) >= len(pre) && strings.EqualFold(k[:len(pre)], pre) {
			return true
		}
	}
	for _, r := range p.remove {
		// Canonical names were deleted directly; this catches other
		// spellings a handler wrote into the map itself.
		if len(k) == len(r) && strings.EqualFold(k, r) {
			return true
		}
	}
	return false
}

// put sets ours under k. With keep, a value the handler added (after ours,
// via Add, or instead of ours, via Set) wins.
func put(h http.Header, k string, ours []string, keep bool) {
	if !keep {
		h[k] = ours[:len(ours):len(ours)]
		return
	}
	v := h[k]
	switch {
	case len(v) == 0:
		h[k] = ours[:len(ours):len(ours)]
	case len(v) > 1 && v[0] == ours[0]:
		h[k] = v[1:]
	}
}

// writer enforces the policy at the moment the status is written.
type writer struct {
	http.ResponseWriter
	p     *Policy
	csp   []string
	wrote bool
}

func (w *writer) WriteHeader(code int) {
	if !w.wrote {
		w.p.enforce(w.ResponseWriter.Header(), w.csp)
		// 1xx responses are interim: the final one is enforced again.
		w.wrote = code >= 200 || code == http.StatusSwitchingProtocols
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.wrote {
		w.p.enforce(w.ResponseWriter.Header(), w.csp)
		w.wrote = true
	}
	return w.ResponseWriter.Write(b)
}

// FlushError flushes; a flush before any write sends the status line, so the
// headers are enforced first.
func (w *writer) FlushError() error {
	if !w.wrote {
		w.p.enforce(w.ResponseWriter.Header(), w.csp)
		w.wrote = true
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush implements http.Flusher for handlers that type-assert it.
func (w *writer) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var (
	_ http.ResponseWriter = (*writer)(nil)
	_ http.Flusher        = (*writer)(nil)
)

// validToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// validValue reports whether s is a safe header value: visible ASCII, spaces
// and tabs, no line breaks.
func validValue(s string) bool {
	if len(s) > 4096 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
