package csrf_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/csrf"
)

// FuzzParseToken checks that ParseToken never panics, accepts only
// TokenLen-character values, and that a token the protection hands out
// verifies only for its own binding.
func FuzzParseToken(f *testing.F) {
	p, err := csrf.New(csrf.Config{Mode: csrf.ModeToken, Key: testKey, SessionID: sessionFromHeader})
	if err != nil {
		f.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/", nil)
	good := p.Rotate(httptest.NewRecorder(), r, "s1")
	f.Add(good)
	f.Add("")
	f.Add(strings.Repeat("A", csrf.TokenLen))
	f.Add(good[:csrf.TokenLen-1] + "=")
	f.Fuzz(func(t *testing.T, tok string) {
		raw, ok := csrf.ParseToken(tok)
		if !ok {
			return
		}
		if len(tok) != csrf.TokenLen {
			t.Fatalf("ParseToken accepted %d characters", len(tok))
		}
		_ = raw
		if strings.ContainsAny(tok, "\r\n") {
			return
		}
		q := httptest.NewRequest("POST", "/", nil)
		q.Header.Set("X-Test-Session", "s1")
		q.Header.Set("X-CSRF-Token", tok)
		err := p.Check(q)
		if tok == good && err != nil {
			t.Fatalf("the issued token failed: %v", err)
		}
		q.Header.Set("X-Test-Session", "s2")
		if p.Check(q) == nil {
			t.Fatalf("token %q verified for two sessions", tok)
		}
	})
}

// FuzzCheckOrigin sends arbitrary Sec-Fetch-Site, Origin and Referer values
// with a POST and checks that nothing panics and that a request from
// https://evil.net is never allowed.
func FuzzCheckOrigin(f *testing.F) {
	f.Add("", "https://app.example.com", "")
	f.Add("cross-site", "https://evil.net", "")
	f.Add("", "", "https://app.example.com@evil.net/")
	f.Add("", "null", "https://app.example.com/")
	f.Add("same-site", "https://app.example.com.evil.net", "")
	p, err := csrf.New(csrf.Config{TrustedOrigins: []string{"https://*.example.com"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, site, origin, referer string) {
		if strings.ContainsAny(site+origin+referer, "\r\n\x00") {
			return
		}
		r := httptest.NewRequest("POST", "https://app.example.com/", nil)
		set := func(k, v string) {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		set("Sec-Fetch-Site", site)
		set("Origin", origin)
		set("Referer", referer)
		if err := p.Check(r); err != nil {
			w := httptest.NewRecorder()
			p.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
			if w.Code != 403 {
				t.Fatalf("rejected request answered %d", w.Code)
			}
			return
		}
		trusted := strings.HasPrefix(origin, "https://") && strings.HasSuffix(origin, ".example.com")
		if site != "" && site != "same-origin" && site != "none" && !trusted {
			t.Fatalf("allowed Sec-Fetch-Site=%q with untrusted Origin=%q", site, origin)
		}
		if site == "" && (strings.HasPrefix(origin, "https://evil.net") ||
			(origin == "" && strings.HasPrefix(referer, "https://evil.net"))) {
			t.Fatalf("allowed Origin=%q Referer=%q", origin, referer)
		}
	})
}
