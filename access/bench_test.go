package access_test

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"

	"github.com/rampartsec/rampart/access"
)

// largeList returns n random prefixes (/16 to /32 IPv4, /32 to /64 IPv6),
// none of them covering 192.0.2.0/24.
func largeList(n int) []netip.Prefix {
	rng := rand.New(rand.NewPCG(7, 7))
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		var p netip.Prefix
		if rng.IntN(4) == 0 {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			p = netip.PrefixFrom(netip.AddrFrom16(b), 32+rng.IntN(33)).Masked()
		} else {
			a := netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			p = netip.PrefixFrom(a, 16+rng.IntN(17)).Masked()
		}
		if p.Overlaps(netip.MustParsePrefix("192.0.2.0/24")) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func BenchmarkAllowIP(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		deny := largeList(n)
		p, err := access.New(access.Config{IPs: append([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, deny[:n/2]...), DenyIPs: deny[n/2:]})
		if err != nil {
			b.Fatal(err)
		}
		addr := netip.MustParseAddr("192.0.2.7")
		b.Run("allowed/"+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p.AllowIP(addr) != access.Allowed {
					b.Fatal("not allowed")
				}
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	list := largeList(1000)
	p, err := access.New(access.Config{
		IPs:      append([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, list...),
		DenyIPs:  []netip.Prefix{netip.MustParsePrefix("192.0.2.66/32")},
		Hosts:    []string{"app.example.com", "*.tenants.example.com"},
		Resolver: resolver(b, "10.0.0.0/8"),
	})
	if err != nil {
		b.Fatal(err)
	}
	cases := map[string]*http.Request{}
	direct := httptest.NewRequest("GET", "/", nil)
	direct.RemoteAddr, direct.Host = "192.0.2.7:5000", "app.example.com"
	cases["allowed/direct"] = direct
	proxied := httptest.NewRequest("GET", "/", nil)
	proxied.RemoteAddr, proxied.Host = "10.0.0.2:5000", "a.tenants.example.com:8443"
	proxied.Header.Set("X-Forwarded-For", "203.0.113.5, 192.0.2.7")
	cases["allowed/proxied-wildcard"] = proxied
	upper := httptest.NewRequest("GET", "/", nil)
	upper.RemoteAddr, upper.Host = "192.0.2.7:5000", "APP.Example.com"
	cases["allowed/upper-case-host"] = upper
	for name, r := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Check(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHandler(b *testing.B) {
	p, err := access.New(access.Config{
		IPs:   append([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, largeList(1000)...),
		Hosts: []string{"app.example.com"},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Host = "192.0.2.7:5000", "app.example.com"
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
