package clientip_test

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/clientip"
)

// FuzzClientIP checks the invariants of the walk for arbitrary headers: no
// panic, and the answer is always either the peer or an address that
// literally appears in the header to the right of every untrusted entry.
func FuzzClientIP(f *testing.F) {
	f.Add("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.1.1")
	f.Add("Forwarded", `for="[2001:db8::1]:80";proto=https, for=10.0.0.9`)
	f.Add("Forwarded", `for=unknown;by=x, for="a,b"`)
	f.Add("X-Real-IP", "198.51.100.7")
	f.Add("X-Forwarded-For", ",,, ::ffff:1.2.3.4%x")
	f.Fuzz(func(t *testing.T, header, value string) {
		if strings.ContainsAny(value, "\r\n") {
			return
		}
		res, err := clientip.New(clientip.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Header: header})
		if err != nil {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.2:80"
		r.Header.Set(header, value)
		got := res.ClientIP(r)
		if !got.IsValid() || got == netip.MustParseAddr("10.0.0.2") {
			return
		}
		if !strings.Contains(value, got.String()) && !strings.Contains(strings.ToLower(value), got.String()) &&
			!strings.Contains(value, strings.TrimPrefix(got.String(), "::ffff:")) {
			// Normalisation (unmapping, zone removal, IPv6 compression) may
			// change the spelling; parse every token to be sure.
			found := false
			for _, tok := range strings.FieldsFunc(value, func(r rune) bool { return strings.ContainsRune(` ,;="[]`, r) }) {
				for _, cand := range []string{tok, strings.TrimPrefix(tok, "for=")} {
					if a, err := netip.ParseAddr(cand); err == nil && a.WithZone("").Unmap() == got {
						found = true
					}
					if ap, err := netip.ParseAddrPort(cand); err == nil && ap.Addr().Unmap() == got {
						found = true
					}
				}
				if i := strings.LastIndexByte(tok, ':'); i > 0 {
					if a, err := netip.ParseAddr(tok[:i]); err == nil && a.Unmap() == got {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("answer %s does not appear in %q", got, value)
			}
		}
	})
}
