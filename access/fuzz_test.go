package access_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/access"
)

// FuzzHost checks Host parsing and matching for arbitrary values: no
// panic; the canonical form is a fixed point, lower case and without a
// trailing dot; and a policy listing app.example.com and *.example.net
// admits exactly the hosts whose canonical name is one of those.
func FuzzHost(f *testing.F) {
	for _, s := range []string{
		"app.example.com", "APP.example.com.:8080", "a.b.example.net", "example.net", "evilexample.net",
		"[2001:db8::1]:443", "[::ffff:127.0.0.1]", "127.0.0.1", "127.1", "2130706433", "0x7f.1",
		"app.example.com@evil", "user@app.example.com", "app.example.com:", "app.example.com:99999",
		"xn--bcher-kva.example", "bücher.example", "[fe80::1%25eth0]", "a..b", ".", "", ":80",
	} {
		f.Add(s)
	}
	p, err := access.New(access.Config{Hosts: []string{"app.example.com", "*.example.net"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = h
		checkErr := p.Check(r)
		canon, err := access.CanonicalHost(h)
		if err != nil {
			if checkErr == nil {
				t.Fatalf("malformed host %q was allowed", h)
			}
			if got := checkErr.(*access.DeniedError).Reason; got != access.HostInvalid {
				t.Fatalf("malformed host %q: got %v, want %v", h, got, access.HostInvalid)
			}
			return
		}
		if again, err := access.CanonicalHost(canon); err != nil || again != canon {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", h, canon, again, err)
		}
		if canon != strings.ToLower(canon) {
			t.Fatalf("canonical host %q is not lower case", canon)
		}
		name := canon
		if !strings.HasPrefix(name, "[") {
			if i := strings.LastIndexByte(name, ':'); i >= 0 {
				name = name[:i]
			}
		}
		if strings.HasSuffix(name, ".") {
			t.Fatalf("canonical host %q keeps a trailing dot", canon)
		}
		want := name == "app.example.com" || strings.HasSuffix(name, ".example.net") && len(name) > len(".example.net")
		if got := checkErr == nil; got != want {
			t.Fatalf("host %q (canonical %q): allowed %v, want %v (%v)", h, canon, got, want, checkErr)
		}
	})
}

// FuzzHostHandler sends arbitrary Host and X-Forwarded-Host values, from a
// trusted peer, through HostHandler: no panic; whatever reaches the next
// handler is a canonical host (a fixed point of CanonicalHost) with none of
// the characters that could break a header, a quoted string or a URL.
func FuzzHostHandler(f *testing.F) {
	for _, s := range []string{
		"app.example.com", "APP.example.com.:443", `x",for=6.6.6.6;proto=https;host="good.example`, "a b", "a/b",
		"user@host", "", "[::1]:8080", "app.example.com, evil.test", strings.Repeat("a.", 200),
	} {
		f.Add(s, s)
	}
	p, err := access.New(access.Config{Resolver: resolver(f, "127.0.0.0/8")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, xfh string) {
		var got, gotX string
		reached := false
		h := p.HostHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached, got, gotX = true, r.Host, r.Header.Get(access.XForwardedHost)
		}))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.0.1:1234"
		r.Host = host
		if xfh != "" {
			r.Header[access.XForwardedHost] = []string{xfh}
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if !reached {
			return
		}
		for _, v := range []string{got, gotX} {
			if v == "" && v == gotX {
				continue
			}
			if c, err := access.CanonicalHost(v); err != nil || c != v {
				t.Fatalf("host %q / %q reached the application as %q, not canonical (%q, %v)", host, xfh, v, c, err)
			}
			if strings.ContainsAny(v, "\"',; /\\@\t\r\n%") {
				t.Fatalf("host %q reached the application with a delimiter: %q", host, v)
			}
		}
	})
}
