package csrf_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/csrf"
)

func mustNew(t testing.TB, c csrf.Config) *csrf.Protection {
	t.Helper()
	p, err := csrf.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

type req struct {
	method  string
	target  string
	headers map[string]string
	tls     bool
	peer    string
}

func (q req) build() *http.Request {
	target := q.target
	if target == "" {
		target = "/items"
	}
	r := httptest.NewRequest(q.method, target, nil)
	r.Host = "app.example.com"
	for k, v := range q.headers {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	if q.tls {
		r.TLS = &tls.ConnectionState{}
	}
	if q.peer != "" {
		r.RemoteAddr = q.peer
	}
	return r
}

type h = map[string]string

func TestOriginMode(t *testing.T) {
	t.Parallel()
	proxies, err := clientip.New(clientip.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	p := mustNew(t, csrf.Config{
		TrustedOrigins: []string{"https://admin.example.com", "https://*.partner.example"},
		Proxies:        proxies,
	})
	tests := []struct {
		name string
		req  req
		want error
	}{
		// Safe methods are never checked.
		{"GET cross-site", req{method: "GET", headers: h{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.net"}}, nil},
		{"HEAD cross-site", req{method: "HEAD", headers: h{"Sec-Fetch-Site": "cross-site"}}, nil},
		{"OPTIONS cross-site", req{method: "OPTIONS", headers: h{"Sec-Fetch-Site": "cross-site"}}, nil},

		// Fetch Metadata.
		{"same-origin", req{method: "POST", headers: h{"Sec-Fetch-Site": "same-origin", "Origin": "https://app.example.com"}}, nil},
		{"user typed URL", req{method: "POST", headers: h{"Sec-Fetch-Site": "none"}}, nil},
		{"same-site is cross-origin", req{method: "POST", headers: h{"Sec-Fetch-Site": "same-site", "Origin": "https://blog.example.com"}}, csrf.ErrCrossSite},
		{"cross-site form post", req{method: "POST", headers: h{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.net"}}, csrf.ErrCrossSite},
		{"cross-site without origin", req{method: "DELETE", headers: h{"Sec-Fetch-Site": "cross-site"}}, csrf.ErrCrossSite},
		{"cross-site from trusted origin", req{method: "POST", headers: h{"Sec-Fetch-Site": "same-site", "Origin": "https://admin.example.com"}}, nil},
		{"cross-site from trusted pattern", req{method: "PUT", headers: h{"Sec-Fetch-Site": "cross-site", "Origin": "https://eu.partner.example"}}, nil},
		{"trusted pattern look-alike", req{method: "PUT", headers: h{"Sec-Fetch-Site": "cross-site", "Origin": "https://evilpartner.example"}}, csrf.ErrCrossSite},
		{"trusted origin look-alike", req{method: "PUT", headers: h{"Sec-Fetch-Site": "cross-site", "Origin": "https://admin.example.com.evil.net"}}, csrf.ErrCrossSite},
		{"unknown Sec-Fetch-Site value", req{method: "POST", headers: h{"Sec-Fetch-Site": "same-planet", "Origin": "https://app.example.com"}}, csrf.ErrCrossSite},
		{"custom unsafe method", req{method: "PROPFIND", headers: h{"Sec-Fetch-Site": "cross-site"}}, csrf.ErrCrossSite},

		// Origin, for browsers without Fetch Metadata.
		{"origin same host", req{method: "POST", headers: h{"Origin": "https://app.example.com"}}, nil},
		{"origin same host and port", req{method: "POST", headers: h{"Host": "localhost:8080", "Origin": "http://localhost:8080"}}, nil},
		{"origin other port", req{method: "POST", headers: h{"Host": "localhost:8080", "Origin": "http://localhost:9090"}}, csrf.ErrOriginMismatch},
		{"origin default port in Host", req{method: "POST", tls: true, headers: h{"Host": "app.example.com:443", "Origin": "https://app.example.com"}}, nil},
		{"origin host case", req{method: "POST", headers: h{"Host": "App.Example.com", "Origin": "https://app.example.com"}}, nil},
		{"origin other host", req{method: "POST", headers: h{"Origin": "https://evil.net"}}, csrf.ErrOriginMismatch},
		{"origin suffix look-alike", req{method: "POST", headers: h{"Origin": "https://app.example.com.evil.net"}}, csrf.ErrOriginMismatch},
		{"origin http on a TLS connection", req{method: "POST", tls: true, headers: h{"Origin": "http://app.example.com"}}, csrf.ErrOriginMismatch},
		{"origin http, scheme unknown (documented fail-open)", req{method: "POST", headers: h{"Origin": "http://app.example.com"}}, nil},
		{"null origin", req{method: "POST", headers: h{"Origin": "null"}}, csrf.ErrNullOrigin},
		{"malformed origin", req{method: "POST", headers: h{"Origin": "https://app.example.com/path"}}, csrf.ErrMalformedHeader},
		{"origin trusted", req{method: "POST", headers: h{"Origin": "https://admin.example.com"}}, nil},
		{"no Host header", req{method: "POST", headers: h{"Host": "", "Origin": "https://app.example.com"}}, csrf.ErrOriginMismatch},

		// Referer, for browsers that send neither.
		{"referer same origin", req{method: "POST", headers: h{"Referer": "https://app.example.com/form?x=1"}}, nil},
		{"referer cross origin", req{method: "POST", headers: h{"Referer": "https://evil.net/attack"}}, csrf.ErrRefererMismatch},
		{"referer userinfo trick", req{method: "POST", headers: h{"Referer": "https://app.example.com@evil.net/"}}, csrf.ErrMalformedHeader},
		{"referer trusted", req{method: "POST", headers: h{"Referer": "https://x.partner.example/page"}}, nil},
		{"referer garbage", req{method: "POST", headers: h{"Referer": "/relative"}}, csrf.ErrMalformedHeader},

		// Non-browser clients.
		{"no browser headers", req{method: "POST"}, nil},
		{"no browser headers, DELETE", req{method: "DELETE"}, nil},

		// Method overrides never weaken the check.
		{"POST overridden to GET", req{method: "POST", headers: h{"Sec-Fetch-Site": "cross-site", "X-HTTP-Method-Override": "GET"}}, csrf.ErrCrossSite},
		{"POST with _method=GET query", req{method: "POST", target: "/items?_method=GET", headers: h{"Sec-Fetch-Site": "cross-site"}}, csrf.ErrCrossSite},
		{"GET overridden to DELETE by header", req{method: "GET", headers: h{"Sec-Fetch-Site": "cross-site", "X-HTTP-Method-Override": "DELETE"}}, csrf.ErrCrossSite},
		{"GET overridden by X-HTTP-Method", req{method: "GET", headers: h{"Sec-Fetch-Site": "cross-site", "X-HTTP-Method": "put"}}, csrf.ErrCrossSite},
		{"GET overridden by X-Method-Override", req{method: "GET", headers: h{"Sec-Fetch-Site": "cross-site", "X-Method-Override": "PATCH"}}, csrf.ErrCrossSite},
		{"GET with _method=DELETE link", req{method: "GET", target: "/items/1?_method=DELETE", headers: h{"Sec-Fetch-Site": "cross-site"}}, csrf.ErrCrossSite},
		{"GET with encoded _method", req{method: "GET", target: "/items/1?%5Fmethod=delete", headers: h{"Sec-Fetch-Site": "cross-site"}}, csrf.ErrCrossSite},
		{"GET with unparseable query naming method", req{method: "GET", target: "/items/1?_method=%zz", headers: h{"Sec-Fetch-Site": "cross-site"}}, csrf.ErrCrossSite},
		{"GET with _method=GET", req{method: "GET", target: "/items?_method=GET", headers: h{"Sec-Fetch-Site": "cross-site"}}, nil},
		{"GET with unrelated query", req{method: "GET", target: "/items?payment_method=card", headers: h{"Sec-Fetch-Site": "cross-site"}}, nil},
		{"GET overridden same-origin", req{method: "GET", headers: h{"Sec-Fetch-Site": "same-origin", "X-HTTP-Method-Override": "DELETE"}}, nil},

		// Trusted proxies.
		{"forwarded host from trusted proxy", req{method: "POST", peer: "10.0.0.2:1234",
			headers: h{"Host": "backend:8080", "X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https", "Origin": "https://app.example.com"}}, nil},
		{"forwarded proto from trusted proxy mismatches", req{method: "POST", peer: "10.0.0.2:1234",
			headers: h{"X-Forwarded-Proto": "https", "Origin": "http://app.example.com"}}, csrf.ErrOriginMismatch},
		{"forwarded host from untrusted client ignored", req{method: "POST", peer: "203.0.113.9:1234",
			headers: h{"X-Forwarded-Host": "evil.net", "Origin": "https://evil.net"}}, csrf.ErrOriginMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.req.build()
			if err := p.Check(r); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Check: got %v, want %v", err, tt.want)
			}
			reached := false
			w := httptest.NewRecorder()
			p.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })).ServeHTTP(w, tt.req.build())
			if reached != (tt.want == nil) {
				t.Fatalf("handler reached: got %v, want %v", reached, tt.want == nil)
			}
			if tt.want != nil {
				if w.Code != http.StatusForbidden || w.Header().Get("Content-Type") != "application/problem+json" {
					t.Errorf("rejection: got %d %q, want 403 problem+json", w.Code, w.Header().Get("Content-Type"))
				}
				if strings.Contains(w.Body.String(), "csrf") || strings.Contains(w.Body.String(), "Origin") {
					t.Errorf("rejection leaks its reason: %s", w.Body)
				}
			}
		})
	}
}

func TestModeOffAndZeroConfig(t *testing.T) {
	t.Parallel()
	off := mustNew(t, csrf.Config{Mode: csrf.ModeOff})
	zero := mustNew(t, csrf.Config{})
	r := req{method: "POST", headers: h{"Sec-Fetch-Site": "cross-site"}}.build()
	if err := off.Check(r); err != nil {
		t.Errorf("off: got %v, want nil", err)
	}
	if err := zero.Check(r); !errors.Is(err, csrf.ErrCrossSite) {
		t.Errorf("zero config: got %v, want ErrCrossSite", err)
	}
	if zero.Mode() != csrf.ModeOrigin {
		t.Errorf("zero config mode: got %q, want origin", zero.Mode())
	}
}

func TestNewRejectsBadConfigs(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	tests := []struct {
		name string
		c    csrf.Config
		want string
	}{
		{"bad mode", csrf.Config{Mode: "strict"}, "mode must be"},
		{"token without key", csrf.Config{Mode: csrf.ModeToken}, "key: token mode needs a key of at least 32"},
		{"short key", csrf.Config{Mode: csrf.ModeBoth, Key: key[:16]}, "got 16"},
		{"cookie without prefix", csrf.Config{Mode: csrf.ModeToken, Key: key, Cookie: "csrf"}, "__Host-"},
		{"null trusted", csrf.Config{TrustedOrigins: []string{"null"}}, "never trusted"},
		{"star trusted", csrf.Config{TrustedOrigins: []string{"*"}}, "every site"},
		{"bad trusted", csrf.Config{TrustedOrigins: []string{"https://a.com/"}}, "trusted_origins[0]"},
		{"bad header", csrf.Config{Header: "X Token"}, "header"},
		{"negative form bytes", csrf.Config{MaxFormBytes: -1}, "max_form_bytes"},
		{"same cookie names", csrf.Config{Mode: csrf.ModeToken, Key: key, ReadableCookie: "__Host-rampart-csrf"}, "must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := csrf.New(tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "csrf: ") {
				t.Errorf("New: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestModeUnmarshalText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"origin", "token", "both", "off", ""} {
		var m csrf.Mode
		if err := m.UnmarshalText([]byte(s)); err != nil || string(m) != s {
			t.Errorf("UnmarshalText(%q): got %q, %v", s, m, err)
		}
	}
	var m csrf.Mode
	if err := m.UnmarshalText([]byte("ORIGIN")); err == nil {
		t.Error("UnmarshalText(ORIGIN): got nil error")
	}
}

// TestMatchesStandardLibrary checks the origin-mode decision against Go's
// own net/http.CrossOriginProtection over every combination of the headers
// both look at, within the documented domain where they must agree (no
// Referer, canonical Origin values, lowercase Host, scheme unknown).
func TestMatchesStandardLibrary(t *testing.T) {
	t.Parallel()
	ours := mustNew(t, csrf.Config{TrustedOrigins: []string{"https://trusted.example"}})
	std := http.NewCrossOriginProtection()
	if err := std.AddTrustedOrigin("https://trusted.example"); err != nil {
		t.Fatal(err)
	}
	methods := []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "PROPFIND"}
	sites := []string{"", "same-origin", "same-site", "cross-site", "none", "weird"}
	origins := []string{"", "https://app.example.com", "http://app.example.com", "https://app.example.com:8443",
		"https://evil.net", "https://trusted.example", "http://trusted.example", "http://localhost:8080"}
	hosts := []string{"app.example.com", "app.example.com:8443", "localhost:8080", "other.example"}
	n := 0
	for _, m := range methods {
		for _, s := range sites {
			for _, o := range origins {
				for _, host := range hosts {
					r := httptest.NewRequest(m, "/x", nil)
					r.Host = host
					if s != "" {
						r.Header.Set("Sec-Fetch-Site", s)
					}
					if o != "" {
						r.Header.Set("Origin", o)
					}
					got, want := ours.Check(r) == nil, std.Check(r) == nil
					if got != want {
						t.Errorf("%s Sec-Fetch-Site=%q Origin=%q Host=%q: ours allows=%v, net/http allows=%v", m, s, o, host, got, want)
					}
					n++
				}
			}
		}
	}
	if n != 1536 {
		t.Fatalf("ran %d cases", n)
	}
}

func TestOnDecision(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string]int{}
	p := mustNew(t, csrf.Config{OnDecision: func(r *http.Request, d csrf.Decision) {
		mu.Lock()
		defer mu.Unlock()
		got[d.Outcome.String()+"/"+d.Reason]++
		if (d.Err != nil) != (d.Outcome == csrf.Rejected) {
			t.Errorf("decision %+v: Err and Outcome disagree", d)
		}
	}})
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, q := range []req{
		{method: "GET"},
		{method: "POST", headers: h{"Sec-Fetch-Site": "same-origin"}},
		{method: "POST"},
		{method: "POST", headers: h{"Sec-Fetch-Site": "cross-site"}},
		{method: "POST", headers: h{"Origin": "null"}},
	} {
		p.Handler(next).ServeHTTP(httptest.NewRecorder(), q.build())
	}
	want := map[string]int{"safe/safe_method": 1, "allowed/same_origin": 1, "allowed/no_browser_headers": 1,
		"rejected/cross_site": 1, "rejected/null_origin": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
}

func TestRejectionIsNeutralHTML(t *testing.T) {
	t.Parallel()
	p := mustNew(t, csrf.Config{})
	r := req{method: "POST", headers: h{"Sec-Fetch-Site": "cross-site", "Accept": "text/html,*/*"}}.build()
	w := httptest.NewRecorder()
	p.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Body)
	if w.Code != 403 || !strings.Contains(string(body), "403 Forbidden") {
		t.Errorf("got %d %s", w.Code, body)
	}
	var js map[string]any
	if json.Unmarshal(body, &js) == nil {
		t.Error("browser got JSON, want HTML")
	}
}
