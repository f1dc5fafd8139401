package clientip_test

import (
	"fmt"
	"net/http/httptest"
	"net/netip"

	"github.com/rampartsec/rampart/clientip"
)

func ExampleResolver_ClientIP() {
	res, err := clientip.New(clientip.Config{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		panic(err)
	}
	// A request through the load balancer at 10.0.0.2; the client tried to
	// prepend a fake address, which is to the left of the real one.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:41000"
	r.Header.Set("X-Forwarded-For", "127.0.0.1, 198.51.100.7")
	fmt.Println(res.ClientIP(r))

	// The same header straight from the internet is ignored.
	r.RemoteAddr = "203.0.113.9:52000"
	fmt.Println(res.ClientIP(r))
	// Output:
	// 198.51.100.7
	// 203.0.113.9
}
