package headers

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/internal/suggest"
)

// Directives maps Content-Security-Policy directive names to their source
// lists, for example "script-src": {"'self'"}. Names are case-insensitive and
// written in dash-case as in the specification.
//
// When Directives override a preset's (Config.CSP, Override.CSP), a nil list
// removes the directive (YAML null, like helmet's null) and an empty non-nil
// list is a directive without value, such as upgrade-insecure-requests.
type Directives map[string][]string

// fetchDirectives take a source list and fall back to default-src.
var fetchDirectives = []string{
	"child-src", "connect-src", "default-src", "fenced-frame-src", "font-src",
	"frame-src", "img-src", "manifest-src", "media-src", "object-src",
	"prefetch-src", "script-src", "script-src-attr", "script-src-elem",
	"style-src", "style-src-attr", "style-src-elem", "worker-src",
}

// otherSourceDirectives take a source list but have no fallback.
var otherSourceDirectives = []string{"base-uri", "form-action", "frame-ancestors"}

// valuelessDirectives must not have a value.
var valuelessDirectives = []string{"upgrade-insecure-requests", "block-all-mixed-content"}

// sandboxTokens are the values the sandbox directive accepts (HTML's
// iframe sandbox keywords).
var sandboxTokens = []string{
	"allow-downloads", "allow-forms", "allow-modals", "allow-orientation-lock",
	"allow-pointer-lock", "allow-popups", "allow-popups-to-escape-sandbox",
	"allow-presentation", "allow-same-origin", "allow-scripts",
	"allow-storage-access-by-user-activation", "allow-top-navigation",
	"allow-top-navigation-by-user-activation", "allow-top-navigation-to-custom-protocols",
}

// keywords are the quoted keyword sources of CSP Level 3.
var keywords = []string{
	"'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "'strict-dynamic'",
	"'unsafe-hashes'", "'report-sample'", "'unsafe-allow-redirects'",
	"'wasm-unsafe-eval'", "'inline-speculation-rules'",
}

// knownDirective reports whether name is a directive this package can write.
func knownDirective(name string) bool {
	return slices.Contains(fetchDirectives, name) || slices.Contains(otherSourceDirectives, name) ||
		slices.Contains(valuelessDirectives, name) ||
		name == "sandbox" || name == "report-uri" || name == "report-to" ||
		name == "require-trusted-types-for" || name == "trusted-types" || name == "webrtc"
}

func allDirectiveNames() []string {
	out := slices.Concat(fetchDirectives, otherSourceDirectives, valuelessDirectives,
		[]string{"sandbox", "report-uri", "report-to", "require-trusted-types-for", "trusted-types", "webrtc"})
	slices.Sort(out)
	return out
}

// directiveOrder is the order in which directives are written: default-src
// first, the rest alphabetically, which is how helmet writes its defaults.
func directiveOrder(d Directives) []string {
	names := make([]string, 0, len(d))
	for k := range d {
		if k != "default-src" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if _, ok := d["default-src"]; ok {
		names = append([]string{"default-src"}, names...)
	}
	return names
}

// errNoDefaultSrc is returned when a policy has no default-src: every fetch
// directive that is not listed would then allow everything.
var errNoDefaultSrc = errors.New("headers: csp: default-src is required; without it every unlisted fetch directive allows any source")

// normalize validates d and returns a copy with lower-case names and without
// removed (nil) directives. Errors name the directive and the bad value.
func (d Directives) normalize() (Directives, error) {
	out := make(Directives, len(d))
	var errs []error
	for rawName, values := range d {
		name := strings.ToLower(strings.TrimSpace(rawName))
		if !knownDirective(name) {
			msg := fmt.Sprintf("headers: csp: unknown directive %q", truncate(rawName, 40))
			if s := suggestDirective(name); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		if _, dup := out[name]; dup {
			errs = append(errs, fmt.Errorf("headers: csp: directive %q given twice", name))
			continue
		}
		if values == nil {
			continue
		}
		if err := validateDirective(name, values); err != nil {
			errs = append(errs, err)
			continue
		}
		out[name] = slices.Clone(values)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// validateDirective checks one directive's values.
func validateDirective(name string, values []string) error {
	for _, v := range values {
		if v == "" {
			return fmt.Errorf("headers: csp: %s: empty value", name)
		}
		for i := 0; i < len(v); i++ {
			c := v[i]
			// Whitespace, ';' and ',' would split the policy or the header
			// value and let one value smuggle in another directive.
			if c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
				return fmt.Errorf("headers: csp: %s: value %q contains %q, which is not allowed in a source expression", name, truncate(v, 60), c)
			}
		}
	}
	switch {
	case slices.Contains(valuelessDirectives, name):
		if len(values) > 0 {
			return fmt.Errorf("headers: csp: %s takes no value, got %q", name, values)
		}
		return nil
	case name == "sandbox":
		for _, v := range values {
			if !slices.Contains(sandboxTokens, strings.ToLower(v)) {
				return fmt.Errorf("headers: csp: sandbox: unknown token %q", truncate(v, 60))
			}
		}
		return nil
	case name == "report-uri":
		if len(values) == 0 {
			return fmt.Errorf("headers: csp: report-uri needs at least one URI")
		}
		return nil
	case name == "report-to":
		if len(values) != 1 {
			return fmt.Errorf("headers: csp: report-to takes exactly one endpoint name, got %d", len(values))
		}
		return nil
	case name == "require-trusted-types-for":
		if len(values) != 1 || values[0] != "'script'" {
			return fmt.Errorf("headers: csp: require-trusted-types-for accepts only 'script'")
		}
		return nil
	case name == "trusted-types", name == "webrtc":
		return nil
	}
	// A source list.
	if len(values) == 0 {
		return fmt.Errorf("headers: csp: %s: empty source list; write ['none'] to allow nothing", name)
	}
	for _, v := range values {
		if err := validateSource(v); err != nil {
			return fmt.Errorf("headers: csp: %s: %w", name, err)
		}
	}
	if len(values) > 1 && slices.Contains(values, "'none'") {
		return fmt.Errorf("headers: csp: %s: 'none' must be the only source, got %q", name, values)
	}
	return nil
}

// validateSource checks one source expression (CSP3 §2.3.1).
func validateSource(v string) error {
	lower := strings.ToLower(v)
	if strings.HasPrefix(v, "'") {
		if slices.Contains(keywords, lower) {
			return nil
		}
		if strings.HasPrefix(lower, "'nonce-") {
			return fmt.Errorf("a fixed nonce %q defeats the purpose of nonces; enable per-request nonces with nonce: true", truncate(v, 30))
		}
		for _, alg := range []string{"'sha256-", "'sha384-", "'sha512-"} {
			if strings.HasPrefix(lower, alg) && strings.HasSuffix(v, "'") && len(v) > len(alg)+1 {
				b64 := v[len(alg) : len(v)-1]
				if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
					if _, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(b64, "=")); err2 != nil {
						return fmt.Errorf("hash source %q is not valid base64", truncate(v, 60))
					}
				}
				return nil
			}
		}
		return fmt.Errorf("unknown keyword %q", truncate(v, 40))
	}
	if slices.Contains(keywords, "'"+lower+"'") {
		// helmet rejects these too: unquoted, 'self' would mean a host
		// named "self".
		return fmt.Errorf("keyword %q must be quoted: \"'%s'\"", v, lower)
	}
	if v == "*" {
		return nil
	}
	// scheme-source: "https:", "data:".
	if strings.HasSuffix(v, ":") && !strings.Contains(v, "/") {
		if !validScheme(v[:len(v)-1]) {
			return fmt.Errorf("invalid scheme source %q", truncate(v, 60))
		}
		return nil
	}
	return validateHostSource(v)
}

func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// validateHostSource checks [scheme "://"] host [":" port] [path].
func validateHostSource(v string) error {
	rest := v
	if i := strings.Index(rest, "://"); i >= 0 {
		if !validScheme(rest[:i]) {
			return fmt.Errorf("invalid scheme in %q", truncate(v, 60))
		}
		rest = rest[i+3:]
	}
	host := rest
	path := ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if port := strings.LastIndexByte(host, ':'); port >= 0 {
		p := host[port+1:]
		host = host[:port]
		if p != "*" {
			if p == "" || len(p) > 5 {
				return fmt.Errorf("invalid port in %q", truncate(v, 60))
			}
			for i := 0; i < len(p); i++ {
				if !isDigit(p[i]) {
					return fmt.Errorf("invalid port in %q", truncate(v, 60))
				}
			}
		}
	}
	if host == "" {
		return fmt.Errorf("missing host in %q", truncate(v, 60))
	}
	labels := host
	if strings.HasPrefix(labels, "*.") {
		labels = labels[2:]
	} else if labels == "*" {
		labels = ""
	}
	if labels != "" {
		for label := range strings.SplitSeq(labels, ".") {
			if label == "" {
				return fmt.Errorf("invalid host in %q", truncate(v, 60))
			}
			for i := 0; i < len(label); i++ {
				c := label[i]
				if !isAlpha(c) && !isDigit(c) && c != '-' {
					return fmt.Errorf("invalid host in %q", truncate(v, 60))
				}
			}
		}
	}
	for i := 0; i < len(path); i++ {
		if path[i] == '\'' || path[i] == '"' || path[i] == '\\' {
			return fmt.Errorf("invalid path in %q", truncate(v, 60))
		}
	}
	return nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// merge returns base with over applied: a nil list removes a directive.
func (d Directives) merge(over Directives) Directives {
	out := make(Directives, len(d)+len(over))
	for k, v := range d {
		out[k] = v
	}
	for k, v := range over {
		k = strings.ToLower(strings.TrimSpace(k))
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// String returns the policy as a header value: directives separated by ";",
// default-src first and the rest in alphabetical order, as helmet writes it.
// It does not validate; see Build.
func (d Directives) String() string {
	var b strings.Builder
	for i, name := range directiveOrder(d) {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
		for _, v := range d[name] {
			b.WriteByte(' ')
			b.WriteString(v)
		}
	}
	return b.String()
}

// Build validates d and returns its header value. It rejects unknown
// directives (with a suggestion for typos), unquoted keywords such as self,
// fixed nonces, malformed hosts, schemes and hashes, values that contain
// whitespace, ';' or ',', and policies without default-src.
func (d Directives) Build() (string, error) {
	n, err := d.normalize()
	if err != nil {
		return "", err
	}
	if _, ok := n["default-src"]; !ok {
		return "", errNoDefaultSrc
	}
	return n.String(), nil
}

func suggestDirective(name string) string {
	cand := strings.ReplaceAll(name, "_", "-")
	// camelCase, as helmet accepts it: scriptSrc -> script-src.
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('-')
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	for _, c := range []string{cand, b.String(), strings.ToLower(cand) + "-src"} {
		if knownDirective(c) {
			return c
		}
	}
	best, bestDist := "", 3
	for _, k := range allDirectiveNames() {
		if d := suggest.Distance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
