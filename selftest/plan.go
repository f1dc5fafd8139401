package selftest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/validate"
)

// route is one route of the configuration as the selftest sees it: what
// it matches and how it is protected.
type route struct {
	// match is the ServeMux pattern; key the configuration key.
	match, key string
	line       int
	method     string // "" for any
	host       string
	pattern    string // path part
	// concrete is a path the pattern matches.
	concrete string
	mode     auth.Mode
	roles    []string
	ips      access.Route
	csrf     csrf.Mode
	cors     []string
	rates    []ratelimit.Rule
	// schema is the JSON body schema, when the route validates one.
	schema      map[string]any
	schemaRoot  map[string]any // for $ref resolution
	contentType string
	maxBody     int64
}

// protected reports whether an anonymous attacker must not reach r.
func (r *route) protected() bool {
	return r.mode == auth.ModeRequired || len(r.roles) > 0 || len(r.ips.AllowIPs) > 0
}

func (r *route) unsafe() bool {
	switch r.method {
	case "", "POST", "PUT", "PATCH", "DELETE":
		return true
	}
	return false
}

// requestMethod is the method a case sends when the template says ${method}.
func (r *route) requestMethod() string {
	if r.method == "" {
		return "GET"
	}
	return r.method
}

var wildcardRe = regexp.MustCompile(`\{[^{}]*\}`)

// splitMatch splits a ServeMux pattern into method, host and path.
func splitMatch(m string) (method, host, p string) {
	m = strings.TrimSpace(m)
	if i := strings.IndexAny(m, " \t"); i >= 0 {
		method, m = m[:i], strings.TrimSpace(m[i+1:])
	}
	if i := strings.IndexByte(m, '/'); i > 0 {
		host, m = m[:i], m[i:]
	}
	return method, host, m
}

// concretePath returns a path the pattern matches: wildcards are filled
// with "1", a trailing "{x...}" with "selftest", "{$}" with nothing.
func concretePath(pattern string) string {
	return wildcardRe.ReplaceAllStringFunc(pattern, func(w string) string {
		switch {
		case w == "{$}":
			return ""
		case strings.HasSuffix(w, "...}"):
			return "selftest"
		}
		return "1"
	})
}

// routes lists the configuration's routes, OpenAPI operations first, as
// the gateway merges them.
func routes(c *config.Config) ([]*route, error) {
	var out []*route
	byPattern := map[string]*route{}
	authOn := c.Auth.Enabled()
	mode := func(i int) auth.Mode {
		if i >= 0 {
			return c.RouteAuth(i)
		}
		if authOn {
			return auth.ModeRequired
		}
		return auth.ModeNone
	}
	if c.OpenAPI != "" {
		file := c.RelativePath(c.OpenAPI)
		spec, err := validate.Load(file, validate.Options{BasePath: c.Validation.BasePath})
		if err != nil {
			return nil, fmt.Errorf("openapi: %w", err)
		}
		doc := readDoc(file)
		for _, sr := range spec.Routes() {
			r := &route{match: sr.Match(), key: "openapi", method: sr.Method, pattern: sr.Pattern, mode: mode(-1), maxBody: c.Limits.MaxBodyBytes}
			r.concrete = concretePath(sr.Pattern)
			r.schema, r.schemaRoot, r.contentType = openAPIBody(doc, spec.BasePath(), sr)
			byPattern[normPattern(r.match)] = r
			out = append(out, r)
		}
	}
	for i, rc := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		r, ok := byPattern[normPattern(rc.Match)]
		if !ok {
			r = &route{match: rc.Match}
			r.method, r.host, r.pattern = splitMatch(rc.Match)
			r.concrete = concretePath(r.pattern)
			r.maxBody = c.Limits.MaxBodyBytes
			out = append(out, r)
		}
		r.key, r.line = key, c.Line(key)
		r.mode, r.roles, r.ips, r.csrf, r.rates = mode(i), rc.Roles, rc.Route, rc.CSRF, rc.RateLimits
		if rc.CORS != nil {
			r.cors = rc.CORS.Origins
		}
		if rc.MaxBodyBytes > 0 {
			r.maxBody = rc.MaxBodyBytes
		}
		if v := rc.Validate; v != nil && !v.BodySchema.IsZero() {
			var s map[string]any
			if v.BodySchema.File != "" {
				s, _ = readSchema(c.RelativePath(v.BodySchema.File))
			} else {
				s, _ = toPlain(v.BodySchema.Inline).(map[string]any)
			}
			if s != nil {
				r.schema, r.schemaRoot, r.contentType = s, s, "application/json"
			}
		}
	}
	if len(out) == 0 {
		out = append(out, &route{match: "/", key: "routes", pattern: "/", concrete: "/selftest", mode: mode(-1), maxBody: c.Limits.MaxBodyBytes})
	}
	for _, r := range out {
		if r.csrf == "" {
			r.csrf = c.CSRF.Mode
		}
		if r.cors == nil && c.CORS != nil {
			r.cors = c.CORS.Origins
		}
	}
	return out, nil
}

func normPattern(m string) string {
	method, host, p := splitMatch(m)
	return strings.ToUpper(method) + " " + strings.ToLower(host) + wildcardRe.ReplaceAllStringFunc(p, func(w string) string {
		if strings.HasSuffix(w, "...}") {
			return "{...}"
		}
		return "{}"
	})
}

// toPlain turns json.Number values into float64, as a YAML decoder would
// give them.
func toPlain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toPlain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toPlain(e)
		}
		return out
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

// readDoc reads an OpenAPI document as plain values; nil when unreadable
// (validate.Load has already said why).
func readDoc(file string) map[string]any {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var doc map[string]any
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	return doc
}

func readSchema(file string) (map[string]any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var s map[string]any
	if err := yaml.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return s, nil
}

// openAPIBody finds the JSON request body schema of a route's operation.
func openAPIBody(doc map[string]any, base string, sr validate.Route) (schema, root map[string]any, contentType string) {
	paths, _ := doc["paths"].(map[string]any)
	for tmpl, item := range paths {
		if normPattern(sr.Method+" "+path.Join("/", base, tmpl)) != normPattern(sr.Match()) &&
			normPattern(sr.Method+" "+base+tmpl) != normPattern(sr.Match()) {
			continue
		}
		ops, _ := item.(map[string]any)
		op, _ := ops[strings.ToLower(sr.Method)].(map[string]any)
		body, _ := resolve(doc, op["requestBody"]).(map[string]any)
		content, _ := body["content"].(map[string]any)
		for ct, m := range content {
			if !strings.Contains(ct, "json") {
				continue
			}
			mm, _ := m.(map[string]any)
			if s, ok := resolve(doc, mm["schema"]).(map[string]any); ok {
				return s, doc, ct
			}
		}
	}
	return nil, nil, ""
}

// resolve follows a local $ref.
func resolve(root map[string]any, v any) any {
	for range 16 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			return v
		}
		var cur any = root
		for _, part := range strings.Split(ref[2:], "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			cm, _ := cur.(map[string]any)
			cur = cm[part]
		}
		v = cur
	}
	return v
}

// hostFor is the Host a case sends: the route's host, else the first of
// allow.hosts, else "localhost".
func hostFor(c *config.Config, r *route) string {
	if r != nil && r.host != "" {
		return r.host
	}
	for _, h := range c.Allow.Hosts {
		if !strings.HasPrefix(h, "*.") {
			return h
		}
	}
	for _, h := range c.Allow.Hosts {
		// Only a pattern: a name it admits.
		return "selftest" + strings.TrimPrefix(h, "*")
	}
	return "localhost"
}

// addressPool hands out client addresses an attacker could have: inside
// the global allow list (if any), outside the deny lists, and never a
// trusted proxy when one outside them exists. Each case gets its own
// address, so that one case's rate-limit budget is not another's.
type addressPool struct {
	mu      sync.Mutex
	c       *config.Config
	next    uint32
	trusted bool // every candidate is a trusted proxy
}

// ok reports whether a is a possible attacker address. p.mu must be held.
func (p *addressPool) ok(a netip.Addr, exclude []netip.Prefix) bool {
	if len(p.c.Allow.IPs) > 0 && !containsAddr(p.c.Allow.IPs, a) {
		return false
	}
	if containsAddr(p.c.Allow.DenyIPs, a) || containsAddr(exclude, a) {
		return false
	}
	return p.trusted || !containsAddr(p.c.TrustedProxies, a)
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// candidates: 198.18.0.0/15 (benchmarking, never routed) first, then the
// allow list's own addresses.
func (p *addressPool) candidate(i uint32) netip.Addr {
	if i < 1<<17 {
		return netip.AddrFrom4([4]byte{198, 18 + byte(i>>16), byte(i >> 8), byte(i)})
	}
	i -= 1 << 17
	for _, pr := range p.c.Allow.IPs {
		a := pr.Masked().Addr()
		for range i%4096 + 1 {
			a = a.Next()
		}
		if pr.Contains(a) {
			return a
		}
	}
	return netip.Addr{}
}

// admits is ok for callers outside take.
func (p *addressPool) admits(a netip.Addr, exclude []netip.Prefix) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok(a, exclude)
}

// allTrusted reports whether every address an attacker could use is a
// trusted proxy.
func (p *addressPool) allTrusted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.trusted
}

// take returns a fresh attacker address outside exclude.
func (p *addressPool) take(exclude []netip.Prefix) netip.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	for attempt := range 2 {
		for range 1 << 17 {
			a := p.candidate(p.next % (1<<17 + 4096))
			p.next++
			if a.IsValid() && p.ok(a, exclude) {
				return a
			}
		}
		if attempt == 0 {
			// Every address an attacker could use is trusted: then the
			// attacker is one, and the cases say what that allows.
			p.trusted = true
		}
	}
	return netip.AddrFrom4([4]byte{198, 18, 0, 1})
}

// insideIP is an address a route's allow_ips admits: what a spoofing
// attacker claims to be.
func insideIP(ps []netip.Prefix) string {
	for _, p := range ps {
		a := p.Masked().Addr()
		if n := a.Next(); p.Contains(n) {
			return n.String()
		}
		return a.String()
	}
	return ""
}

// originParts splits an allowed origin into the variables of origin
// cases. "*" stands for the site itself.
func originParts(o, host string) map[string]string {
	if o == "*" {
		o = "https://" + host
	}
	u, err := url.Parse(strings.Replace(o, "*.", "", 1))
	if err != nil || u.Host == "" {
		return nil
	}
	v := map[string]string{"origin": o, "o_scheme": u.Scheme, "o_host": u.Hostname(), "o_port": ""}
	if u.Port() != "" {
		v["o_port"] = ":" + u.Port()
	}
	wild := strings.Contains(o, "*.")
	if _, parent, ok := strings.Cut(u.Hostname(), "."); ok && strings.Contains(parent, ".") && !wild {
		v["o_parent"] = parent
	}
	if wild {
		v["o_apex"] = u.Hostname()
	} else {
		v["o_exact"] = u.Hostname()
	}
	if u.Scheme == "https" {
		v["o_downgrade"] = "http://" + u.Host
	}
	return v
}

// lenientPaths returns the paths a lenient application could read r's
// target as: decoded up to three times, backslashes as slashes, path
// parameters and trailing dots dropped, dot segments resolved, empty
// segments collapsed, look-alikes folded and case ignored.
func lenientPaths(target string) []string {
	p, _, _ := strings.Cut(target, "?")
	if l := strings.ToLower(p); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		// Absolute form: the path is what follows the authority.
		if u, err := url.Parse(p); err == nil {
			p = u.EscapedPath()
		}
	}
	var out []string
	for range 3 {
		out = append(out, foldPath(p))
		d, err := url.PathUnescape(strings.ReplaceAll(p, "+", "%2B"))
		if err != nil || d == p {
			d = decodeLoose(p)
			if d == p {
				break
			}
		}
		p = d
	}
	out = append(out, foldPath(p))
	slices.Sort(out)
	return slices.Compact(out)
}

// decodeLoose decodes valid escapes and overlong two-byte UTF-8 forms,
// leaving invalid ones as they are.
func decodeLoose(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
