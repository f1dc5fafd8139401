package origin

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Origin is a parsed origin. Its fields are substrings of the parsed text.
type Origin struct {
	// Scheme is the scheme without "://", e.g. "https".
	Scheme string
	// Host is a domain name, an IPv4 address or a bracketed IPv6 address,
	// e.g. "app.example.com", "127.0.0.1" or "[::1]".
	Host string
	// Port is the port as written, without the colon; "" when absent.
	Port string
}

// Parse parses s as a serialised origin: scheme "://" host [":" port], with
// nothing after it. It accepts only what a browser's serialiser produces, in
// either case; it does not lowercase, and it never allocates. It reports
// false for anything else, including "null".
func Parse(s string) (Origin, bool) {
	o, rest, ok := parsePrefix(s)
	if !ok || rest != "" {
		return Origin{}, false
	}
	return o, true
}

// FromURL returns the origin of an absolute URL such as a Referer value:
// the scheme, host and port before the first "/", "?" or "#" of the path.
// URLs with user information are refused: browsers never send them, and an
// "@" is how look-alike URLs hide their real host.
func FromURL(s string) (o Origin, serialised string, ok bool) {
	o, rest, ok := parsePrefix(s)
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?' && rest[0] != '#') {
		return Origin{}, "", false
	}
	return o, s[:len(s)-len(rest)], true
}

// parsePrefix parses the origin at the start of s and returns what follows
// the authority.
func parsePrefix(s string) (o Origin, rest string, ok bool) {
	i := strings.Index(s, "://")
	if i <= 0 || !validScheme(s[:i]) {
		return Origin{}, "", false
	}
	o.Scheme = s[:i]
	auth := s[i+3:]
	end := strings.IndexAny(auth, "/?#")
	if end < 0 {
		end = len(auth)
	}
	auth, rest = auth[:end], auth[end:]
	host, port, ok := splitHostPort(auth)
	if !ok {
		return Origin{}, "", false
	}
	o.Host, o.Port = host, port
	return o, rest, true
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

// splitHostPort splits "host[:port]" and validates both parts.
func splitHostPort(auth string) (host, port string, ok bool) {
	if auth == "" {
		return "", "", false
	}
	if auth[0] == '[' {
		end := strings.IndexByte(auth, ']')
		if end < 0 || !validIPv6(auth[1:end]) {
			return "", "", false
		}
		host, auth = auth[:end+1], auth[end+1:]
		if auth == "" {
			return host, "", true
		}
		if auth[0] != ':' {
			return "", "", false
		}
		port = auth[1:]
	} else {
		host = auth
		if i := strings.IndexByte(auth, ':'); i >= 0 {
			host, port = auth[:i], auth[i+1:]
			if !validPort(port) {
				return "", "", false
			}
		}
		if !validDomain(host) {
			return "", "", false
		}
		return host, port, true
	}
	if !validPort(port) {
		return "", "", false
	}
	return host, port, true
}

// validPort accepts 1 to 65535 without leading zeros, as URL serialisers
// write it.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if !isDigit(p[i]) {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// validDomain accepts dot-separated labels of letters, digits, '-' and '_'
// (which browsers allow in hosts), and IPv4 literals, which have the same
// shape. It refuses empty labels, so leading, doubled and trailing dots are
// out: a trailing-dot host is a different origin that no list names.
func validDomain(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case isAlpha(c) || isDigit(c) || c == '-' || c == '_':
			label++
			if label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}

// validIPv6 accepts the characters of an IPv6 literal; a zone identifier
// ("%eth0") never appears in an origin.
func validIPv6(s string) bool {
	if len(s) < 2 || len(s) > 45 || strings.IndexByte(s, ':') < 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// DefaultPort returns the port a scheme implies: "443" for https and wss,
// "80" for http and ws, "" otherwise.
func DefaultPort(scheme string) string {
	switch scheme {
	case "https", "wss":
		return "443"
	case "http", "ws":
		return "80"
	}
	return ""
}

// ErrInvalid is wrapped by every error NewSet and ParseEntry return.
var ErrInvalid = errors.New("invalid origin")

// Entry is one parsed allow-list entry: an exact origin or a subdomain
// pattern.
type Entry struct {
	// Origin is the normalised exact origin, e.g. "https://app.example.com",
	// or, for a pattern, its text, e.g. "https://*.example.com".
	Origin string
	// Pattern reports whether the entry is a "*." subdomain pattern.
	Pattern bool

	scheme, suffix, port string // for patterns: suffix is ".example.com"
}

// ParseEntry parses one allow-list entry as an operator writes it:
// "https://app.example.com", "http://localhost:3000",
// "https://*.example.com". Scheme and host are lowercased and a default port
// is removed; anything that is not an origin is an error that says why.
func ParseEntry(s string) (Entry, error) {
	orig := s
	s = strings.TrimSpace(s)
	fail := func(why string) (Entry, error) {
		return Entry{}, fmt.Errorf("%w %q: %s", ErrInvalid, truncate(orig, 80), why)
	}
	if s == "" {
		return fail("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return fail("non-ASCII host; write internationalised names in punycode (xn--…)")
		}
		if s[i] < 0x21 || s[i] == 0x7f {
			return fail("contains spaces or control characters")
		}
	}
	if s == "null" || s == "*" {
		return fail("not an origin here")
	}
	i := strings.Index(s, "://")
	if i <= 0 {
		return fail(`want scheme://host[:port], e.g. "https://app.example.com"`)
	}
	scheme := strings.ToLower(s[:i])
	if !validScheme(scheme) {
		return fail("invalid scheme")
	}
	auth := s[i+3:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		if auth[j:] == "/" {
			return fail("an origin has no path; remove the trailing slash")
		}
		return fail("an origin has no path, query or fragment")
	}
	if strings.IndexByte(auth, '@') >= 0 {
		return fail("an origin has no user information")
	}
	auth = strings.ToLower(auth)
	pattern := strings.HasPrefix(auth, "*.")
	if pattern {
		auth = auth[2:]
	}
	if strings.IndexByte(auth, '*') >= 0 {
		return fail(`a wildcard is allowed only as the whole first label, as in "https://*.example.com"`)
	}
	host, port, ok := splitHostPort(auth)
	if !ok {
		return fail("invalid host or port")
	}
	if port == DefaultPort(scheme) {
		port = ""
	}
	e := Entry{Origin: scheme + "://" + host}
	if port != "" {
		e.Origin += ":" + port
	}
	if !pattern {
		return e, nil
	}
	if scheme != "https" && scheme != "http" {
		return fail("subdomain patterns are for http and https origins")
	}
	if host[0] == '[' || isIPv4(host) {
		return fail("an IP address has no subdomains")
	}
	if strings.Count(host, ".") < 1 {
		return fail(`a pattern must name a registrable domain such as "*.example.com", not "*.` + host + `"`)
	}
	if PublicSuffix(host) {
		return fail(`"*.` + truncate(host, 60) + `" covers a public suffix, under which anyone can register a domain; name your own domain, as in "*.example.` + truncate(host, 60) + `"`)
	}
	e.Origin = scheme + "://*." + host
	if port != "" {
		e.Origin += ":" + port
	}
	e.Pattern, e.scheme, e.suffix, e.port = true, scheme, "."+host, port
	return e, nil
}

// PublicSuffix reports whether domain is itself a public suffix of the
// ICANN section of the Public Suffix List ("com", "co.uk", "com.au"):
// anyone can register a domain directly under it, so a subdomain pattern
// over it trusts strangers.
func PublicSuffix(domain string) bool {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	ps, icann := publicsuffix.PublicSuffix(domain)
	return icann && ps == domain
}

// SharedHosting reports whether domain is a suffix of the Public Suffix
// List's private section ("github.io", "vercel.app", "herokuapp.com"):
// platforms that hand out subdomains to anyone, so a subdomain pattern over
// one trusts every other customer of the platform.
func SharedHosting(domain string) bool {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	ps, icann := publicsuffix.PublicSuffix(domain)
	// The list's default rule ("*": an unlisted top-level domain such as
	// "internal") is reported as not ICANN too; it has a single label.
	return !icann && ps == domain && strings.Contains(ps, ".")
}

func isIPv4(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	for i := 0; i < len(last); i++ {
		if !isDigit(last[i]) {
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

// Match reports whether the serialised origin s matches e.
func (e *Entry) Match(s string) bool {
	if !e.Pattern {
		return s == e.Origin
	}
	o, ok := Parse(s)
	return ok && e.matchParsed(o)
}

func (e *Entry) matchParsed(o Origin) bool {
	if o.Scheme != e.scheme || o.Port != e.port {
		return false
	}
	h := o.Host
	if len(h) <= len(e.suffix) || !strings.HasSuffix(h, e.suffix) {
		return false
	}
	// The part before the suffix must itself be lowercase DNS labels: Parse
	// already refused empty labels and odd characters; uppercase is refused
	// here because browsers never send it.
	sub := h[:len(h)-len(e.suffix)]
	for i := 0; i < len(sub); i++ {
		if c := sub[i]; c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// Set is an allow-list of exact origins and subdomain patterns. The zero
// Set matches nothing.
type Set struct {
	exact    map[string]struct{}
	patterns []Entry
	entries  []Entry
}

// NewSet parses every entry and returns the set, or an error naming each
// invalid entry by its index.
func NewSet(entries []string) (*Set, error) {
	s := &Set{exact: make(map[string]struct{}, len(entries))}
	var errs []error
	for i, raw := range entries {
		e, err := ParseEntry(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("[%d]: %w", i, err))
			continue
		}
		s.entries = append(s.entries, e)
		if e.Pattern {
			s.patterns = append(s.patterns, e)
		} else {
			s.exact[e.Origin] = struct{}{}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Len returns the number of entries.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.entries)
}

// Entries returns the normalised entries in their configured order.
func (s *Set) Entries() []Entry {
	if s == nil {
		return nil
	}
	return append([]Entry(nil), s.entries...)
}

// Contains reports whether the serialised origin o, as received, is in the
// set. It does not allocate.
func (s *Set) Contains(o string) bool {
	if s == nil {
		return false
	}
	if _, ok := s.exact[o]; ok {
		return true
	}
	if len(s.patterns) == 0 {
		return false
	}
	p, ok := Parse(o)
	if !ok {
		return false
	}
	for i := range s.patterns {
		if s.patterns[i].matchParsed(p) {
			return true
		}
	}
	return false
}
