package clientip

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Supported forwarding headers.
const (
	XForwardedFor = "X-Forwarded-For"
	Forwarded     = "Forwarded"
	XRealIP       = "X-Real-Ip" // canonical form of X-Real-IP
)

// DefaultMaxHops is the default number of forwarded entries examined.
const DefaultMaxHops = 32

// Config configures a Resolver.
type Config struct {
	// TrustedProxies are the CIDRs whose forwarding headers are believed.
	// Default: none, so the TCP peer is always the client.
	TrustedProxies []netip.Prefix
	// Header is the header trusted proxies use: "X-Forwarded-For"
	// (default), "Forwarded" (RFC 7239) or "X-Real-IP". Matching is
	// case-insensitive.
	Header string
	// MaxHops bounds the entries examined from the right. Default 32.
	MaxHops int
}

// Resolver finds a request's client address. A nil *Resolver trusts no
// proxy: it returns the TCP peer.
type Resolver struct {
	trusted []netip.Prefix
	header  string
	maxHops int
}

// ErrInvalidHeader is returned by New for an unsupported header name.
var ErrInvalidHeader = errors.New("clientip: header must be X-Forwarded-For, Forwarded or X-Real-IP")

// New returns a Resolver for c.
func New(c Config) (*Resolver, error) {
	res := &Resolver{maxHops: c.MaxHops}
	switch strings.ToLower(c.Header) {
	case "", "x-forwarded-for":
		res.header = XForwardedFor
	case "forwarded":
		res.header = Forwarded
	case "x-real-ip":
		res.header = XRealIP
	default:
		return nil, fmt.Errorf("%w, got %q", ErrInvalidHeader, c.Header)
	}
	if res.maxHops <= 0 {
		res.maxHops = DefaultMaxHops
	}
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			return nil, errors.New("clientip: invalid trusted proxy prefix")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		res.trusted = append(res.trusted, p.Masked())
	}
	return res, nil
}

// Peer returns the TCP peer of r with its port removed, or the zero Addr if
// RemoteAddr cannot be parsed.
func Peer(r *http.Request) netip.Addr {
	return parseHost(r.RemoteAddr)
}

// Trusted reports whether a is a trusted proxy.
func (res *Resolver) Trusted(a netip.Addr) bool {
	if res == nil || !a.IsValid() {
		return false
	}
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// FromTrustedProxy reports whether r's TCP peer is a trusted proxy.
func (res *Resolver) FromTrustedProxy(r *http.Request) bool {
	return res.Trusted(Peer(r))
}

// ClientIP returns the client address of r under the algorithm in the
// package documentation. It returns the zero Addr when the address is
// unknown — RemoteAddr cannot be parsed, or a trusted proxy's header is
// present but unusable — and callers must then fail closed.
func (res *Resolver) ClientIP(r *http.Request) netip.Addr {
	peer := Peer(r)
	if !res.Trusted(peer) {
		return peer
	}
	values := r.Header[res.header]
	if len(values) == 0 {
		return peer
	}
	switch res.header {
	case XRealIP:
		if len(values) != 1 {
			// Two values: the proxy added one next to the client's
			// instead of replacing it. Neither can be told apart.
			return netip.Addr{}
		}
		return parseHost(strings.TrimSpace(values[0]))
	case Forwarded:
		return res.walkForwarded(values, peer)
	default:
		return res.walkXFF(values, peer)
	}
}

// walkXFF walks X-Forwarded-For entries from the right.
func (res *Resolver) walkXFF(values []string, peer netip.Addr) netip.Addr {
	last := peer
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for {
			j := strings.LastIndexByte(v, ',')
			entry := strings.TrimSpace(v[j+1:])
			if entry != "" || j >= 0 {
				if hops == res.maxHops {
					return netip.Addr{}
				}
				hops++
				a := parseHost(entry)
				if !a.IsValid() {
					return netip.Addr{}
				}
				if !res.Trusted(a) {
					return a
				}
				last = a
			}
			if j < 0 {
				break
			}
			v = v[:j]
		}
	}
	return last
}

// walkForwarded walks the for= parameters of Forwarded elements from the
// right. The header is tokenised left to right (quoted strings may contain
// commas), keeping only the last maxHops elements.
func (res *Resolver) walkForwarded(values []string, peer netip.Addr) netip.Addr {
	var buf [DefaultMaxHops]string
	ring := buf[:]
	if res.maxHops > len(ring) {
		ring = make([]string, res.maxHops)
	} else {
		ring = ring[:res.maxHops]
	}
	n := 0
	for _, v := range values {
		if !forEachForwardedFor(v, func(forValue string) {
			ring[n%len(ring)] = forValue
			n++
		}) {
			// A malformed header: nothing in it can be believed.
			return netip.Addr{}
		}
	}
	if n > len(ring) {
		return netip.Addr{} // more hops than may be examined
	}
	last := peer
	for k := 0; k < n; k++ {
		forValue := ring[(n-1-k)%len(ring)]
		a := parseHost(forValue)
		if !a.IsValid() {
			return netip.Addr{}
		}
		if !res.Trusted(a) {
			return a
		}
		last = a
	}
	return last
}

// forEachForwardedFor calls fn with the for= value of every element of one
// Forwarded header line, or "" for an element without one. It returns false
// if the line is not well-formed RFC 7239 syntax.
func forEachForwardedFor(v string, fn func(string)) bool {
	i := 0
	for {
		forValue := ""
		// One element: pairs separated by ';'.
		for {
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			start := i
			for i < len(v) && isToken(v[i]) {
				i++
			}
			name := v[start:i]
			if name == "" || i >= len(v) || v[i] != '=' {
				return false
			}
			i++
			var value string
			if i < len(v) && v[i] == '"' {
				i++
				start = i
				for i < len(v) && v[i] != '"' {
					if v[i] == '\\' {
						// Escapes inside an address are never legitimate.
						return false
					}
					i++
				}
				if i >= len(v) {
					return false
				}
				value = v[start:i]
				i++
			} else {
				start = i
				for i < len(v) && isToken(v[i]) {
					i++
				}
				value = v[start:i]
			}
			if strings.EqualFold(name, "for") {
				forValue = value
			}
			for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
				i++
			}
			if i < len(v) && v[i] == ';' {
				i++
				continue
			}
			break
		}
		fn(forValue)
		if i >= len(v) {
			return true
		}
		if v[i] != ',' {
			return false
		}
		i++
	}
}

func isToken(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:[]", c) >= 0
}

// parseHost parses an address with an optional port: "192.0.2.1",
// "192.0.2.1:443", "2001:db8::1", "[2001:db8::1]:443". Zones are dropped and
// IPv4-mapped addresses unmapped. It returns the zero Addr on failure.
func parseHost(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	// Choose the parser by shape first: a failed parse allocates an error,
	// and the common peer form "192.0.2.1:443" would fail ParseAddr.
	var a netip.Addr
	var err error
	switch colons := strings.Count(s, ":"); {
	case s[0] == '[' && s[len(s)-1] == ']':
		a, err = netip.ParseAddr(s[1 : len(s)-1])
	case s[0] == '[' || colons == 1:
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}
