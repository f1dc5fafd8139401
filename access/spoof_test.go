package access_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/internal/testutil"
)

// TestSpoofing checks that the lists use the client address the trusted
// proxy configuration allows, and no other: forwarding headers from an
// untrusted peer change nothing; from a trusted proxy the right-most
// untrusted address wins.
func TestSpoofing(t *testing.T) {
	t.Parallel()
	// The allow list is the office; 10.0.0.0/8 and 2001:db8:ffff::/48 are
	// the load balancers.
	office := "192.0.2.0/24"
	tests := []struct {
		name    string
		header  string // clientip header name; "" for X-Forwarded-For
		peer    string
		headers map[string]string
		want    access.Reason
	}{
		{"direct from office", "", "192.0.2.7:1", nil, access.Allowed},
		{"direct from internet", "", "203.0.113.5:1", nil, access.IPNotAllowed},
		{"XFF from untrusted peer ignored", "", "203.0.113.5:1", map[string]string{"X-Forwarded-For": "192.0.2.7"}, access.IPNotAllowed},
		{"Forwarded from untrusted peer ignored", "Forwarded", "203.0.113.5:1", map[string]string{"Forwarded": "for=192.0.2.7"}, access.IPNotAllowed},
		{"X-Real-IP from untrusted peer ignored", "X-Real-IP", "203.0.113.5:1", map[string]string{"X-Real-Ip": "192.0.2.7"}, access.IPNotAllowed},
		{"untrusted IPv6 peer ignored", "", "[2001:db8:1::5]:1", map[string]string{"X-Forwarded-For": "192.0.2.7"}, access.IPNotAllowed},
		{"untrusted peer claiming to be a proxy", "", "203.0.113.5:1", map[string]string{"X-Forwarded-For": "192.0.2.7, 10.0.0.2"}, access.IPNotAllowed},
		{"trusted proxy, office client", "", "10.0.0.2:1", map[string]string{"X-Forwarded-For": "192.0.2.7"}, access.Allowed},
		{"trusted proxy, internet client", "", "10.0.0.2:1", map[string]string{"X-Forwarded-For": "203.0.113.5"}, access.IPNotAllowed},
		{"prepended office address loses", "", "10.0.0.2:1", map[string]string{"X-Forwarded-For": "192.0.2.7, 203.0.113.5"}, access.IPNotAllowed},
		{"right-most untrusted wins over trusted hops", "", "10.0.0.2:1", map[string]string{"X-Forwarded-For": "203.0.113.5, 192.0.2.7, 10.1.1.1, 10.2.2.2"}, access.Allowed},
		{"garbage from a trusted hop makes the client unknown", "", "10.0.0.2:1", map[string]string{"X-Forwarded-For": "192.0.2.7, junk"}, access.IPUnknown},
		{"Forwarded through trusted proxy", "Forwarded", "10.0.0.2:1", map[string]string{"Forwarded": "for=203.0.113.5, for=192.0.2.7"}, access.Allowed},
		{"Forwarded prepended spoof", "Forwarded", "10.0.0.2:1", map[string]string{"Forwarded": "for=192.0.2.7, for=203.0.113.5"}, access.IPNotAllowed},
		{"other header ignored", "", "10.0.0.2:1", map[string]string{"Forwarded": "for=192.0.2.7", "X-Real-Ip": "192.0.2.7"}, access.IPNotAllowed},
		{"IPv6 trusted proxy", "", "[2001:db8:ffff::2]:1", map[string]string{"X-Forwarded-For": "192.0.2.7"}, access.Allowed},
		{"mapped client address", "", "10.0.0.2:1", map[string]string{"X-Forwarded-For": "::ffff:192.0.2.7"}, access.Allowed},
		{"mapped trusted peer", "", "[::ffff:10.0.0.2]:1", map[string]string{"X-Forwarded-For": "192.0.2.7"}, access.Allowed},
		{"mapped untrusted peer", "", "[::ffff:192.0.2.7]:1", nil, access.Allowed},
		{"IPv6 client through proxy", "", "10.0.0.2:1", map[string]string{"X-Forwarded-For": "[2001:db8:2::9]:443"}, access.IPNotAllowed},
		{"unparseable peer fails closed", "", "@", nil, access.IPUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := clientip.New(clientip.Config{
				TrustedProxies: mustPrefixes("10.0.0.0/8", "2001:db8:ffff::/48"),
				Header:         tc.header,
			})
			if err != nil {
				t.Fatal(err)
			}
			p, err := access.New(access.Config{IPs: mustPrefixes(office), Resolver: res})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			got := access.Allowed
			if err := p.Check(r); err != nil {
				got = err.(*access.DeniedError).Reason
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSpoofingOverTCP repeats the essential cases with real connections
// from 127.0.0.1: as an untrusted peer its X-Forwarded-For is ignored; as
// a trusted proxy it is believed.
func TestSpoofingOverTCP(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	serve := func(trusted ...string) string {
		p, err := access.New(access.Config{IPs: mustPrefixes("192.0.2.0/24"), Resolver: resolver(t, trusted...)})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(p.Handler(ok))
		srv.Start()
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	untrusted, trusted := serve(), serve("127.0.0.0/8")
	tests := []struct {
		name, addr, xff string
		status          int
	}{
		{"untrusted, no header", untrusted, "", 403},
		{"untrusted, spoofed header", untrusted, "192.0.2.7", 403},
		{"trusted, office client", trusted, "192.0.2.7", 200},
		{"trusted, prepended spoof", trusted, "192.0.2.7, 203.0.113.5", 403},
		{"trusted, no header is the proxy itself", trusted, "", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var headers []string
			if tc.xff != "" {
				headers = append(headers, "X-Forwarded-For: "+tc.xff)
			}
			resp := testutil.Raw(t, tc.addr, testutil.RequestText("GET", "/", "app.example.com", headers...))
			if resp.StatusCode != tc.status {
				t.Errorf("got %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}
