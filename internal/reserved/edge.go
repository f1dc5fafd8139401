package reserved

import (
	"fmt"
	"net/http"
)

// Class is what a request header name means to the gateway.
type Class uint8

const (
	// Other headers pass unchanged.
	Other Class = iota
	// Owned headers are sent upstream by Rampart only (identity, CSP
	// nonce, CSRF token, everything named X-Rampart-*): a client's copy,
	// in any spelling, never reaches the application.
	Owned
	// Forwarding headers say who the client is, what scheme and host it
	// used, or which path prefix a proxy stripped (X-Forwarded-*,
	// Forwarded, X-Real-IP, True-Client-IP, CF-Connecting-IP, …, and
	// X-Request-Id). Rampart reads the ones it understands from trusted
	// proxies only, then removes every copy and sends its own values. A
	// named few may be passed on from trusted proxies by configuration.
	Forwarding
	// Override headers ask the application to use another URL, host or
	// method than the one Rampart routed (X-Original-URL, X-Rewrite-URL,
	// X-HTTP-Method-Override, X-Host, …) or to use a proxy (Proxy, the
	// "httpoxy" variable): always removed.
	Override
)

// maxFold bounds the header names classified by exact name: every listed
// name is shorter. Longer names can only belong to a prefix family.
const maxFold = 48

// families lists the header names the gateway removes, folded (lower case,
// "-" for "_" and "."). Sources: the forwarding conventions of nginx,
// HAProxy, Envoy, Traefik, Caddy, Apache, IIS/ARR, Akamai, Cloudflare,
// Fastly, Azure, App Engine and WebLogic, and the override headers honoured
// by IIS, Symfony, Laravel, Spring, Express's method-override and Rails.
var families = map[string]Class{
	// Client address.
	"forwarded":                 Forwarding,
	"x-real-ip":                 Forwarding,
	"true-client-ip":            Forwarding,
	"x-client-ip":               Forwarding,
	"client-ip":                 Forwarding,
	"cf-connecting-ip":          Forwarding,
	"cf-connecting-ipv6":        Forwarding,
	"cf-pseudo-ipv4":            Forwarding,
	"fastly-client-ip":          Forwarding,
	"x-cluster-client-ip":       Forwarding,
	"x-proxyuser-ip":            Forwarding,
	"proxy-client-ip":           Forwarding,
	"wl-proxy-client-ip":        Forwarding,
	"x-originating-ip":          Forwarding,
	"x-remote-ip":               Forwarding,
	"x-remote-addr":             Forwarding,
	"x-original-remote-addr":    Forwarding,
	"x-envoy-external-address":  Forwarding,
	"x-azure-clientip":          Forwarding,
	"x-azure-socketip":          Forwarding,
	"x-appengine-user-ip":       Forwarding,
	"akamai-client-ip":          Forwarding,
	"x-coming-from":             Forwarding,
	"x-custom-ip-authorization": Forwarding,
	"x-client-port":             Forwarding,
	"x-real-port":               Forwarding,
	// Scheme.
	"front-end-https":            Forwarding,
	"x-url-scheme":               Forwarding,
	"x-scheme":                   Forwarding,
	"x-arr-ssl":                  Forwarding,
	"x-https":                    Forwarding,
	"x-original-proto":           Forwarding,
	"cloudfront-forwarded-proto": Forwarding,
	// Request id: believed from trusted proxies, otherwise Rampart's.
	"x-request-id": Forwarding,
	// URL, host and method overrides, and httpoxy.
	"x-original-url":         Override,
	"x-original-uri":         Override,
	"x-rewrite-url":          Override,
	"x-override-url":         Override,
	"x-original-path":        Override,
	"x-envoy-original-path":  Override,
	"x-original-host":        Override,
	"x-host":                 Override,
	"x-http-host-override":   Override,
	"x-http-method-override": Override,
	"x-http-method":          Override,
	"x-method-override":      Override,
	"x-original-method":      Override,
	"proxy":                  Override,
	// Identities asserted by authenticating proxies (Apache and nginx
	// auth modules, oauth2-proxy, Kong, Grafana's auth proxy, Azure App
	// Service, Cloudflare Access, Google IAP, AWS ALB): an application
	// written for one of them trusts these to say who the user is. From a
	// client they are forgeries; from a trusted proxy they pass only when
	// listed in trusted_forwarding.
	"remote-user":                        Forwarding,
	"x-remote-user":                      Forwarding,
	"x-authenticated-user":               Forwarding,
	"x-authenticated-userid":             Forwarding,
	"x-authenticated-scope":              Forwarding,
	"x-authenticated-groups":             Forwarding,
	"x-webauth-user":                     Forwarding,
	"x-ms-client-principal":              Forwarding,
	"x-ms-client-principal-name":         Forwarding,
	"x-ms-client-principal-id":           Forwarding,
	"x-ms-client-principal-idp":          Forwarding,
	"cf-access-authenticated-user-email": Forwarding,
	"cf-access-jwt-assertion":            Forwarding,
	"x-goog-authenticated-user-email":    Forwarding,
	"x-goog-authenticated-user-id":       Forwarding,
	"x-goog-iap-jwt-assertion":           Forwarding,
	"x-amzn-oidc-data":                   Forwarding,
	"x-amzn-oidc-identity":               Forwarding,
	"x-amzn-oidc-accesstoken":            Forwarding,
}

// prefixes are header families matched by their folded prefix.
var prefixes = [...]struct {
	prefix string
	class  Class
}{
	{"x-forwarded", Forwarding}, // X-Forwarded, X-Forwarded-For, -Host, -Proto, -Prefix, -Port, -Server, -Uri, -Method, -Ssl, …
	{"x-forward-", Forwarding},  // X-Forward-For, a common misspelling some libraries read
	{"forwarded-", Forwarding},  // Forwarded-For, Forwarded-Host
	{"x-original-forwarded", Forwarding},
	{"x-auth-request-", Forwarding}, // oauth2-proxy: X-Auth-Request-User, -Email, -Groups, -Access-Token, …
	{"x-rampart-", Owned},
}

// firsts and lengths are the first bytes and lengths of the families'
// names and prefixes: a quick way to rule most header names out.
var firsts, lengths = func() (fs [256]bool, ls [maxFold + 1]bool) {
	for name := range families {
		fs[name[0]], ls[len(name)] = true, true
	}
	for _, p := range prefixes {
		fs[p.prefix[0]] = true
	}
	return fs, ls
}()

// FilterConfig configures a Filter.
type FilterConfig struct {
	// Owned are further header names only Rampart sends upstream (renamed
	// identity, nonce or CSRF headers). Names starting with X-Rampart- are
	// always owned.
	Owned []string
	// TrustedForwarding are forwarding headers (such as
	// X-Forwarded-Prefix) passed on unchanged when the request comes
	// straight from a trusted proxy. Default none.
	TrustedForwarding []string
	// AllowUnusualNames keeps header names with characters other than
	// letters, digits and "-", such as "_" or "." (those that fold onto a
	// reserved name are removed regardless). By default
	// they are removed, as nginx does: CGI-style servers read them as the
	// "-" spelling of another header.
	AllowUnusualNames bool
}

// Filter removes from requests the headers a client must not choose. It is
// immutable and safe for concurrent use.
type Filter struct {
	owned      map[string]struct{} // folded
	firsts     [256]bool           // first bytes of owned
	lengths    [maxFold + 1]bool   // lengths of owned
	allowOdd   bool
	passFolded []string // folded TrustedForwarding names
}

// NewFilter returns a Filter for c. A TrustedForwarding name that is not a
// forwarding header, or that Rampart itself computes, is an error.
func NewFilter(c FilterConfig) (*Filter, error) {
	f := &Filter{owned: map[string]struct{}{}, allowOdd: c.AllowUnusualNames}
	for _, n := range c.Owned {
		if n == "" {
			continue
		}
		folded := Fold(n)
		f.owned[folded] = struct{}{}
		f.firsts[folded[0]] = true
		if len(folded) <= maxFold {
			f.lengths[len(folded)] = true
		}
	}
	for i, n := range c.TrustedForwarding {
		if !plainName(n) {
			return nil, fmt.Errorf("trusted_forwarding[%d]: %q is not a header name of letters, digits and '-'", i, n)
		}
		folded := Fold(n)
		if cls, _ := f.classify(n); cls != Forwarding {
			return nil, fmt.Errorf("trusted_forwarding[%d]: %q is not a forwarding header (X-Forwarded-*, Forwarded-*, or a client-address header)", i, n)
		}
		switch folded {
		case "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded", "x-real-ip", "x-request-id":
			return nil, fmt.Errorf("trusted_forwarding[%d]: %s is computed by Rampart from trusted_proxies and cannot be passed through", i, n)
		}
		f.passFolded = append(f.passFolded, folded)
	}
	return f, nil
}

// Classify returns the class of header name k, and whether k is spelled
// the way Go canonicalises it (letters, digits and "-" only).
func (f *Filter) Classify(k string) (Class, bool) { return f.classify(k) }

func (f *Filter) classify(k string) (Class, bool) {
	if k == "" {
		return Other, false
	}
	first := foldByte(k[0])
	if !firsts[first] && (f == nil || !f.firsts[first]) {
		// The common case (Accept, User-Agent, Host, Sec-*…): no
		// family starts with this letter.
		return Other, plainName(k)
	}
	var buf [maxFold]byte
	n := min(len(k), maxFold)
	plain := true
	for i := 0; i < n; i++ {
		c := k[i]
		if c == '_' || c == '.' {
			plain = false
		}
		buf[i] = foldByte(c)
	}
	if plain && len(k) > n {
		plain = plainName(k[n:])
	}
	folded := buf[:n]
	if len(k) <= maxFold && (lengths[len(k)] || f != nil && f.lengths[len(k)]) {
		if cls, ok := families[string(folded)]; ok {
			return cls, plain
		}
		if f != nil {
			if _, ok := f.owned[string(folded)]; ok {
				return Owned, plain
			}
		}
	}
	for _, p := range prefixes {
		if len(folded) >= len(p.prefix) && string(folded[:len(p.prefix)]) == p.prefix {
			return p.class, plain
		}
	}
	return Other, plain
}

// plainName reports whether s has only letters, digits and "-".
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Client cleans a request as it arrives, before any policy reads it: it
// removes owned and override headers in every spelling, forwarding headers
// spelled with "_" or "." (the canonical spellings stay for Rampart to
// judge by the peer, and Upstream removes them), and — unless
// AllowUnusualNames — every other name with a character other than a
// letter, a digit or "-". It does not allocate.
func (f *Filter) Client(h http.Header) {
	for k := range h {
		cls, plain := f.classify(k)
		switch {
		case cls == Owned, cls == Override:
			delete(h, k)
		case !plain && (cls == Forwarding || !f.allowOdd):
			delete(h, k)
		}
	}
}

// Upstream cleans the outbound request out, copied from in: it removes
// every forwarding, owned and override header, then re-sends from in the
// owned headers Rampart set (a client's Connection header may have
// nominated them for removal) and, when trusted, the configured
// TrustedForwarding headers. The caller then sets the forwarding headers
// it computed. It does not allocate beyond the map entries it copies.
func (f *Filter) Upstream(out, in http.Header, trusted bool) {
	for k := range out {
		if cls, _ := f.classify(k); cls != Other {
			delete(out, k)
		}
	}
	for k, v := range in {
		switch cls, plain := f.classify(k); cls {
		case Owned:
			// Client copies were removed by Client on arrival: what is
			// left was set by Rampart.
			out[k] = v
		case Forwarding:
			if trusted && plain && f.passes(k) {
				out[k] = v
			}
		}
	}
}

func (f *Filter) passes(k string) bool {
	for _, p := range f.passFolded {
		if equal(k, p) {
			return true
		}
	}
	return false
}
