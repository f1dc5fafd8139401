package access_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/access"
)

func TestAllowIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config access.Config
		addr   string
		want   access.Reason
	}{
		{"no lists allow all", access.Config{}, "203.0.113.9", access.Allowed},
		{"no lists allow unknown", access.Config{}, "", access.Allowed},
		{"in allow list", access.Config{IPs: mustPrefixes("10.0.0.0/8")}, "10.1.2.3", access.Allowed},
		{"outside allow list", access.Config{IPs: mustPrefixes("10.0.0.0/8")}, "11.0.0.1", access.IPNotAllowed},
		{"allow list boundary low", access.Config{IPs: mustPrefixes("192.0.2.0/24")}, "192.0.2.0", access.Allowed},
		{"allow list boundary high", access.Config{IPs: mustPrefixes("192.0.2.0/24")}, "192.0.2.255", access.Allowed},
		{"just past the boundary", access.Config{IPs: mustPrefixes("192.0.2.0/24")}, "192.0.3.0", access.IPNotAllowed},
		{"just before the boundary", access.Config{IPs: mustPrefixes("192.0.2.0/24")}, "192.0.1.255", access.IPNotAllowed},
		{"single address", access.Config{IPs: mustPrefixes("198.51.100.7/32")}, "198.51.100.7", access.Allowed},
		{"deny wins over allow", access.Config{IPs: mustPrefixes("10.0.0.0/8"), DenyIPs: mustPrefixes("10.6.6.0/24")}, "10.6.6.6", access.IPDenied},
		{"deny alone", access.Config{DenyIPs: mustPrefixes("203.0.113.0/24")}, "203.0.113.9", access.IPDenied},
		{"deny alone lets others in", access.Config{DenyIPs: mustPrefixes("203.0.113.0/24")}, "198.51.100.1", access.Allowed},
		{"unknown with allow list fails closed", access.Config{IPs: mustPrefixes("0.0.0.0/0")}, "", access.IPUnknown},
		{"unknown with deny list fails closed", access.Config{DenyIPs: mustPrefixes("203.0.113.0/24")}, "", access.IPUnknown},
		{"IPv6 in list", access.Config{IPs: mustPrefixes("2001:db8::/32")}, "2001:db8:1::1", access.Allowed},
		{"IPv6 outside list", access.Config{IPs: mustPrefixes("2001:db8::/32")}, "2001:db9::1", access.IPNotAllowed},
		{"IPv4 client, IPv6-only list", access.Config{IPs: mustPrefixes("2001:db8::/32")}, "10.0.0.1", access.IPNotAllowed},
		{"mapped client matches IPv4 list", access.Config{IPs: mustPrefixes("10.0.0.0/8")}, "::ffff:10.0.0.1", access.Allowed},
		{"mapped list entry matches IPv4 client", access.Config{IPs: mustPrefixes("::ffff:10.0.0.0/104")}, "10.9.9.9", access.Allowed},
		{"deny ::/0 covers IPv4 too", access.Config{DenyIPs: mustPrefixes("::/0")}, "192.0.2.1", access.IPDenied},
		{"deny 0.0.0.0/0 leaves IPv6", access.Config{DenyIPs: mustPrefixes("0.0.0.0/0")}, "2001:db8::1", access.Allowed},
		{"zone ignored", access.Config{IPs: mustPrefixes("fe80::/10")}, "fe80::1%eth0", access.Allowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := access.New(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			var a netip.Addr
			if tc.addr != "" {
				a = netip.MustParseAddr(tc.addr)
			}
			if got := p.AllowIP(a); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHosts(t *testing.T) {
	t.Parallel()
	p, err := access.New(access.Config{Hosts: []string{
		"app.example.com", "*.tenants.example.com", "Bücher.example", "192.0.2.10", "[2001:db8::10]", "svc_internal.local.",
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want access.Reason
	}{
		{"app.example.com", access.Allowed},
		{"APP.Example.Com", access.Allowed},
		{"app.example.com.", access.Allowed},
		{"app.example.com:8443", access.Allowed},
		{"app.example.com.:8443", access.Allowed},
		{"example.com", access.HostNotAllowed},
		{"evil.app.example.com", access.HostNotAllowed},
		{"app.example.com.evil.net", access.HostNotAllowed},
		{"evilapp.example.com", access.HostNotAllowed},
		{"a.tenants.example.com", access.Allowed},
		{"a.b.tenants.example.com", access.Allowed},
		{"A.TENANTS.EXAMPLE.COM", access.Allowed},
		{"tenants.example.com", access.HostNotAllowed},
		{"eviltenants.example.com", access.HostNotAllowed},
		{"xn--bcher-kva.example", access.Allowed},
		{"XN--BCHER-KVA.EXAMPLE", access.Allowed},
		{"bucher.example", access.HostNotAllowed},
		{"192.0.2.10", access.Allowed},
		{"192.0.2.10:80", access.Allowed},
		{"192.0.2.11", access.HostNotAllowed},
		{"[2001:db8::10]", access.Allowed},
		{"[2001:DB8:0::10]:443", access.Allowed},
		{"[::ffff:192.0.2.10]", access.Allowed},
		{"[2001:db8::11]", access.HostNotAllowed},
		{"svc_internal.local", access.Allowed},
		{"rebind.attacker.example", access.HostNotAllowed},

		{"", access.HostInvalid},
		{"bücher.example", access.HostInvalid},
		{"app.example.com@evil.net", access.HostInvalid},
		{"user:pass@app.example.com", access.HostInvalid},
		{"app.example.com:", access.HostInvalid},
		{"app.example.com:65536", access.HostInvalid},
		{"app.example.com:80a", access.HostInvalid},
		{"app.example.com:80:80", access.HostInvalid},
		{"2001:db8::10", access.HostInvalid},
		{"[2001:db8::10", access.HostInvalid},
		{"[2001:db8::10]x", access.HostInvalid},
		{"[fe80::1%25eth0]", access.HostInvalid},
		{"[192.0.2.10]", access.HostInvalid},
		{"127.1", access.HostInvalid},
		{"2130706433", access.HostInvalid},
		{"0x7f.0.0.1", access.HostInvalid},
		{"192.0.2.010", access.HostInvalid},
		{"app..example.com", access.HostInvalid},
		{".app.example.com", access.HostInvalid},
		{"app.example.com..", access.HostInvalid},
		{"app%2eexample.com", access.HostInvalid},
		{"app.example.com/x", access.HostInvalid},
		{"app.example.com\\x", access.HostInvalid},
		{"app example.com", access.HostInvalid},
		{strings.Repeat("a", 64) + ".example.com", access.HostInvalid},
		{strings.Repeat("a.", 127) + "com", access.HostInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = tc.host
			err := p.Check(r)
			var got access.Reason
			if err != nil {
				var de *access.DeniedError
				if !errors.As(err, &de) {
					t.Fatalf("got error %T, want *access.DeniedError", err)
				}
				got = de.Reason
			}
			if got != tc.want {
				t.Errorf("Host %q: got %v, want %v", tc.host, got, tc.want)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	var decisions []access.Reason
	var mu sync.Mutex
	p, err := access.New(access.Config{
		IPs:      mustPrefixes("192.0.2.0/24"),
		DenyIPs:  mustPrefixes("192.0.2.66/32"),
		Hosts:    []string{"app.example.com", "[2001:db8::1]"},
		Resolver: resolver(t, "10.0.0.0/8"),
		OnDecision: func(r *http.Request, reason access.Reason) {
			mu.Lock()
			defer mu.Unlock()
			decisions = append(decisions, reason)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var gotHost string
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gotHost = r.Host }))
	tests := []struct {
		name     string
		peer     string
		host     string
		xff      string
		status   int
		upHost   string
		decision access.Reason
	}{
		{"allowed", "192.0.2.7:1000", "app.example.com", "", 200, "app.example.com", access.Allowed},
		{"host rewritten to canonical", "192.0.2.7:1000", "APP.example.com.:8080", "", 200, "app.example.com:8080", access.Allowed},
		{"IPv6 host rewritten", "192.0.2.7:1000", "[2001:DB8:0::1]", "", 200, "[2001:db8::1]", access.Allowed},
		{"denied address", "192.0.2.66:1000", "app.example.com", "", 403, "", access.IPDenied},
		{"address not allowed", "198.51.100.1:1000", "app.example.com", "", 403, "", access.IPNotAllowed},
		{"unknown address", "not-an-address", "app.example.com", "", 403, "", access.IPUnknown},
		{"unlisted host", "192.0.2.7:1000", "evil.example", "", 421, "", access.HostNotAllowed},
		{"malformed host", "192.0.2.7:1000", "app.example.com@evil.example", "", 400, "", access.HostInvalid},
		{"through trusted proxy", "10.0.0.2:1000", "app.example.com", "198.51.100.1, 192.0.2.7", 200, "app.example.com", access.Allowed},
		{"spoof from untrusted peer", "198.51.100.1:1000", "app.example.com", "192.0.2.7", 403, "", access.IPNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			decisions = nil
			mu.Unlock()
			gotHost = ""
			r := httptest.NewRequest("GET", "/x", nil)
			r.RemoteAddr, r.Host = tc.peer, tc.host
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status: got %d, want %d", w.Code, tc.status)
			}
			if gotHost != tc.upHost {
				t.Errorf("next handler saw Host: got %q, want %q", gotHost, tc.upHost)
			}
			if tc.status != 200 && w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("refusal is not a problem document: %q", w.Header().Get("Content-Type"))
			}
			if body := w.Body.String(); strings.Contains(body, "ip_") || strings.Contains(body, "host_") {
				t.Errorf("reason leaked to the client: %s", body)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(decisions) != 1 || decisions[0] != tc.decision {
				t.Errorf("OnDecision: got %v, want [%v]", decisions, tc.decision)
			}
		})
	}
}

func TestCheckDoesNotModify(t *testing.T) {
	t.Parallel()
	p, err := access.New(access.Config{Hosts: []string{"app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "APP.example.com."
	if err := p.Check(r); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if r.Host != "APP.example.com." {
		t.Errorf("Check modified Host: got %q", r.Host)
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	global, err := access.New(access.Config{DenyIPs: mustPrefixes("10.6.0.0/16"), Resolver: resolver(t)})
	if err != nil {
		t.Fatal(err)
	}
	health, err := global.Route(access.Route{AllowIPs: mustPrefixes("10.0.0.0/8")})
	if err != nil {
		t.Fatal(err)
	}
	open, err := global.Route(access.Route{})
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	if open.Enabled() {
		t.Error("a route without lists reports Enabled")
	}
	chain := global.Handler(health.Handler(next))
	tests := []struct {
		name   string
		peer   string
		status int
	}{
		{"load balancer", "10.0.0.5:1", 200},
		{"internet", "203.0.113.5:1", 403},
		{"globally denied inside the route's list", "10.6.0.1:1", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/healthz", nil)
			r.RemoteAddr = tc.peer
			w := httptest.NewRecorder()
			chain.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("got %d, want %d", w.Code, tc.status)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	writeFile(t, empty, "# nothing yet\n\n")
	bad := filepath.Join(dir, "bad.txt")
	writeFile(t, bad, "10.0.0.0/8\n# comment\n10.0.0.1/8\nbogus\n")
	tests := []struct {
		name   string
		config access.Config
		want   string
	}{
		{"zero prefix", access.Config{IPs: []netip.Prefix{{}}}, "access: ips[0]: invalid CIDR"},
		{"zero deny prefix", access.Config{DenyIPs: []netip.Prefix{mustPrefixes("10.0.0.0/8")[0], {}}}, "access: deny_ips[1]: invalid CIDR"},
		{"missing file", access.Config{IPsFile: filepath.Join(dir, "nope.txt")}, "access: ips_file: open "},
		{"empty file", access.Config{DenyIPsFile: empty}, "lists no addresses"},
		{"bad file lines", access.Config{IPsFile: bad}, "bad.txt:3: CIDR \"10.0.0.1/8\" has host bits set (did you mean 10.0.0.0/8?)"},
		{"bad file second error", access.Config{IPsFile: bad}, "bad.txt:4: invalid CIDR or IP address \"bogus\""},
		{"empty host", access.Config{Hosts: []string{" "}}, "access: hosts[0]: empty host"},
		{"star", access.Config{Hosts: []string{"*"}}, "leave hosts empty"},
		{"URL", access.Config{Hosts: []string{"https://app.example.com"}}, "is a URL"},
		{"port", access.Config{Hosts: []string{"app.example.com:8080"}}, "includes a port"},
		{"userinfo", access.Config{Hosts: []string{"me@app.example.com"}}, "userinfo"},
		{"inner wildcard", access.Config{Hosts: []string{"app.*.example.com"}}, "wildcard is only allowed"},
		{"wildcard IP", access.Config{Hosts: []string{"*.192.0.2.1"}}, "IP address"},
		{"zone", access.Config{Hosts: []string{"fe80::1%eth0"}}, "zone"},
		{"bracketed IPv4", access.Config{Hosts: []string{"[192.0.2.1]"}}, "brackets"},
		{"bad punycode", access.Config{Hosts: []string{"xn--zz--.example"}}, "invalid internationalised host name"},
		{"bad name", access.Config{Hosts: []string{"app..example.com"}}, "invalid host name"},
		{"second entry named", access.Config{Hosts: []string{"ok.example", "b@d"}}, "hosts[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := access.New(tc.config)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := access.New(access.Config{}); err != nil {
		t.Errorf("zero Config: got %v, want nil", err)
	}
	global, _ := access.New(access.Config{})
	if _, err := global.Route(access.Route{AllowIPsFile: empty}); err == nil || !strings.Contains(err.Error(), "allow_ips_file") {
		t.Errorf("route file error: got %v, want one naming allow_ips_file", err)
	}
}

func TestListFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	allow := filepath.Join(dir, "allow.txt")
	writeFile(t, allow, "# office\n192.0.2.0/24   # main\n\n  2001:db8::/32\n198.51.100.7\n")
	deny := filepath.Join(dir, "deny.txt")
	writeFile(t, deny, "192.0.2.66\n")
	p, err := access.New(access.Config{IPs: mustPrefixes("203.0.113.0/24"), IPsFile: allow, DenyIPsFile: deny})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]access.Reason{
		"192.0.2.1":    access.Allowed,
		"2001:db8::5":  access.Allowed,
		"198.51.100.7": access.Allowed,
		"203.0.113.1":  access.Allowed, // inline entries still count
		"192.0.2.66":   access.IPDenied,
		"198.51.100.8": access.IPNotAllowed,
	} {
		if got := p.AllowIP(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: got %v, want %v", addr, got, want)
		}
	}
	// A reload is a new Policy: the file is read again.
	writeFile(t, allow, "198.51.100.8\n")
	p2, err := access.New(access.Config{IPsFile: allow})
	if err != nil {
		t.Fatal(err)
	}
	if got := p2.AllowIP(netip.MustParseAddr("198.51.100.8")); got != access.Allowed {
		t.Errorf("after rewrite: got %v, want allowed", got)
	}
	if got := p2.AllowIP(netip.MustParseAddr("192.0.2.1")); got != access.IPNotAllowed {
		t.Errorf("after rewrite: got %v, want ip_not_allowed", got)
	}
}

func TestCanonicalHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"app.example.com", "app.example.com"},
		{"App.Example.COM.:443", "app.example.com:443"},
		{"[2001:DB8::0:1]:80", "[2001:db8::1]:80"},
		{"[::ffff:192.0.2.1]", "192.0.2.1"},
		{"192.0.2.1.", "192.0.2.1"},
		{"bad host", ""},
	}
	for _, tc := range tests {
		got, err := access.CanonicalHost(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("CanonicalHost(%q): got %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestReasonStatus(t *testing.T) {
	t.Parallel()
	for reason, want := range map[access.Reason]int{
		access.Allowed: 200, access.IPDenied: 403, access.IPNotAllowed: 403, access.IPUnknown: 403,
		access.HostNotAllowed: 421, access.HostInvalid: 400,
	} {
		if got := reason.Status(); got != want {
			t.Errorf("%v: got %d, want %d", reason, got, want)
		}
	}
	if got := access.Reason(200).String(); got != "unknown" {
		t.Errorf("got %q, want unknown", got)
	}
}

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
