package access

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// maxHostLen is the longest DNS name (RFC 1035), without its trailing dot.
const maxHostLen = 253

// hostSet is a compiled Host allow-list.
type hostSet struct {
	names map[string]struct{}     // lower-case A-label names, no trailing dot
	wild  map[string]struct{}     // suffixes of wildcard entries, with their leading dot: ".example.com"
	ips   map[netip.Addr]struct{} // IP literals, unmapped, no zone
}

// Errors of request host parsing. Static, so refusing does not allocate.
var (
	errHostMissing = errors.New("access: no host")
	errHostSyntax  = errors.New("access: malformed host")
	errHostPort    = errors.New("access: malformed port in host")
)

// requestHost is a parsed Host header or :authority.
type requestHost struct {
	name  string     // the host name as sent, trailing dot removed (not lower-cased)
	ip    netip.Addr // set for an IP literal
	port  string     // digits, or ""
	lower bool       // name has no upper-case letters
	dot   bool       // the host had a trailing dot
	raw   bool       // the host is already in canonical form
}

// parseHost parses the value of Host or :authority: a DNS name, an IPv4
// address or a bracketed IPv6 address, optionally followed by ":port". It
// refuses userinfo, zones, percent-encoding, non-ASCII bytes, empty ports,
// unbracketed IPv6, and numeric names that are not dotted-quad IPv4 (such
// as "127.1" or "0x7f.0.0.1", which some resolvers read as an address). It
// does not allocate.
func parseHost(h string) (requestHost, error) {
	var rh requestHost
	if h == "" {
		return rh, errHostMissing
	}
	host := h
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return rh, errHostSyntax
		}
		host = h[1:end]
		switch rest := h[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			rh.port = rest[1:]
			if !validPort(rh.port) {
				return rh, errHostPort
			}
		default:
			return rh, errHostSyntax
		}
		if strings.IndexByte(host, '%') >= 0 {
			return rh, errHostSyntax // zones have no meaning in a Host header
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return rh, errHostSyntax
		}
		rh.ip = a.Unmap()
		rh.raw = !a.Is4In6() && a.String() == host
		return rh, nil
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, rh.port = h[:i], h[i+1:]
		if !validPort(rh.port) {
			return rh, errHostPort
		}
	}
	if strings.HasSuffix(host, ".") {
		host = host[:len(host)-1]
		rh.dot = true
	}
	if host == "" || len(host) > maxHostLen {
		return rh, errHostSyntax
	}
	rh.lower = true
	labelLen := 0
	lastLabel := 0
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c == '.':
			if labelLen == 0 || host[i-1] == '-' {
				// Empty labels, and labels ending in '-' (RFC 1123).
				return rh, errHostSyntax
			}
			labelLen = 0
			lastLabel = i + 1
			continue
		case c == '-':
			if labelLen == 0 {
				return rh, errHostSyntax // a label never starts with '-'
			}
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_':
		case 'A' <= c && c <= 'Z':
			rh.lower = false
		default:
			// Userinfo ('@'), a second ':', '%', '/', '\', spaces and
			// non-ASCII bytes: not a host name. Browsers send IDNs as
			// A-labels ("xn--"), so a raw UTF-8 host is never legitimate.
			return rh, errHostSyntax
		}
		labelLen++
		if labelLen > 63 {
			return rh, errHostSyntax
		}
	}
	if labelLen == 0 || host[len(host)-1] == '-' {
		return rh, errHostSyntax
	}
	if c := host[lastLabel]; '0' <= c && c <= '9' {
		// A name whose last label starts with a digit is an address or
		// nothing: no top-level domain starts with one.
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return rh, errHostSyntax
		}
		rh.ip = a
		rh.raw = !rh.dot
		return rh, nil
	}
	rh.name = host
	rh.raw = rh.lower && !rh.dot
	return rh, nil
}

// validPort reports whether p is a decimal port number, 0 to 65535.
func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// canonical returns the host in canonical form: a lower-case name without
// trailing dot, or an IP literal in its standard spelling, followed by the
// port if there was one.
func (rh requestHost) canonical() string {
	var s string
	switch {
	case rh.ip.Is6():
		s = "[" + rh.ip.String() + "]"
	case rh.ip.IsValid():
		s = rh.ip.String()
	default:
		s = strings.ToLower(rh.name)
	}
	if rh.port != "" {
		s += ":" + rh.port
	}
	return s
}

// newHostSet compiles the entries of a Host allow-list. Entries are DNS
// names (Unicode names are converted to A-labels), "*.name" for every
// subdomain of name at any depth but not name itself, IPv4 addresses, or
// IPv6 addresses with or without brackets. Ports are not part of an entry:
// every port of a listed host matches.
func newHostSet(entries []string) (*hostSet, error) {
	hs := &hostSet{names: map[string]struct{}{}, wild: map[string]struct{}{}, ips: map[netip.Addr]struct{}{}}
	var errs []error
	for i, e := range entries {
		if err := hs.add(e); err != nil {
			errs = append(errs, fmt.Errorf("access: hosts[%d]: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return hs, nil
}

func (hs *hostSet) add(entry string) error {
	e := strings.TrimSpace(entry)
	switch {
	case e == "":
		return errors.New("empty host")
	case e == "*":
		return errors.New(`"*" would allow any host; leave hosts empty for that`)
	case strings.Contains(e, "://") || strings.ContainsAny(e, "/?#"):
		return fmt.Errorf("%q is a URL; write the host name only, such as app.example.com", truncate(e, 80))
	case strings.Contains(e, "@"):
		return fmt.Errorf("%q contains userinfo; write the host name only", truncate(e, 80))
	}
	// IP literals: "192.0.2.1", "2001:db8::1", "[2001:db8::1]".
	lit := strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")
	if a, err := netip.ParseAddr(lit); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("%q: an IPv6 zone cannot appear in a Host header", e)
		}
		if a.Is4() && lit != e {
			return fmt.Errorf("%q: brackets are for IPv6 addresses", e)
		}
		hs.ips[a.Unmap()] = struct{}{}
		return nil
	}
	if strings.HasPrefix(e, "[") || strings.Count(e, ":") > 1 {
		return fmt.Errorf("invalid IP address %q", truncate(e, 80))
	}
	if strings.Contains(e, ":") {
		return fmt.Errorf("%q includes a port; list the host name only (every port matches)", truncate(e, 80))
	}
	wildcard := false
	if rest, ok := strings.CutPrefix(e, "*."); ok {
		wildcard, e = true, rest
	}
	if strings.Contains(e, "*") {
		return fmt.Errorf("%q: a wildcard is only allowed as the whole first label, as in *.example.com", truncate(entry, 80))
	}
	name, err := toASCII(e)
	if err != nil {
		return err
	}
	rh, err := parseHost(name)
	if err != nil || rh.port != "" {
		return fmt.Errorf("invalid host name %q", truncate(entry, 80))
	}
	if rh.ip.IsValid() {
		if wildcard {
			return fmt.Errorf("%q: a wildcard cannot apply to an IP address", truncate(entry, 80))
		}
		hs.ips[rh.ip] = struct{}{}
		return nil
	}
	name = strings.ToLower(rh.name)
	if wildcard {
		hs.wild["."+name] = struct{}{}
	} else {
		hs.names[name] = struct{}{}
	}
	return nil
}

// toASCII converts a configured host name to A-labels. Pure-ASCII names
// without "xn--" labels are kept (so internal names with '_' still work);
// the rest go through IDNA's lookup mapping and validation (UTS #46), which
// also rejects malformed punycode.
func toASCII(name string) (string, error) {
	needsIDNA := strings.Contains(strings.ToLower(name), "xn--")
	for i := 0; i < len(name) && !needsIDNA; i++ {
		needsIDNA = name[i] >= 0x80
	}
	if !needsIDNA {
		return name, nil
	}
	trailingDot := strings.HasSuffix(name, ".")
	a, err := idna.Lookup.ToASCII(strings.TrimSuffix(name, "."))
	if err != nil {
		return "", fmt.Errorf("invalid internationalised host name %q: %w", truncate(name, 80), err)
	}
	if trailingDot {
		a += "."
	}
	return a, nil
}

// contains reports whether the parsed host is listed. It does not
// allocate.
func (hs *hostSet) contains(rh requestHost) bool {
	if rh.ip.IsValid() {
		_, ok := hs.ips[rh.ip]
		return ok
	}
	name := rh.name
	var buf [maxHostLen]byte
	if !rh.lower {
		n := copy(buf[:], name)
		for i := range n {
			if c := buf[i]; 'A' <= c && c <= 'Z' {
				buf[i] = c + 'a' - 'A'
			}
		}
		// The compiler does not allocate for a map index by string(bytes),
		// but slicing buf and comparing substrings needs a string; build
		// the lookups on the byte slice.
		return hs.lookup(buf[:n])
	}
	if _, ok := hs.names[name]; ok {
		return true
	}
	if len(hs.wild) == 0 {
		return false
	}
	for i := 1; i < len(name); i++ {
		if name[i] == '.' {
			if _, ok := hs.wild[name[i:]]; ok {
				return true
			}
		}
	}
	return false
}

func (hs *hostSet) lookup(name []byte) bool {
	if _, ok := hs.names[string(name)]; ok {
		return true
	}
	for i := 1; i < len(name); i++ {
		if name[i] == '.' {
			if _, ok := hs.wild[string(name[i:])]; ok {
				return true
			}
		}
	}
	return false
}
