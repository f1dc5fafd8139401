package gateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/rampartsec/rampart/clientip"
)

// publicHTTPS returns the test of whether a request reached the site over
// HTTPS: TLS on the connection itself, or X-Forwarded-Proto: https from a
// trusted proxy (the same reading the proxy forwards upstream). Browser
// behaviour that differs between secure and insecure contexts — Secure
// cookies, upgrade-insecure-requests — follows it.
func publicHTTPS(ips *clientip.Resolver) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if r.TLS != nil {
			return true
		}
		return ips.FromTrustedProxy(r) && r.Header.Get("X-Forwarded-Proto") == "https"
	}
}

// plainHTTP reports a request that reached the site over plain HTTP on a
// host name browsers do not count as a secure context — anything but
// localhost and loopback addresses — for the development-only cookie
// settings: there a Secure cookie would be dropped. On http://localhost
// the browser keeps Secure __Host- cookies, so nothing changes there.
func plainHTTP(ips *clientip.Resolver) func(*http.Request) bool {
	secure := publicHTTPS(ips)
	return func(r *http.Request) bool { return !secure(r) && !loopbackHost(r.Host) }
}

// loopbackHost reports whether host (with an optional port) is localhost,
// a name under .localhost, or a loopback address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
