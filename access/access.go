package access

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/problem"
)

// Config is the global access policy: the allow: section of the gateway's
// configuration. The zero value allows every address and every host.
type Config struct {
	// IPs are the CIDRs allowed to reach the application; a single address
	// stands for /32 or /128. Default: empty, which allows every address.
	IPs []netip.Prefix `yaml:"ips"`
	// DenyIPs are CIDRs refused even when IPs allows them: deny wins.
	// Default: empty.
	DenyIPs []netip.Prefix `yaml:"deny_ips"`
	// IPsFile names a file of further allowed CIDRs, one per line ('#'
	// starts a comment). It is read by New, so the gateway re-reads it on
	// every reload. A file that lists nothing is an error, not "allow all".
	// Default: none.
	IPsFile string `yaml:"ips_file"`
	// DenyIPsFile names a file of further denied CIDRs, in the same format.
	// Default: none.
	DenyIPsFile string `yaml:"deny_ips_file"`
	// Hosts is the Host allow-list: DNS names ("app.example.com"; Unicode
	// names are converted to punycode), "*.example.com" for every subdomain
	// of example.com at any depth (but not example.com itself), or IP
	// addresses. Ports are not listed: every port of a listed host matches.
	// A request for another host gets 421, a missing or malformed Host 400.
	// Default: empty, which allows any host.
	Hosts []string `yaml:"hosts"`
	// DefaultHost is the host assumed for a request that names none (an
	// HTTP/1.0 request without Host, an HTTP/2 request without
	// :authority). Default: empty, and such requests get 400.
	DefaultHost string `yaml:"default_host"`

	// Resolver finds the client address from the TCP peer and the
	// forwarding headers of trusted proxies. Default nil: the TCP peer.
	Resolver *clientip.Resolver `yaml:"-"`
	// OnDecision, if set, is called once per request checked, with the
	// outcome (Allowed or the reason for refusing). The gateway counts
	// these in its metrics. It must be safe for concurrent use and fast.
	// Default nil.
	OnDecision func(r *http.Request, reason Reason) `yaml:"-"`
}

// Route is the access policy of one route: the allow_ips and deny_ips keys
// of a route in the gateway's configuration. It narrows the global policy;
// it cannot widen it, since a request must pass both. The zero value
// checks nothing.
type Route struct {
	// AllowIPs are the only CIDRs that may use the route. Default: empty,
	// which adds no restriction.
	AllowIPs []netip.Prefix `yaml:"allow_ips"`
	// DenyIPs are CIDRs refused on the route. Deny wins. Default: empty.
	DenyIPs []netip.Prefix `yaml:"deny_ips"`
	// AllowIPsFile names a file of further allowed CIDRs (see
	// Config.IPsFile). Default: none.
	AllowIPsFile string `yaml:"allow_ips_file"`
	// DenyIPsFile names a file of further denied CIDRs. Default: none.
	DenyIPsFile string `yaml:"deny_ips_file"`
}

// Reason is the outcome of an access decision.
type Reason uint8

// The outcomes. Every one except Allowed refuses the request.
const (
	// Allowed: every configured list admits the request.
	Allowed Reason = iota
	// IPDenied: the client address is in a deny list. Status 403.
	IPDenied
	// IPNotAllowed: an allow list is configured and the client address is
	// not in it. Status 403.
	IPNotAllowed
	// IPUnknown: a list is configured but the client address could not be
	// determined (the TCP peer address did not parse). Status 403.
	IPUnknown
	// HostNotAllowed: the Host is well-formed but not listed. Status 421.
	HostNotAllowed
	// HostInvalid: the Host is missing or malformed. Status 400.
	HostInvalid
)

var reasonNames = [...]string{
	Allowed:        "allowed",
	IPDenied:       "ip_denied",
	IPNotAllowed:   "ip_not_allowed",
	IPUnknown:      "ip_unknown",
	HostNotAllowed: "host_not_allowed",
	HostInvalid:    "host_invalid",
}

// hostReason and xfhReason are the log reasons of a refused host, by the
// header it came from; precomputed so a refusal does not allocate.
var (
	hostReason = map[Reason]string{HostInvalid: "host_invalid header=host", HostNotAllowed: "host_not_allowed header=host"}
	xfhReason  = map[Reason]string{HostInvalid: "host_invalid header=x-forwarded-host", HostNotAllowed: "host_not_allowed header=x-forwarded-host"}
)

// String returns the reason's metric label, such as "ip_denied".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Status returns the HTTP status the policy answers with for r: 403 for the
// IP reasons, 421 Misdirected Request for an unlisted host (RFC 9110
// §15.5.20: this server does not serve that authority), 400 for a malformed
// one, and 200 for Allowed.
func (r Reason) Status() int {
	switch r {
	case Allowed:
		return http.StatusOK
	case HostNotAllowed:
		return http.StatusMisdirectedRequest
	case HostInvalid:
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

// DeniedError is the error Check returns for a refused request.
type DeniedError struct {
	// Reason says why.
	Reason Reason
	// Client is the client address the decision used; the zero Addr when it
	// was unknown.
	Client netip.Addr
}

// Error describes the refusal for logs. It is never sent to the client.
func (e *DeniedError) Error() string {
	return fmt.Sprintf("access: %s (client %v)", e.Reason, e.Client)
}

// Policy enforces IP allow and deny lists and a Host allow-list. It is
// immutable after New and safe for concurrent use.
type Policy struct {
	allow, deny *IPSet   // nil: no such list
	hosts       *hostSet // nil: any host
	defaultHost string   // canonical; "" refuses requests without a host
	res         *clientip.Resolver
	onDecision  func(*http.Request, Reason)
}

// New returns a Policy that enforces c. Lists are compiled and files read
// once, here. It returns an error naming the offending entry, file or line
// if c is invalid; it never panics on user input.
func New(c Config) (*Policy, error) {
	p := &Policy{res: c.Resolver, onDecision: c.OnDecision}
	var err error
	if p.allow, err = compile("ips", c.IPs, c.IPsFile); err != nil {
		return nil, err
	}
	if p.deny, err = compile("deny_ips", c.DenyIPs, c.DenyIPsFile); err != nil {
		return nil, err
	}
	if len(c.Hosts) > 0 {
		if p.hosts, err = newHostSet(c.Hosts); err != nil {
			return nil, err
		}
	}
	if c.DefaultHost != "" {
		d, err := CanonicalHost(c.DefaultHost)
		if err != nil {
			return nil, fmt.Errorf("access: default_host: %w", err)
		}
		if p.hosts != nil {
			rh, _ := parseHost(d)
			if !p.hosts.contains(rh) {
				return nil, fmt.Errorf("access: default_host %q is not in hosts", truncate(c.DefaultHost, 80))
			}
		}
		p.defaultHost = d
	}
	return p, nil
}

// Route returns the policy of one route: rc's IP lists, with p's resolver
// and decision callback, and no Host check (the global policy makes that).
// Use its Handler inside the route, after the global policy's.
func (p *Policy) Route(rc Route) (*Policy, error) {
	rp := &Policy{res: p.res, onDecision: p.onDecision}
	var err error
	if rp.allow, err = compile("allow_ips", rc.AllowIPs, rc.AllowIPsFile); err != nil {
		return nil, err
	}
	if rp.deny, err = compile("deny_ips", rc.DenyIPs, rc.DenyIPsFile); err != nil {
		return nil, err
	}
	return rp, nil
}

// compile builds one list from its inline prefixes and optional file. It
// returns nil when the list is not configured at all.
func compile(key string, prefixes []netip.Prefix, file string) (*IPSet, error) {
	if len(prefixes) == 0 && file == "" {
		return nil, nil
	}
	all := prefixes
	for i, pr := range prefixes {
		if !pr.IsValid() {
			return nil, fmt.Errorf("access: %s[%d]: invalid CIDR", key, i)
		}
	}
	if file != "" {
		fromFile, err := readPrefixFile(file)
		if err != nil {
			return nil, fmt.Errorf("access: %s_file: %w", key, err)
		}
		if len(fromFile) == 0 {
			// An empty file is far more likely a failed export than a wish
			// to admit nobody (or everybody): refuse to build, so a reload
			// keeps the previous lists.
			return nil, fmt.Errorf("access: %s_file: %s lists no addresses", key, file)
		}
		all = append(all[:len(all):len(all)], fromFile...)
	}
	return NewIPSet(all)
}

// Enabled reports whether p checks anything at all.
func (p *Policy) Enabled() bool {
	return p.allow != nil || p.deny != nil || p.hosts != nil
}

// AllowIP decides for the client address a alone: Allowed, IPDenied,
// IPNotAllowed, or IPUnknown for the zero Addr when any list is configured.
// It does not allocate.
func (p *Policy) AllowIP(a netip.Addr) Reason {
	if p.allow == nil && p.deny == nil {
		return Allowed
	}
	if !a.IsValid() {
		// Fail closed: a list is configured and we cannot tell who is
		// asking, so we cannot say they are on it (or off the deny list).
		return IPUnknown
	}
	if p.deny.Contains(a) {
		return IPDenied
	}
	if p.allow != nil && !p.allow.Contains(a) {
		return IPNotAllowed
	}
	return Allowed
}

// decide makes the decision for r and reports the parsed host, so Handler
// can rewrite it.
func (p *Policy) decide(r *http.Request) (Reason, netip.Addr, requestHost) {
	var client netip.Addr
	if p.allow != nil || p.deny != nil {
		client = p.res.ClientIP(r)
		if reason := p.AllowIP(client); reason != Allowed {
			return reason, client, requestHost{}
		}
	}
	if p.hosts == nil {
		return Allowed, client, requestHost{raw: true}
	}
	rh, err := parseHost(r.Host)
	if err != nil {
		// Fail closed: a Host we cannot parse cannot be on the list.
		return HostInvalid, client, rh
	}
	if !p.hosts.contains(rh) {
		return HostNotAllowed, client, rh
	}
	return Allowed, client, rh
}

// Check reports whether r may proceed: nil, or a *DeniedError saying why
// not. It writes nothing and does not modify r. On the allowed path it does
// not allocate.
func (p *Policy) Check(r *http.Request) error {
	reason, client, _ := p.decide(r)
	if p.onDecision != nil {
		p.onDecision(r, reason)
	}
	if reason != Allowed {
		return &DeniedError{Reason: reason, Client: client}
	}
	return nil
}

// Handler returns a handler that enforces p before calling h. A refused
// request gets a neutral problem response (policy "access") with the
// reason's status and never reaches h. When a Host allow-list is
// configured, an allowed request's Host is rewritten to its canonical form
// (lower case, no trailing dot, standard IP spelling, port kept) so that h
// sees exactly the host that was checked. When p checks nothing, Handler
// returns h itself.
func (p *Policy) Handler(h http.Handler) http.Handler {
	if !p.Enabled() {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reason, _, rh := p.decide(r)
		if p.onDecision != nil {
			p.onDecision(r, reason)
		}
		if reason != Allowed {
			why, ok := hostReason[reason]
			if !ok {
				why = reason.String()
			}
			problem.Write(w, r, problem.Problem{Status: reason.Status(), Policy: "access", Reason: why})
			return
		}
		if !rh.raw {
			r.Host = rh.canonical()
		}
		h.ServeHTTP(w, r)
	})
}

// CanonicalHost returns the canonical form of a Host header value (lower
// case, no trailing dot, standard IP spelling, port kept), or an error if
// it is missing or malformed under the rules described for Config.Hosts.
func CanonicalHost(h string) (string, error) {
	rh, err := parseHost(h)
	if err != nil {
		return "", fmt.Errorf("%w %q", err, truncate(h, 80))
	}
	if rh.raw {
		return h, nil
	}
	return rh.canonical(), nil
}

// XForwardedHost is the header a trusted proxy names the client's host in.
const XForwardedHost = "X-Forwarded-Host"

// HostHandler returns a handler that makes the host of every request
// unambiguous before calling h, whatever the protocol (HTTP/1.x Host,
// HTTP/2 and HTTP/3 :authority): a missing host becomes DefaultHost or is
// refused with 400; a malformed one (userinfo, quotes, commas, spaces,
// slashes, non-ASCII, a bad port, an over-long name) is refused with 400;
// a valid one is rewritten to its canonical form (lower case, no trailing
// dot, standard IP spelling, port kept), so routing by host and the
// application see the same name. The X-Forwarded-Host of a trusted proxy
// gets the same treatment and, like Host, must be in the Host allow-list
// when there is one (421 otherwise); from anyone else it is left for the
// proxy stage to remove. Refusals are counted through OnDecision as
// HostInvalid or HostNotAllowed.
func (p *Policy) HostHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason, why := p.host(r); reason != Allowed {
			if p.onDecision != nil {
				p.onDecision(r, reason)
			}
			problem.Write(w, r, problem.Problem{Status: reason.Status(), Policy: "access", Reason: why})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// host canonicalises r.Host and a trusted X-Forwarded-Host in place.
func (p *Policy) host(r *http.Request) (Reason, string) {
	if r.Host == "" {
		if p.defaultHost == "" {
			return HostInvalid, hostReason[HostInvalid]
		}
		r.Host = p.defaultHost
	}
	rh, err := parseHost(r.Host)
	if err != nil {
		return HostInvalid, hostReason[HostInvalid]
	}
	if !rh.raw {
		r.Host = rh.canonical()
	}
	vs := r.Header[XForwardedHost]
	if len(vs) == 0 || !p.res.Trusted(clientip.Peer(r)) {
		return Allowed, ""
	}
	// Every element a trusted proxy passes must be a valid host and,
	// with an allow-list, a listed one; the first (the host the client
	// asked the outermost proxy for) is what the application is told.
	first := ""
	for _, v := range vs {
		for v != "" {
			var e string
			e, v, _ = strings.Cut(v, ",")
			e = strings.TrimSpace(e)
			fh, err := parseHost(e)
			if err != nil {
				return HostInvalid, xfhReason[HostInvalid]
			}
			if p.hosts != nil && !p.hosts.contains(fh) {
				return HostNotAllowed, xfhReason[HostNotAllowed]
			}
			if first == "" {
				first = e
				if !fh.raw {
					first = fh.canonical()
				}
			}
		}
	}
	if first == "" {
		return HostInvalid, xfhReason[HostInvalid]
	}
	if len(vs) != 1 || vs[0] != first {
		r.Header[XForwardedHost] = []string{first}
	}
	return Allowed, ""
}
