package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/clientip"
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	lb := prefixes("10.0.0.0/8", "2001:db8:ffff::/48")
	tests := []struct {
		name    string
		trusted []netip.Prefix
		header  string
		peer    string
		headers map[string][]string
		want    string
	}{
		// Untrusted peers: every forwarding header is ignored.
		{"no proxies, no header", nil, "", "203.0.113.5:1234", nil, "203.0.113.5"},
		{"spoofed XFF from untrusted peer", nil, "", "203.0.113.5:1234",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1"}}, "203.0.113.5"},
		{"spoofed Forwarded from untrusted peer", lb, "Forwarded", "203.0.113.5:1234",
			map[string][]string{"Forwarded": {"for=1.1.1.1"}}, "203.0.113.5"},
		{"spoofed X-Real-IP from untrusted peer", lb, "X-Real-IP", "203.0.113.5:1234",
			map[string][]string{"X-Real-Ip": {"1.1.1.1"}}, "203.0.113.5"},
		{"untrusted peer with trusted-looking XFF", lb, "", "203.0.113.5:1234",
			map[string][]string{"X-Forwarded-For": {"10.0.0.1"}}, "203.0.113.5"},

		// Trusted peers: right-most untrusted entry wins.
		{"trusted LB, one hop", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
		{"client prepends a fake entry", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7"}}, "198.51.100.7"},
		{"several trusted hops skipped", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"}}, "198.51.100.7"},
		{"multiple header lines read in order", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7", "10.1.1.1"}}, "198.51.100.7"},
		{"garbage left of client is never reached", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"<script>, 198.51.100.7"}}, "198.51.100.7"},
		{"garbage from a trusted hop stops at that hop", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.7, bogus, 10.1.1.1"}}, "invalid IP"},
		{"unknown makes the client unknown", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"unknown"}}, "invalid IP"},
		{"empty entry is malformed", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.7,,10.1.1.1"}}, "invalid IP"},
		{"all trusted gives left-most", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"10.9.9.9, 10.1.1.1"}}, "10.9.9.9"},
		{"no header from trusted peer", lb, "", "10.0.0.2:5000", nil, "10.0.0.2"},
		{"entry with port", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.7:4711"}}, "198.51.100.7"},
		{"IPv6 entry with port", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"[2001:db8::7]:4711"}}, "2001:db8::7"},
		{"IPv4-mapped entry unmapped", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.7"}}, "198.51.100.7"},
		{"mapped trusted hop is still trusted", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.7, ::ffff:10.1.1.1"}}, "198.51.100.7"},
		{"zone stripped", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"fe80::1%eth0"}}, "fe80::1"},
		{"IPv6 trusted peer", lb, "", "[2001:db8:ffff::2]:443",
			map[string][]string{"X-Forwarded-For": {"2001:db8:1::9"}}, "2001:db8:1::9"},
		{"mapped IPv6 peer matches IPv4 prefix", lb, "", "[::ffff:10.0.0.2]:443",
			map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "198.51.100.7"},
		{"other header ignored when XFF configured", lb, "", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {"for=6.6.6.6"}, "X-Real-Ip": {"6.6.6.6"}}, "10.0.0.2"},
		{"hop limit", lb, "", "10.0.0.2:5000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.7, " + strings.Repeat("10.1.1.1, ", 40) + "10.1.1.1"}}, "invalid IP"},

		// Forwarded (RFC 7239).
		{"forwarded simple", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {"for=198.51.100.7;proto=https"}}, "198.51.100.7"},
		{"forwarded quoted IPv6 with port", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"forwarded spoof prepended", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {"for=6.6.6.6, for=198.51.100.7;by=10.0.0.2, For=10.1.1.1"}}, "198.51.100.7"},
		{"forwarded obfuscated stops", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {"for=_hidden, for=10.1.1.1"}}, "invalid IP"},
		{"forwarded malformed line", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {`for="198.51.100.7`}}, "invalid IP"},
		{"forwarded malformed element from the client", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {`for="x, for=198.51.100.7`}}, "invalid IP"},
		{"forwarded element without for", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {"proto=https"}}, "invalid IP"},
		{"forwarded quoted comma", lb, "Forwarded", "10.0.0.2:5000",
			map[string][]string{"Forwarded": {`for="6.6.6.6,198.51.100.9", for=198.51.100.7`}}, "198.51.100.7"},

		// X-Real-IP.
		{"x-real-ip from trusted", lb, "X-Real-IP", "10.0.0.2:5000",
			map[string][]string{"X-Real-Ip": {"198.51.100.7"}}, "198.51.100.7"},
		{"x-real-ip twice refused", lb, "X-Real-IP", "10.0.0.2:5000",
			map[string][]string{"X-Real-Ip": {"198.51.100.7", "6.6.6.6"}}, "invalid IP"},
		{"x-real-ip list refused", lb, "X-Real-IP", "10.0.0.2:5000",
			map[string][]string{"X-Real-Ip": {"6.6.6.6, 198.51.100.7"}}, "invalid IP"},

		// Unparseable peer: unknown, callers fail closed.
		{"unparseable peer", lb, "", "pipe", nil, "invalid IP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := clientip.New(clientip.Config{TrustedProxies: tc.trusted, Header: tc.header})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for k, vs := range tc.headers {
				r.Header[k] = vs
			}
			if got := res.ClientIP(r).String(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNilResolverIsPeer(t *testing.T) {
	t.Parallel()
	var res *clientip.Resolver
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:1"
	r.Header.Set("X-Forwarded-For", "1.1.1.1")
	if got := res.ClientIP(r).String(); got != "192.0.2.1" {
		t.Errorf("got %s, want 192.0.2.1", got)
	}
}

func TestNewRejectsUnknownHeader(t *testing.T) {
	t.Parallel()
	if _, err := clientip.New(clientip.Config{Header: "True-Client-IP"}); err == nil {
		t.Error("got nil error for an unsupported header")
	}
}

func BenchmarkClientIP(b *testing.B) {
	res, _ := clientip.New(clientip.Config{TrustedProxies: prefixes("10.0.0.0/8")})
	cases := map[string]*http.Request{}
	direct := httptest.NewRequest("GET", "/", nil)
	direct.RemoteAddr = "203.0.113.5:1234"
	cases["untrusted-peer"] = direct
	proxied := httptest.NewRequest("GET", "/", nil)
	proxied.RemoteAddr = "10.0.0.2:1234"
	proxied.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.1.1")
	cases["xff-3-hops"] = proxied
	for name, r := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = res.ClientIP(r)
			}
		})
	}
}
