package observatory

import (
	"errors"
	"slices"
	"strings"
)

// cspOutcome is the CSP test's result and the parsed policy the
// X-Frame-Options test looks at.
type cspOutcome struct {
	result string
	pass   bool
	policy map[string]map[string]bool
}

var (
	dangerouslyBroad = []string{"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
	unsafeInline     = []string{"'unsafe-inline'", "data:"}
	noncesHashes     = []string{"'sha256-", "'sha384-", "'sha512-", "'nonce-"}
)

func isBroad(s string) bool { return slices.Contains(dangerouslyBroad, s) }
func isBroadOrInline(s string) bool {
	return slices.Contains(dangerouslyBroad, s) || slices.Contains(unsafeInline, s)
}

var errInvalidPolicy = errors.New("observatory: invalid policy")

// parseCSP parses Content-Security-Policy header values as the upstream
// cspParser.js does for one policy: lower-cased directives and sources,
// duplicate directives invalid (except report-uri and report-to, which
// count as a warning), an empty -src list meaning 'none', and within a list
// a source dropped when another one is its prefix. With several policies
// the upstream intersects them; here a directive of the first policy wins
// and later policies only add directives the first lacks.
func parseCSP(values []string) (map[string]map[string]bool, bool, error) {
	out := map[string]map[string]bool{}
	dupWarning := false
	for i, raw := range values {
		raw = strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(raw))
		if len(raw) < len("img-src")-1 {
			return nil, false, errInvalidPolicy
		}
		seen := map[string]bool{}
		for _, entry := range strings.Split(raw, ";") {
			fields := strings.Fields(entry)
			if len(fields) == 0 {
				continue
			}
			dir := strings.ToLower(fields[0])
			if seen[dir] {
				if dir == "report-uri" || dir == "report-to" {
					dupWarning = true
					continue
				}
				return nil, false, errInvalidPolicy
			}
			seen[dir] = true
			var srcs []string
			for _, f := range fields[1:] {
				srcs = append(srcs, strings.ToLower(strings.TrimSpace(f)))
			}
			if len(srcs) == 0 && strings.HasSuffix(dir, "-src") {
				srcs = []string{"'none'"}
			}
			slices.Sort(srcs)
			set := map[string]bool{}
			for j, s := range srcs {
				if j > 0 && strings.HasPrefix(s, srcs[j-1]) {
					continue
				}
				set[s] = true
			}
			if len(set) == 0 && len(srcs) > 0 {
				set["'none'"] = true
			}
			if _, ok := out[dir]; ok && i > 0 {
				continue
			}
			out[dir] = set
		}
	}
	return out, dupWarning, nil
}

// analyzeCSP follows csp.js for the HTTP header (meta http-equiv policies
// are not read).
func analyzeCSP(s *Site) cspOutcome {
	hdrs := headerValues(s.Final, "Content-Security-Policy")
	csp, dup, err := parseCSP(hdrs)
	if err != nil {
		return cspOutcome{result: "csp-header-invalid"}
	}
	if len(csp) == 0 {
		if _, ok := firstHeader(s.Final, "Content-Security-Policy-Report-Only"); ok {
			return cspOutcome{result: "csp-not-implemented-but-reporting-enabled"}
		}
		return cspOutcome{result: "csp-not-implemented"}
	}
	get := func(names ...string) map[string]bool {
		for _, n := range names {
			if v, ok := csp[n]; ok {
				return clone(v)
			}
		}
		return map[string]bool{"*": true}
	}
	objectSrc := get("object-src", "default-src")
	scriptSrc := get("script-src", "default-src")
	styleSrc := get("style-src", "default-src")
	hasNonceHash := func(set map[string]bool) bool {
		for s := range set {
			for _, p := range noncesHashes {
				if strings.HasPrefix(s, p) {
					return true
				}
			}
		}
		return false
	}
	for _, set := range []map[string]bool{scriptSrc, styleSrc} {
		if hasNonceHash(set) {
			delete(set, "'unsafe-inline'")
		}
	}
	result := ""
	set := func(r string) {
		if result == "" {
			result = r
		}
	}
	if hasNonceHash(scriptSrc) && scriptSrc["'strict-dynamic'"] {
		for src := range scriptSrc {
			broad := false
			for _, b := range dangerouslyBroad {
				if strings.HasPrefix(src, b) {
					broad = true
				}
			}
			if broad || src == "'self'" || src == "'unsafe-inline'" {
				delete(scriptSrc, src)
			}
		}
	} else if scriptSrc["'strict-dynamic'"] {
		set("csp-header-invalid")
	}
	passive := map[string]bool{"img-src": true, "media-src": true}
	var active []string
	for dir, srcs := range csp {
		if passive[dir] || dir == "script-src" {
			continue
		}
		for s := range srcs {
			active = append(active, s)
		}
	}
	for s := range scriptSrc {
		active = append(active, s)
	}
	var passiveSrcs []string
	for _, dir := range []string{"img-src", "media-src"} {
		srcs, ok := csp[dir]
		if !ok {
			srcs = csp["default-src"]
		}
		for s := range srcs {
			passiveSrcs = append(passiveSrcs, s)
		}
	}
	anyOf := func(set map[string]bool, f func(string) bool) bool {
		for s := range set {
			if f(s) {
				return true
			}
		}
		return false
	}
	insecure := func(list []string) bool {
		for _, s := range list {
			if strings.HasPrefix(s, "http:") || strings.HasPrefix(s, "ftp:") {
				return true
			}
		}
		return false
	}
	https := s.Final != nil && s.Final.URL != nil && s.Final.URL.Scheme == "https"
	if anyOf(scriptSrc, isBroadOrInline) || anyOf(objectSrc, isBroad) {
		set("csp-implemented-with-unsafe-inline")
	}
	if https && insecure(active) {
		set("csp-implemented-with-insecure-scheme")
	}
	if scriptSrc["'unsafe-eval'"] || styleSrc["'unsafe-eval'"] {
		set("csp-implemented-with-unsafe-eval")
	}
	if https && insecure(passiveSrcs) {
		set("csp-implemented-with-insecure-scheme-in-passive-content-only")
	}
	if anyOf(styleSrc, isBroadOrInline) {
		set("csp-implemented-with-unsafe-inline-in-style-src-only")
	}
	if d := csp["default-src"]; len(d) == 1 && d["'none'"] {
		set("csp-implemented-with-no-unsafe-default-src-none")
	} else {
		set("csp-implemented-with-no-unsafe")
	}
	pass := slices.Contains([]string{
		"csp-implemented-with-no-unsafe", "csp-implemented-with-no-unsafe-default-src-none",
		"csp-implemented-with-unsafe-inline-in-style-src-only",
		"csp-implemented-with-insecure-scheme-in-passive-content-only",
	}, result)
	if pass && dup {
		result = "csp-implemented-but-duplicate-directives"
	}
	return cspOutcome{result: result, pass: pass, policy: csp}
}

func clone(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
