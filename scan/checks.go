package scan

import (
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/internal/observatory"
	"github.com/rampartsec/rampart/shield"
)

// Definition describes one check: its stable id, the checklist item it
// belongs to, what it looks at and how to fix a failure.
type Definition struct {
	ID    string `json:"id"`
	Item  int    `json:"item"`
	Title string `json:"title"`
	Fix   string `json:"fix"`
}

// definitions is the list of checks, in report order. Ids are stable: never
// rename or reuse one.
var definitions = []Definition{
	{"cookie-secure", 1, "cookies carry Secure", "set Secure on every cookie, and serve the site over HTTPS only"},
	{"cookie-httponly", 1, "session cookies carry HttpOnly", "set HttpOnly on session cookies so that injected scripts cannot read them"},
	{"cookie-samesite", 1, "cookies carry a valid SameSite", "set SameSite=Lax (or Strict) on session cookies"},
	{"cookie-prefix", 1, "session cookies use the __Host- prefix", "name session cookies __Host-… and set them with Secure, Path=/ and no Domain"},
	{"cookie-expiry", 3, "cookie lifetimes are bounded", "keep session cookies to hours or days and expire sessions on the server too (idle and absolute timeouts)"},
	{"leak-not-found", 4, "a missing page reveals no internals", "answer errors with a neutral page and send the details to the log (rampart's error shield does)"},
	{"leak-malformed-json", 4, "a malformed JSON body reveals no internals", "handle body-parser errors with a neutral 400 and log the details (rampart's error shield does)"},
	{"leak-banner", 4, "error pages name no server or framework version", "remove version banners from error pages (server_tokens off, ServerSignature Off, or rampart's error shield)"},
	{"csp", 6, "Content-Security-Policy", "send a Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval' in script-src (rampart's helmet or strict preset)"},
	{"hsts", 6, "Strict-Transport-Security on the HTTPS answer", "send Strict-Transport-Security: max-age=31536000; includeSubDomains on HTTPS answers"},
	{"x-content-type-options", 6, "X-Content-Type-Options", "send X-Content-Type-Options: nosniff"},
	{"frame-options", 6, "framing is restricted (X-Frame-Options or CSP frame-ancestors)", "send Content-Security-Policy: frame-ancestors 'self' (or X-Frame-Options: SAMEORIGIN)"},
	{"referrer-policy", 6, "Referrer-Policy", "send Referrer-Policy: no-referrer or strict-origin-when-cross-origin"},
	{"cross-origin-resource-policy", 6, "Cross-Origin-Resource-Policy", "send Cross-Origin-Resource-Policy: same-origin (or same-site)"},
	{"cross-origin-opener-policy", 6, "Cross-Origin-Opener-Policy", "send Cross-Origin-Opener-Policy: same-origin"},
	{"subresource-integrity", 6, "external scripts are pinned by Subresource Integrity", "load scripts over HTTPS with an integrity attribute, or host them yourself"},
	{"x-powered-by", 6, "no X-Powered-By or framework version headers", "remove X-Powered-By and X-AspNet-Version (app.disable('x-powered-by'), or rampart's headers)"},
	{"server-version", 6, "the Server header names no version", "send a Server header without version or operating system, or none"},
	{"login-rate-limit", 8, "a burst of failed logins is throttled", "limit login attempts per account and per IP, answering 429 with Retry-After (rampart's login protection)"},
	{"cors-arbitrary-origin", 9, "an arbitrary Origin is not allowed", "allow-list exact origins instead of reflecting the Origin header"},
	{"cors-null-origin", 9, "the null Origin is not allowed", "never allow the null origin: sandboxed frames and local files send it"},
	{"cors-lookalike-origin", 9, "look-alike origins are not allowed", "match origins exactly, never by prefix, suffix, substring or unanchored pattern"},
	{"cors-credentials", 9, "credentials are never allowed for a foreign origin", "allow credentials only for exact, trusted origins"},
	{"https", 12, "the page is served over HTTPS", "serve the site over HTTPS only and redirect plain HTTP to it"},
	{"http-redirect", 12, "plain HTTP redirects to HTTPS", "answer every plain-HTTP request with a 301 to the same host over HTTPS"},
	{"tls-certificate", 12, "the certificate is valid for the host", "install a certificate from a trusted CA that names the host, with its intermediates"},
	{"tls-expiry", 12, "the certificate is far from expiry", "renew the certificate (automate it, e.g. with ACME)"},
	{"tls-version", 12, "only TLS 1.2 or later is accepted", "accept TLS 1.2 and 1.3 only"},
	{"tls-ciphers", 12, "TLS 1.2 offers only forward-secret AEAD cipher suites", "offer ECDHE with AES-GCM or ChaCha20-Poly1305 only (rampart's default)"},
}

// Definitions returns every check the scan makes, in report order.
func Definitions() []Definition { return slices.Clone(definitions) }

func definition(id string) Definition {
	for _, d := range definitions {
		if d.ID == id {
			return d
		}
	}
	panic("scan: no check " + id) // a programming error, caught by every test run
}

// verdict builds checks in report order.
type verdict struct {
	checks map[string]Check
}

// set records a verdict. The detail is cut to maxDetail bytes with its
// control characters replaced: it quotes what sites send, and a report
// printed on a terminal must not take escape sequences from them.
func (v *verdict) set(id string, st Status, sev severity.Level, format string, args ...any) Check {
	d := definition(id)
	c := Check{ID: id, Item: d.Item, Status: st, Title: d.Title, Detail: truncate(fmt.Sprintf(format, args...), maxDetail)}
	switch st {
	case Warn, Fail:
		c.Severity, c.Fix = sev, d.Fix
	case Errored:
		c.Fix = d.Fix
	}
	v.checks[id] = c
	return c
}

// maxDetail bounds a check's detail.
const maxDetail = 600

func (v *verdict) pass(id, format string, args ...any) { v.set(id, Pass, 0, format, args...) }
func (v *verdict) skip(id, format string, args ...any) { v.set(id, Skip, 0, format, args...) }

// finding records a warn (low, moderate) or fail (high, critical).
func (v *verdict) finding(id string, sev severity.Level, format string, args ...any) {
	st := Warn
	if sev >= severity.High {
		st = Fail
	}
	v.set(id, st, sev, format, args...)
}

// unanswered records why a probe has no answer: skipped for a spent budget,
// errored otherwise.
func (v *verdict) unanswered(id string, err error) {
	if err == nil {
		// Not reached: a probe without an answer has an error. Fail
		// closed all the same.
		err = errors.New("no answer")
	}
	if errors.Is(err, errRequestBudget) || errors.Is(err, errTimeBudget) {
		v.skip(id, "not run: %v", err)
		return
	}
	v.set(id, Errored, 0, "probe failed: %s", strings.TrimPrefix(err.Error(), "scan: "))
}

func (v *verdict) list() []Check {
	out := make([]Check, 0, len(definitions))
	for _, d := range definitions {
		if c, ok := v.checks[d.ID]; ok {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b Check) int { return a.Item - b.Item })
	return out
}

// evaluate turns the evidence into verdicts.
func evaluate(ev *evidence, obs observatory.Result, now time.Time) []Check {
	v := &verdict{checks: map[string]Check{}}
	evalCookies(v, ev, now)
	evalLeaks(v, ev)
	evalHeaders(v, ev, obs)
	evalLogin(v, ev)
	evalCORS(v, ev)
	evalTransport(v, ev, obs, now)
	return v.list()
}

// fromModifier rates an observatory result by its score modifier: 0 or more
// passes, -5 is low, -10 moderate, -20 to -25 high, worse critical.
func fromModifier(t observatory.TestResult) (Status, severity.Level) {
	switch m := t.Modifier; {
	case m >= 0 && t.Pass:
		return Pass, 0
	case m >= -5:
		return Warn, severity.Low
	case m >= -10:
		return Warn, severity.Moderate
	case m >= -25:
		return Fail, severity.High
	}
	return Fail, severity.Critical
}

// observed records a check that is one observatory test.
func (v *verdict) observed(id string, t observatory.TestResult, extra string) {
	st, sev := fromModifier(t)
	what := observatoryWords[t.Result]
	if what == "" {
		what = t.Result
	}
	if extra != "" {
		what += "; " + extra
	}
	c := v.set(id, st, sev, "%s (%s, %+d)", what, t.Result, t.Modifier)
	c.Observatory = t.Result
	v.checks[id] = c
}

// observatoryWords says each observatory result in words.
var observatoryWords = map[string]string{
	"csp-implemented-with-no-unsafe-default-src-none":               "set, default-src 'none', nothing unsafe",
	"csp-implemented-with-no-unsafe":                                "set, without unsafe sources",
	"csp-implemented-with-unsafe-inline-in-style-src-only":          "set; 'unsafe-inline' only in style-src",
	"csp-implemented-with-insecure-scheme-in-passive-content-only":  "set; images or media may load over http",
	"csp-implemented-with-unsafe-eval":                              "set, but allows 'unsafe-eval'",
	"csp-implemented-with-unsafe-inline":                            "set, but allows inline or broad script sources",
	"csp-implemented-with-insecure-scheme":                          "set, but scripts or other active content may load over http",
	"csp-header-invalid":                                            "set, but invalid",
	"csp-not-implemented":                                           "not set",
	"csp-not-implemented-but-reporting-enabled":                     "report-only: nothing is enforced",
	"csp-implemented-but-duplicate-directives":                      "set, with duplicate report directives",
	"hsts-preloaded":                                                "preloaded",
	"hsts-implemented-max-age-at-least-six-months":                  "set, max-age at least six months",
	"hsts-implemented-max-age-less-than-six-months":                 "set, but max-age under six months",
	"hsts-not-implemented":                                          "not set on the HTTPS answer",
	"hsts-header-invalid":                                           "set, but invalid",
	"hsts-not-implemented-no-https":                                 "no HTTPS answer to set it on",
	"hsts-invalid-cert":                                             "the certificate is invalid, so browsers ignore it",
	"x-content-type-options-nosniff":                                "nosniff",
	"x-content-type-options-not-implemented":                        "not set",
	"x-content-type-options-header-invalid":                         "set, but not to nosniff",
	"x-frame-options-implemented-via-csp":                           "restricted by CSP frame-ancestors",
	"x-frame-options-sameorigin-or-deny":                            "X-Frame-Options SAMEORIGIN or DENY",
	"x-frame-options-allow-from-origin":                             "X-Frame-Options ALLOW-FROM (ignored by current browsers)",
	"x-frame-options-not-implemented":                               "not restricted: any site can frame the page",
	"x-frame-options-header-invalid":                                "X-Frame-Options invalid: any site can frame the page",
	"referrer-policy-private":                                       "set to a private policy",
	"referrer-policy-not-implemented":                               "not set (browsers default to strict-origin-when-cross-origin)",
	"referrer-policy-unsafe":                                        "set to a policy that leaks URLs",
	"referrer-policy-header-invalid":                                "set, but invalid",
	"corp-header-invalid":                                           "set, but invalid",
	"corp-implemented-with-cross-origin":                            "cross-origin",
	"corp-implemented-with-same-origin":                             "same-origin",
	"corp-implemented-with-same-site":                               "same-site",
	"corp-not-implemented":                                          "not set",
	"sri-implemented-and-all-scripts-loaded-securely":               "every script pinned and loaded over HTTPS",
	"sri-implemented-and-external-scripts-loaded-securely":          "external scripts pinned and loaded over HTTPS",
	"sri-not-implemented-response-not-html":                         "not HTML",
	"sri-not-implemented-but-no-scripts-loaded":                     "no scripts",
	"sri-not-implemented-but-all-scripts-loaded-from-secure-origin": "scripts come from the site itself",
	"sri-not-implemented-but-external-scripts-loaded-securely":      "external scripts over HTTPS, but not pinned",
	"sri-implemented-but-external-scripts-not-loaded-securely":      "external scripts pinned, but loaded over http",
	"sri-not-implemented-and-external-scripts-not-loaded-securely":  "external scripts over http, not pinned",
	"redirection-all-redirects-preloaded":                           "preloaded",
	"redirection-to-https":                                          "redirects to HTTPS on the same host",
	"redirection-not-needed-no-http":                                "no plain-HTTP site to redirect",
	"redirection-off-host-from-http":                                "redirects to HTTPS on another host first",
	"redirection-not-to-https-on-initial-redirection":               "first redirects to plain HTTP",
	"redirection-not-to-https":                                      "redirects, but not to HTTPS",
	"redirection-missing":                                           "plain HTTP answers without redirecting",
	"redirection-invalid-cert":                                      "redirects to a site with an invalid certificate",
}

func evalHeaders(v *verdict, ev *evidence, obs observatory.Result) {
	v.observed("csp", obs.Tests["content-security-policy"], "")
	hsts, extra := obs.Tests["strict-transport-security"], ""
	if ev.https != nil {
		if h := ev.https.header.Get("Strict-Transport-Security"); h != "" && !hasDirective(h, "includesubdomains") {
			extra = "without includeSubDomains"
		}
	}
	v.observed("hsts", hsts, extra)
	if c := v.checks["hsts"]; extra != "" && c.Status == Pass {
		c.Status, c.Severity, c.Fix = Warn, severity.Low, definition("hsts").Fix
		v.checks["hsts"] = c
	}
	v.observed("x-content-type-options", obs.Tests["x-content-type-options"], "")
	v.observed("frame-options", obs.Tests["x-frame-options"], "")
	v.observed("referrer-policy", obs.Tests["referrer-policy"], "")
	v.observed("cross-origin-resource-policy", obs.Tests["cross-origin-resource-policy"], "")
	v.observed("subresource-integrity", obs.Tests["subresource-integrity"], "")

	switch coop := strings.ToLower(strings.TrimSpace(ev.final.header.Get("Cross-Origin-Opener-Policy"))); coop {
	case "same-origin", "same-origin-allow-popups", "noopener-allow-popups":
		v.pass("cross-origin-opener-policy", "%s", coop)
	case "":
		v.finding("cross-origin-opener-policy", severity.Low, "not set: a page this one opens keeps a handle on it")
	case "unsafe-none":
		v.finding("cross-origin-opener-policy", severity.Low, "unsafe-none: a page this one opens keeps a handle on it")
	default:
		v.finding("cross-origin-opener-policy", severity.Low, "invalid value %q", truncate(coop, 60))
	}

	// Leaking headers, on every answer the scan received.
	var powered, servers []string
	for _, r := range ev.responses() {
		for _, name := range []string{"X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"} {
			if val := r.header.Get(name); val != "" {
				powered = appendOnce(powered, name+": "+truncate(val, 60))
			}
		}
		if s := r.header.Get("Server"); s != "" && serverVersion.MatchString(s) {
			servers = appendOnce(servers, truncate(s, 80))
		}
	}
	if len(powered) > 0 {
		v.finding("x-powered-by", severity.Moderate, "%s", strings.Join(powered, "; "))
	} else {
		v.pass("x-powered-by", "none")
	}
	if len(servers) > 0 {
		v.finding("server-version", severity.Low, "Server: %s", strings.Join(servers, "; "))
	} else {
		v.pass("server-version", "no version")
	}
}

// serverVersion matches a Server value that names a version or an
// operating system: "nginx/1.25.3", "Apache/2.4.41 (Ubuntu)", "Kestrel 8.0".
var serverVersion = regexp.MustCompile(`/v?\d|\s\d+\.\d|\((?:Ubuntu|Debian|CentOS|Red Hat|Unix|Win32|Win64|Fedora|Amazon|FreeBSD)`)

// banner matches a versioned server or framework banner in an error body:
// "Apache/2.4.41 (Ubuntu) Server at", "nginx/1.18.0", "Apache Tomcat/9.0.41",
// "PHP/8.1.2", "ASP.NET Version:4.8".
var banner = regexp.MustCompile(`\b(?:nginx|openresty|Apache(?: Tomcat)?|Microsoft-IIS|Microsoft-HTTPAPI|lighttpd|LiteSpeed|Jetty|Werkzeug|gunicorn|uvicorn|Kestrel|PHP|Phusion Passenger|Caddy|WildFly|JBoss|GlassFish|Tengine|Cowboy|Puma|WEBrick|TornadoServer|CherryPy|Node\.js|OpenSSL|Express)/v?\d+(?:\.\d+)+|` +
	`ASP\.NET Version:\s*\d|Django Version:|Ruby on Rails [0-9]|Laravel v?\d+\.\d+|Spring Boot v?\d`)

func evalLeaks(v *verdict, ev *evidence) {
	leak := func(id string, pr probe, what string) {
		if pr.resp == nil {
			v.unanswered(id, pr.err)
			return
		}
		if sig, ok := shield.Leak(pr.resp.body); ok {
			v.finding(id, severity.High, "%s answered %d with internals: %s: %s", what, pr.resp.status, sig, excerpt(pr.resp.body))
			return
		}
		cut := ""
		if pr.resp.truncated || len(pr.resp.body) > shield.DefaultInspectBytes {
			cut = fmt.Sprintf(" in the first %d bytes", min(len(pr.resp.body), shield.DefaultInspectBytes))
		}
		v.pass(id, "%s answered %d %s, nothing internal%s", what, pr.resp.status, bodyKind(pr.resp), cut)
	}
	leak("leak-not-found", ev.notFound, "GET "+pathOf(ev.notFound.resp, "a missing path"))
	leak("leak-malformed-json", ev.malformed, "POST of malformed JSON")

	var banners []string
	answered := false
	for _, pr := range []probe{ev.notFound, ev.malformed} {
		if pr.resp == nil {
			continue
		}
		answered = true
		body := pr.resp.body[:min(len(pr.resp.body), shield.DefaultInspectBytes)]
		for _, m := range banner.FindAll(body, 5) {
			banners = appendOnce(banners, string(m))
		}
	}
	switch {
	case len(banners) > 0:
		v.finding("leak-banner", severity.Moderate, "error pages name %s", strings.Join(banners, ", "))
	case answered:
		v.pass("leak-banner", "no version banner in the error pages")
	default:
		v.unanswered("leak-banner", ev.notFound.err)
	}
}

func evalLogin(v *verdict, ev *evidence) {
	l := ev.login
	switch {
	case l == nil:
		v.skip("login-rate-limit", "not run: give the login path (--login PATH) to test it")
	case l.throttled != nil:
		ra := l.throttled.header.Get("Retry-After")
		if ra == "" {
			v.pass("login-rate-limit", "POST %s throttled with %d at attempt %d (no Retry-After)", l.path, l.throttled.status, l.attempts)
		} else {
			v.pass("login-rate-limit", "POST %s throttled with %d at attempt %d (Retry-After: %s)", l.path, l.throttled.status, l.attempts, truncate(ra, 40))
		}
	case errors.Is(l.err, errRequestBudget) && l.attempts == 0:
		v.skip("login-rate-limit", "not run: the request budget left %d requests, the burst needs at least %d (raise --max-requests)", l.planned, MinLoginAttempts)
	case errors.Is(l.err, errTimeBudget):
		v.skip("login-rate-limit", "stopped after %d POSTs to %s, none throttled: %v (raise --timeout)", l.attempts, l.path, l.err)
	case l.err != nil && l.attempts < l.planned:
		v.unanswered("login-rate-limit", fmt.Errorf("after %d attempts: %w", l.attempts, l.err))
	case l.attempts < LoginAttempts:
		v.finding("login-rate-limit", severity.Moderate, "%d POSTs to %s (%s) were not throttled; the budget allowed no more than %d of %d (raise --max-requests)",
			l.attempts, l.path, statusList(l.statuses), l.attempts, LoginAttempts)
	default:
		v.finding("login-rate-limit", severity.High, "%d POSTs to %s in a row (%s), none throttled", l.attempts, l.path, statusList(l.statuses))
	}
}

// reflected reports whether r allows origin: Access-Control-Allow-Origin
// equal to it.
func reflected(r *response, origin string) bool {
	return r != nil && strings.TrimSpace(r.header.Get("Access-Control-Allow-Origin")) == origin
}

func withCredentials(r *response) bool {
	return strings.EqualFold(strings.TrimSpace(r.header.Get("Access-Control-Allow-Credentials")), "true")
}

func evalCORS(v *verdict, ev *evidence) {
	var credentialed []string
	note := func(r *response, origin string) {
		if reflected(r, origin) && withCredentials(r) {
			credentialed = appendOnce(credentialed, origin)
		}
	}
	note(ev.preflight.resp, arbitraryOrigin)

	judge := func(id, kind string, sev severity.Level, what string) {
		var allowed []string
		var first error
		answered := false
		for _, c := range ev.cors {
			if c.kind != kind {
				continue
			}
			if c.resp == nil {
				if first == nil {
					first = c.err
				}
				continue
			}
			answered = true
			note(c.resp, c.origin)
			if reflected(c.resp, c.origin) {
				allowed = append(allowed, c.origin)
			}
		}
		if kind == "arbitrary" && reflected(ev.preflight.resp, arbitraryOrigin) {
			if len(allowed) > 0 {
				allowed[0] += " (GET and preflight)"
			} else {
				allowed = append(allowed, arbitraryOrigin+" (preflight)")
			}
		}
		switch {
		case len(allowed) > 0:
			v.finding(id, sev, "Access-Control-Allow-Origin echoes %s", strings.Join(allowed, ", "))
		case answered:
			v.pass(id, "%s not allowed", what)
		case kind == "lookalike" && first == nil:
			v.skip(id, "not needed: any origin is allowed (cors-arbitrary-origin)")
		default:
			v.unanswered(id, first)
		}
	}
	judge("cors-arbitrary-origin", "arbitrary", severity.Moderate, arbitraryOrigin)
	judge("cors-null-origin", "null", severity.Moderate, "Origin: null")
	judge("cors-lookalike-origin", "lookalike", severity.High, strings.Join(lookalikes(ev.final.url.Hostname()), " and "))

	if len(credentialed) > 0 {
		v.finding("cors-credentials", severity.Critical, "Access-Control-Allow-Credentials: true for %s: any site can read users' data with their cookies", strings.Join(credentialed, ", "))
		return
	}
	if ev.preflight.resp == nil && !slices.ContainsFunc(ev.cors, func(c corsProbe) bool { return c.resp != nil }) {
		v.unanswered("cors-credentials", ev.preflight.err)
		return
	}
	v.pass("cors-credentials", "no foreign origin allowed with credentials")
}

func evalTransport(v *verdict, ev *evidence, obs observatory.Result, now time.Time) {
	if ev.final.url.Scheme == "https" {
		v.pass("https", "%s", ev.final.url.Redacted())
	} else {
		v.finding("https", severity.High, "%s is plain HTTP: anyone on the path can read and change it", ev.final.url.Redacted())
	}

	switch {
	case ev.start.Scheme == "https" && ev.http == nil && (errors.Is(ev.httpErr, errRequestBudget) || errors.Is(ev.httpErr, errTimeBudget)):
		v.unanswered("http-redirect", ev.httpErr)
	default:
		extra := ""
		if ev.http == nil && ev.httpErr != nil {
			extra = strings.TrimPrefix(ev.httpErr.Error(), "scan: ")
		}
		v.observed("http-redirect", obs.Tests["redirection"], extra)
	}

	tlsChecks := []string{"tls-certificate", "tls-expiry", "tls-version", "tls-ciphers"}
	if ev.https == nil || ev.https.tls == nil || len(ev.https.tls.PeerCertificates) == 0 {
		for _, id := range tlsChecks {
			v.skip(id, "no HTTPS answer")
		}
		return
	}
	state := ev.https.tls
	leaf := state.PeerCertificates[0]
	if ev.verifyErr != nil {
		v.finding("tls-certificate", severity.Critical, "not trusted: %v", ev.verifyErr)
	} else {
		v.pass("tls-certificate", "valid for %s, issued by %s", ev.https.url.Hostname(), truncate(leaf.Issuer.String(), 80))
	}

	left := leaf.NotAfter.Sub(now)
	until := leaf.NotAfter.UTC().Format(time.DateOnly)
	switch {
	case left <= 0:
		v.finding("tls-expiry", severity.Critical, "expired on %s", until)
	case left < 7*24*time.Hour:
		v.finding("tls-expiry", severity.High, "expires in %s (%s)", roughly(left), until)
	case left < 30*24*time.Hour:
		v.finding("tls-expiry", severity.Moderate, "expires in %s (%s)", roughly(left), until)
	default:
		v.pass("tls-expiry", "valid until %s (%s)", until, roughly(left))
	}

	negotiated := tls.VersionName(state.Version)
	switch {
	case state.Version < tls.VersionTLS12:
		v.finding("tls-version", severity.High, "the connection used %s", negotiated)
	case ev.legacy.accepted:
		v.finding("tls-version", severity.Moderate, "negotiated %s, but a %s handshake was accepted too", negotiated, tls.VersionName(ev.legacy.version))
	case ev.legacy.err != nil:
		v.unanswered("tls-version", fmt.Errorf("negotiated %s; the TLS 1.1 handshake: %w", negotiated, ev.legacy.err))
	default:
		v.pass("tls-version", "negotiated %s; TLS 1.0 and 1.1 refused", negotiated)
	}

	switch {
	case ev.weak.accepted:
		v.finding("tls-ciphers", severity.Moderate, "a TLS 1.2 handshake with %s was accepted", tls.CipherSuiteName(ev.weak.suite))
	case ev.weak.err != nil:
		v.unanswered("tls-ciphers", fmt.Errorf("the TLS 1.2 handshake with weak suites: %w", ev.weak.err))
	default:
		v.pass("tls-ciphers", "TLS 1.2 refused every CBC, RSA-key-exchange, RC4 and 3DES suite")
	}
}

// responses returns every answer the scan received.
func (ev *evidence) responses() []*response {
	out := slices.Clone(ev.chain)
	out = append(out, ev.httpChain...)
	for _, pr := range []probe{ev.preflight, ev.notFound, ev.malformed} {
		if pr.resp != nil {
			out = append(out, pr.resp)
		}
	}
	for _, c := range ev.cors {
		if c.resp != nil {
			out = append(out, c.resp)
		}
	}
	return out
}

func hasDirective(h, name string) bool {
	for part := range strings.SplitSeq(h, ";") {
		if strings.EqualFold(strings.TrimSpace(part), name) {
			return true
		}
	}
	return false
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// truncate cuts s to n bytes at a rune boundary, marking the cut, and
// replaces control characters so that nothing a site sends can forge
// lines in a terminal report.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

var (
	tag    = regexp.MustCompile(`<[^<>]{0,200}>`)
	spaces = regexp.MustCompile(`[\s\x{a0}]+`)
)

// excerpt returns the start of body as one line of text — tags removed,
// entities decoded, secrets redacted — to show the evidence without
// printing a whole page.
func excerpt(body []byte) string {
	s := string(body[:min(len(body), 4<<10)])
	s = html.UnescapeString(tag.ReplaceAllString(s, " "))
	s = spaces.ReplaceAllString(shield.RedactText(s), " ")
	return truncate(strings.TrimSpace(s), 160)
}

func bodyKind(r *response) string {
	ct := r.header.Get("Content-Type")
	if ct == "" {
		return "without a content type"
	}
	mt, _, _ := strings.Cut(ct, ";")
	return "(" + truncate(strings.TrimSpace(mt), 60) + ")"
}

func pathOf(r *response, fallback string) string {
	if r == nil {
		return fallback
	}
	return r.url.Path
}

func statusList(m map[int]int) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", m[c], c))
	}
	return "answers " + strings.Join(parts, ", ")
}

// roughly says a duration in the largest sensible unit.
func roughly(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}
