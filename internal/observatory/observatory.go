package observatory

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// AlgorithmVersion is the MDN HTTP Observatory scoring whose rules Score
// reproduces: npm @mdn/mdn-http-observatory 1.4.8, ALGORITHM_VERSION 5.
const AlgorithmVersion = "mdn-http-observatory 1.4.8"

// Response is one HTTP response the scan saw.
type Response struct {
	// URL is where it came from.
	URL *url.URL
	// Status is its status code.
	Status int
	// Header holds its headers.
	Header http.Header
	// Verified reports whether its TLS certificate was valid (always true
	// for plain HTTP).
	Verified bool
}

// Site is what a scan retrieved from one host.
type Site struct {
	// Hostname is the scanned host name, without port.
	Hostname string
	// Final is the response graded for headers: the end of the HTTPS
	// redirect chain, or of the HTTP one when HTTPS is unreachable.
	Final *Response
	// Body is Final's body, for subresource integrity.
	Body string
	// HTTPS is the first response of https://host/, nil when unreachable.
	HTTPS *Response
	// HTTP is the first response of http://host/, nil when unreachable.
	HTTP *Response
	// HTTPRedirects is the chain followed from http://host/, first URL
	// included.
	HTTPRedirects []Redirect
	// Preflight is the answer to a CORS preflight with Origin
	// PreflightOrigin, nil when none was made.
	Preflight       *Response
	PreflightOrigin string
	// SetCookies are every Set-Cookie header seen on the way, in order.
	SetCookies []string
}

// Redirect is one step of a redirect chain.
type Redirect struct {
	URL    *url.URL
	Status int
}

// TestResult is the outcome of one test.
type TestResult struct {
	// Result is the upstream expectation name, such as
	// "csp-implemented-with-no-unsafe".
	Result string `json:"result"`
	// Pass reports whether the test passed.
	Pass bool `json:"pass"`
	// Modifier is the result's score modifier.
	Modifier int `json:"scoreModifier"`
}

// Result is a graded scan.
type Result struct {
	Score int                   `json:"score"`
	Grade string                `json:"grade"`
	Tests map[string]TestResult `json:"tests"`
}

// modifiers is the upstream SCORE_TABLE (src/grader/charts.js).
var modifiers = map[string]int{
	"csp-implemented-with-no-unsafe-default-src-none":                  10,
	"csp-implemented-with-no-unsafe":                                   5,
	"csp-implemented-with-unsafe-inline-in-style-src-only":             0,
	"csp-implemented-with-insecure-scheme-in-passive-content-only":     -10,
	"csp-implemented-with-unsafe-eval":                                 -10,
	"csp-implemented-with-unsafe-inline":                               -20,
	"csp-implemented-with-insecure-scheme":                             -20,
	"csp-header-invalid":                                               -25,
	"csp-not-implemented":                                              -25,
	"csp-not-implemented-but-reporting-enabled":                        -25,
	"csp-implemented-but-duplicate-directives":                         0,
	"cookies-secure-with-httponly-sessions-and-samesite":               5,
	"cookies-secure-with-httponly-sessions":                            0,
	"cookies-not-found":                                                0,
	"cookies-without-secure-flag-but-protected-by-hsts":                -5,
	"cookies-session-without-secure-flag-but-protected-by-hsts":        -10,
	"cookies-without-secure-flag":                                      -20,
	"cookies-samesite-flag-invalid":                                    -20,
	"cookies-anticsrf-without-samesite-flag":                           -20,
	"cookies-session-without-httponly-flag":                            -30,
	"cookies-session-without-secure-flag":                              -40,
	"cross-origin-resource-sharing-not-implemented":                    0,
	"cross-origin-resource-sharing-implemented-with-public-access":     0,
	"cross-origin-resource-sharing-implemented-with-restricted-access": 0,
	"cross-origin-resource-sharing-implemented-with-universal-access":  -50,
	"redirection-all-redirects-preloaded":                              0,
	"redirection-to-https":                                             0,
	"redirection-not-needed-no-http":                                   0,
	"redirection-off-host-from-http":                                   -5,
	"redirection-not-to-https-on-initial-redirection":                  -10,
	"redirection-not-to-https":                                         -20,
	"redirection-missing":                                              -20,
	"redirection-invalid-cert":                                         -20,
	"referrer-policy-private":                                          5,
	"referrer-policy-not-implemented":                                  0,
	"referrer-policy-unsafe":                                           -5,
	"referrer-policy-header-invalid":                                   -5,
	"hsts-preloaded":                                                   5,
	"hsts-implemented-max-age-at-least-six-months":                     0,
	"hsts-implemented-max-age-less-than-six-months":                    -10,
	"hsts-not-implemented":                                             -20,
	"hsts-header-invalid":                                              -20,
	"hsts-not-implemented-no-https":                                    -20,
	"hsts-invalid-cert":                                                -20,
	"sri-implemented-and-all-scripts-loaded-securely":                  5,
	"sri-implemented-and-external-scripts-loaded-securely":             5,
	"sri-not-implemented-response-not-html":                            0,
	"sri-not-implemented-but-no-scripts-loaded":                        0,
	"sri-not-implemented-but-all-scripts-loaded-from-secure-origin":    0,
	"sri-not-implemented-but-external-scripts-loaded-securely":         -5,
	"sri-implemented-but-external-scripts-not-loaded-securely":         -20,
	"sri-not-implemented-and-external-scripts-not-loaded-securely":     -50,
	"x-content-type-options-nosniff":                                   0,
	"x-content-type-options-not-implemented":                           -5,
	"x-content-type-options-header-invalid":                            -5,
	"x-frame-options-implemented-via-csp":                              5,
	"x-frame-options-sameorigin-or-deny":                               0,
	"x-frame-options-allow-from-origin":                                0,
	"x-frame-options-not-implemented":                                  -20,
	"x-frame-options-header-invalid":                                   -20,
	"corp-header-invalid":                                              -5,
	"corp-implemented-with-cross-origin":                               0,
	"corp-implemented-with-same-origin":                                10,
	"corp-implemented-with-same-site":                                  10,
	"corp-not-implemented":                                             0,
	"html-not-parseable":                                               -20,
}

// Modifier returns the score modifier of an expectation name (0 when
// unknown, as upstream).
func Modifier(result string) int { return modifiers[result] }

// minimumForExtraCredit is MINIMUM_SCORE_FOR_EXTRA_CREDIT: bonuses count
// only when the score without them is at least this.
const minimumForExtraCredit = 90

// Score grades s the way the MDN HTTP Observatory does: 100, plus the
// modifiers of every test, where positive modifiers only count if the score
// from the negative ones alone is at least 90.
func Score(s *Site) Result {
	tests := map[string]TestResult{}
	add := func(name, result string, pass bool) {
		tests[name] = TestResult{Result: result, Pass: pass, Modifier: modifiers[result]}
	}
	csp := analyzeCSP(s)
	add("content-security-policy", csp.result, csp.pass)
	hsts, hstsPass := testHSTS(s)
	add("strict-transport-security", hsts, hstsPass)
	r, p := testCookies(s, hstsPass)
	add("cookies", r, p)
	r, p = testCORS(s)
	add("cross-origin-resource-sharing", r, p)
	r, p = testRedirection(s)
	add("redirection", r, p)
	r, p = testReferrer(s)
	add("referrer-policy", r, p)
	r, p = testSRI(s)
	add("subresource-integrity", r, p)
	r, p = testXCTO(s)
	add("x-content-type-options", r, p)
	r, p = testXFO(s, csp)
	add("x-frame-options", r, p)
	r, p = testCORP(s)
	add("cross-origin-resource-policy", r, p)

	withExtra, uncurved := 100, 100
	for _, t := range tests {
		withExtra += t.Modifier
		if t.Modifier < 0 {
			uncurved += t.Modifier
		}
	}
	score := uncurved
	if uncurved >= minimumForExtraCredit {
		score = withExtra
	}
	score = max(score, 0)
	return Result{Score: score, Grade: Grade(score), Tests: tests}
}

// Grade maps a score to its letter (GRADE_CHART).
func Grade(score int) string {
	key := min(score-score%5, 100)
	switch {
	case key >= 100:
		return "A+"
	case key >= 90:
		return "A"
	case key == 85:
		return "A-"
	case key == 80:
		return "B+"
	case key >= 70:
		return "B"
	case key == 65:
		return "B-"
	case key == 60:
		return "C+"
	case key >= 50:
		return "C"
	case key == 45:
		return "C-"
	case key == 40:
		return "D+"
	case key >= 30:
		return "D"
	case key == 25:
		return "D-"
	}
	return "F"
}

func headerValues(r *Response, name string) []string {
	if r == nil {
		return nil
	}
	return r.Header.Values(name)
}

func firstHeader(r *Response, name string) (string, bool) {
	vs := headerValues(r, name)
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// testHSTS follows strict-transport-security.js, without the preload list
// (loopback test hosts are never on it).
func testHSTS(s *Site) (string, bool) {
	result := "hsts-not-implemented"
	switch {
	case s.HTTPS == nil:
		result = "hsts-not-implemented-no-https"
	case !s.HTTPS.Verified:
		result = "hsts-invalid-cert"
	default:
		if v, ok := firstHeader(s.HTTPS, "Strict-Transport-Security"); ok {
			v = cut(v, 1024)
			maxAge := -1
			valid := !strings.Contains(v, ",")
			for _, p := range strings.Split(v, ";") {
				p = strings.ToLower(strings.TrimSpace(p))
				if n, ok := strings.CutPrefix(p, "max-age="); ok {
					maxAge = parseIntPrefix(cut(n, 120))
				}
			}
			switch {
			case !valid || maxAge < 0:
				result = "hsts-header-invalid"
			case maxAge < 15552000:
				result = "hsts-implemented-max-age-less-than-six-months"
			default:
				result = "hsts-implemented-max-age-at-least-six-months"
			}
		}
	}
	return result, result == "hsts-implemented-max-age-at-least-six-months" || result == "hsts-preloaded"
}

// parseIntPrefix parses leading digits like JavaScript's parseInt; -1 when
// there are none.
func parseIntPrefix(s string) int {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return -1
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 1 << 62
	}
	return n
}

func testCookies(s *Site, hsts bool) (string, bool) {
	goodness := []string{
		"cookies-without-secure-flag-but-protected-by-hsts",
		"cookies-without-secure-flag",
		"cookies-session-without-secure-flag-but-protected-by-hsts",
		"cookies-samesite-flag-invalid",
		"cookies-anticsrf-without-samesite-flag",
		"cookies-session-without-httponly-flag",
		"cookies-session-without-secure-flag",
	}
	result := ""
	worse := func(r string) {
		if result == "" || slices.Index(goodness, r) > slices.Index(goodness, result) {
			result = r
		}
	}
	for _, raw := range headerValues(s.Final, "Set-Cookie") {
		for _, part := range strings.Split(strings.TrimSpace(raw), ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.EqualFold(strings.TrimSpace(k), "samesite") {
				switch strings.ToLower(strings.TrimSpace(v)) {
				case "lax", "strict", "none":
				default:
					worse("cookies-samesite-flag-invalid")
				}
			}
		}
	}
	var cookies []*http.Cookie
	for _, raw := range s.SetCookies {
		if c, err := http.ParseSetCookie(raw); err == nil && c.Name != "" && prefixAllowed(c) {
			cookies = append(cookies, c)
		}
	}
	if len(cookies) == 0 {
		return "cookies-not-found", true
	}
	missingSameSite := false
	for _, c := range cookies {
		name := strings.ToLower(c.Name)
		session := strings.Contains(name, "login") || strings.Contains(name, "sess")
		csrf := strings.Contains(name, "csrf")
		if !c.Secure && c.SameSite == http.SameSiteNoneMode {
			worse("cookies-samesite-flag-invalid")
		}
		if !c.Secure && hsts {
			worse("cookies-without-secure-flag-but-protected-by-hsts")
		} else if !c.Secure {
			worse("cookies-without-secure-flag")
		}
		// tough-cookie leaves sameSite undefined both when the attribute is
		// missing (Go: 0) and when its value is not lax, strict or none
		// (Go: SameSiteDefaultMode).
		noSameSite := c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode
		if csrf && noSameSite {
			worse("cookies-anticsrf-without-samesite-flag")
		}
		if session && !c.Secure && hsts {
			worse("cookies-session-without-secure-flag-but-protected-by-hsts")
		} else if session && !c.Secure {
			worse("cookies-session-without-secure-flag")
		}
		if session && !c.HttpOnly {
			worse("cookies-session-without-httponly-flag")
		}
		if noSameSite {
			missingSameSite = true
		}
	}
	if result == "" {
		result = "cookies-secure-with-httponly-sessions-and-samesite"
		if missingSameSite {
			result = "cookies-secure-with-httponly-sessions"
		}
	}
	return result, result == "cookies-not-found" || result == "cookies-secure-with-httponly-sessions-and-samesite" ||
		result == "cookies-secure-with-httponly-sessions"
}

// prefixAllowed reports whether the upstream's cookie jar (tough-cookie,
// prefixSecurity "silent") keeps c: a __Secure- cookie needs Secure, a
// __Host- cookie also no Domain and Path=/ (the retriever fetches "/", so a
// missing Path defaults to it). Prefixes are matched case-sensitively, as
// tough-cookie does.
func prefixAllowed(c *http.Cookie) bool {
	switch {
	case strings.HasPrefix(c.Name, "__Secure-"):
		return c.Secure
	case strings.HasPrefix(c.Name, "__Host-"):
		return c.Secure && c.Domain == "" && (c.Path == "" || c.Path == "/")
	}
	return true
}

func testCORS(s *Site) (string, bool) {
	result := "cross-origin-resource-sharing-not-implemented"
	if acao, ok := firstHeader(s.Preflight, "Access-Control-Allow-Origin"); ok && acao != "" {
		data := strings.ToLower(strings.TrimSpace(cut(acao, 256)))
		creds, _ := firstHeader(s.Preflight, "Access-Control-Allow-Credentials")
		switch {
		case data == "*":
			result = "cross-origin-resource-sharing-implemented-with-public-access"
		case s.PreflightOrigin != "" && acao == s.PreflightOrigin && strings.ToLower(strings.TrimSpace(creds)) == "true":
			result = "cross-origin-resource-sharing-implemented-with-universal-access"
		default:
			result = "cross-origin-resource-sharing-implemented-with-restricted-access"
		}
	}
	return result, result != "cross-origin-resource-sharing-implemented-with-universal-access"
}

func testRedirection(s *Site) (string, bool) {
	var result string
	route := s.HTTPRedirects
	switch {
	case s.HTTP == nil:
		result = "redirection-not-needed-no-http"
	case !s.HTTP.Verified:
		result = "redirection-invalid-cert"
	case len(route) <= 1:
		result = "redirection-missing"
	case route[len(route)-1].URL.Scheme != "https":
		result = "redirection-not-to-https"
	case route[1].URL.Scheme == "http":
		result = "redirection-not-to-https-on-initial-redirection"
	case route[0].URL.Scheme == "http" && route[1].URL.Scheme == "https" && route[0].URL.Hostname() != route[1].URL.Hostname():
		result = "redirection-off-host-from-http"
	default:
		result = "redirection-to-https"
	}
	return result, result == "redirection-to-https" || result == "redirection-not-needed-no-http" || result == "redirection-all-redirects-preloaded"
}

func testReferrer(s *Site) (string, bool) {
	vs := headerValues(s.Final, "Referrer-Policy")
	if len(vs) == 0 {
		return "referrer-policy-not-implemented", true
	}
	good := []string{"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
	bad := []string{"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
	policy := ""
	// The last valid token wins, as in browsers.
	for _, tok := range strings.Split(strings.Join(vs, ", "), ",") {
		tok = strings.ToLower(strings.TrimSpace(tok))
		if slices.Contains(good, tok) || slices.Contains(bad, tok) {
			policy = tok
		}
	}
	switch {
	case slices.Contains(good, policy):
		return "referrer-policy-private", true
	case slices.Contains(bad, policy):
		return "referrer-policy-unsafe", false
	}
	return "referrer-policy-header-invalid", false
}

func testXCTO(s *Site) (string, bool) {
	v, ok := firstHeader(s.Final, "X-Content-Type-Options")
	switch {
	case !ok:
		return "x-content-type-options-not-implemented", false
	case strings.ToLower(strings.TrimSpace(cut(v, 256))) == "nosniff":
		return "x-content-type-options-nosniff", true
	}
	return "x-content-type-options-header-invalid", false
}

func testXFO(s *Site, csp cspOutcome) (string, bool) {
	result := "x-frame-options-not-implemented"
	if v, ok := firstHeader(s.Final, "X-Frame-Options"); ok {
		x := strings.ToLower(strings.TrimSpace(cut(v, 1024)))
		switch {
		case x == "deny" || x == "sameorigin":
			result = "x-frame-options-sameorigin-or-deny"
		case strings.HasPrefix(x, "allow-from"):
			result = "x-frame-options-allow-from-origin"
		default:
			result = "x-frame-options-header-invalid"
		}
	}
	if csp.policy != nil && csp.policy["frame-ancestors"] != nil {
		result = "x-frame-options-implemented-via-csp"
	}
	return result, result != "x-frame-options-not-implemented" && result != "x-frame-options-header-invalid"
}

func testCORP(s *Site) (string, bool) {
	v, ok := firstHeader(s.Final, "Cross-Origin-Resource-Policy")
	if !ok || v == "" {
		return "corp-not-implemented", true
	}
	switch strings.ToLower(strings.TrimSpace(cut(v, 256))) {
	case "same-site":
		return "corp-implemented-with-same-site", true
	case "same-origin":
		return "corp-implemented-with-same-origin", true
	case "cross-origin":
		return "corp-implemented-with-cross-origin", true
	}
	return "corp-header-invalid", false
}

var scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>`)
var attr = regexp.MustCompile(`(?is)\b(src|integrity)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)

// testSRI follows subresource-integrity.js with a tag scanner instead of a
// DOM; the registrable domain is approximated by the last two labels.
func testSRI(s *Site) (string, bool) {
	goodness := []string{
		"sri-implemented-and-all-scripts-loaded-securely",
		"sri-implemented-and-external-scripts-loaded-securely",
		"sri-implemented-but-external-scripts-not-loaded-securely",
		"sri-not-implemented-but-external-scripts-loaded-securely",
		"sri-not-implemented-and-external-scripts-not-loaded-securely",
		"sri-not-implemented-response-not-html",
	}
	ct, _ := firstHeader(s.Final, "Content-Type")
	mt := strings.TrimSpace(strings.Split(ct, ";")[0])
	if mt != "text/html" && mt != "application/xhtml+xml" {
		return "sri-not-implemented-response-not-html", true
	}
	tags := scriptTag.FindAllStringSubmatch(s.Body, -1)
	if len(tags) == 0 {
		return "sri-not-implemented-but-no-scripts-loaded", true
	}
	result := ""
	worse := func(r string) {
		if result == "" || slices.Index(goodness, r) > slices.Index(goodness, result) {
			result = r
		}
	}
	foreign := false
	finalHTTPS := s.Final != nil && s.Final.URL != nil && s.Final.URL.Scheme == "https"
	for _, tag := range tags {
		var src, integrity string
		for _, a := range attr.FindAllStringSubmatch(tag[1], -1) {
			v := a[2] + a[3] + a[4]
			if strings.EqualFold(a[1], "src") {
				src = v
			} else {
				integrity = v
			}
		}
		if src == "" {
			continue
		}
		relProto := strings.HasPrefix(src, "//") && len(src) > 2 && src[2] != '/'
		full := strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
		relative := !relProto && !full
		sameDomain := relProto || relative
		if full {
			if u, err := url.Parse(src); err == nil {
				sameDomain = regDomain(u.Hostname()) == regDomain(s.Hostname)
			}
		}
		secureOrigin := relative || (sameDomain && !relProto)
		if !secureOrigin {
			foreign = true
		}
		secureScheme := strings.HasPrefix(src, "https://") || (relative && finalHTTPS)
		if !secureOrigin {
			switch {
			case integrity != "" && !secureScheme:
				worse("sri-implemented-but-external-scripts-not-loaded-securely")
			case integrity == "" && secureScheme:
				worse("sri-not-implemented-but-external-scripts-loaded-securely")
			case integrity == "":
				worse("sri-not-implemented-and-external-scripts-not-loaded-securely")
			}
		} else if integrity != "" && secureScheme && result == "" {
			result = "sri-implemented-and-all-scripts-loaded-securely"
		}
	}
	if result == "" {
		result = "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
		if foreign {
			result = "sri-implemented-and-external-scripts-loaded-securely"
		}
	}
	return result, slices.Contains([]string{
		"sri-implemented-and-all-scripts-loaded-securely", "sri-implemented-and-external-scripts-loaded-securely",
		"sri-not-implemented-response-not-html", "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
		"sri-not-implemented-but-no-scripts-loaded",
	}, result)
}

func regDomain(host string) string {
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(host), "."), ".")
	if len(labels) <= 2 {
		return strings.Join(labels, ".")
	}
	return strings.Join(labels[len(labels)-2:], ".")
}
