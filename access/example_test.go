package access_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/access/canonical"
	"github.com/rampartsec/rampart/clientip"
)

func Example() {
	// Behind one load balancer at 10.0.0.2; the site is app.example.com;
	// 203.0.113.0/24 is a known abuser.
	res, _ := clientip.New(clientip.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/32")}})
	policy, err := access.New(access.Config{
		DenyIPs:  []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		Hosts:    []string{"app.example.com"},
		Resolver: res,
	})
	if err != nil {
		panic(err)
	}
	// /internal/ is for the private network only.
	internal, err := policy.Route(access.Route{AllowIPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	mux := http.NewServeMux()
	mux.Handle("GET /public/{path...}", app)
	mux.Handle("/internal/{path...}", internal.Handler(app))
	// Canonical paths first, then who and which host, then the routes.
	h := canonical.Handler(policy.Handler(mux))

	for _, req := range []struct{ peer, xff, host, target string }{
		{"10.0.0.2:1", "198.51.100.7", "app.example.com", "/public/a"},
		{"10.0.0.2:1", "198.51.100.7", "app.example.com", "/internal/stats"},
		{"10.0.0.2:1", "10.1.2.3", "app.example.com", "/internal/stats"},
		{"10.0.0.2:1", "203.0.113.9", "app.example.com", "/public/a"},
		{"198.51.100.7:1", "10.1.2.3", "app.example.com", "/internal/stats"},
		{"10.0.0.2:1", "198.51.100.7", "attacker.example", "/public/a"},
		{"10.0.0.2:1", "198.51.100.7", "app.example.com", "/public/..%2finternal/stats"},
	} {
		r := httptest.NewRequest("GET", req.target, nil)
		r.RemoteAddr, r.Host = req.peer, req.host
		r.Header.Set("X-Forwarded-For", req.xff)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, req.xff, req.host, req.target)
	}
	// Output:
	// 200 198.51.100.7 app.example.com /public/a
	// 403 198.51.100.7 app.example.com /internal/stats
	// 200 10.1.2.3 app.example.com /internal/stats
	// 403 203.0.113.9 app.example.com /public/a
	// 403 10.1.2.3 app.example.com /internal/stats
	// 421 198.51.100.7 attacker.example /public/a
	// 400 198.51.100.7 app.example.com /public/..%2finternal/stats
}

func ExampleIPSet() {
	set, err := access.NewIPSet([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/9"),
		netip.MustParsePrefix("10.128.0.0/9"), // merged with the first
		netip.MustParsePrefix("2001:db8::/32"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Len(), set.Contains(netip.MustParseAddr("10.200.0.1")), set.Contains(netip.MustParseAddr("::ffff:10.0.0.1")))
	// Output: 2 true true
}
