package autotls_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/autotls"
)

func TestRedirectHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		port     int
		method   string
		host     string
		target   string
		status   int
		location string
	}{
		{"get", 443, "GET", "app.example.com", "/a/b?c=d", 301, "https://app.example.com/a/b?c=d"},
		{"head", 443, "HEAD", "app.example.com", "/", 301, "https://app.example.com/"},
		{"post keeps the method", 443, "POST", "app.example.com", "/form", 308, "https://app.example.com/form"},
		{"port of the listener", 8443, "GET", "app.example.com:8080", "/x", 301, "https://app.example.com:8443/x"},
		{"host lower-cased, trailing dot", 443, "GET", "App.Example.COM.", "/", 301, "https://app.example.com/"},
		{"ipv4", 443, "GET", "192.0.2.1:80", "/", 301, "https://192.0.2.1/"},
		{"ipv6", 8443, "GET", "[2001:db8::1]:80", "/", 301, "https://[2001:db8::1]:8443/"},
		{"encoded path kept", 443, "GET", "a.example", "/%2e%2e/x%20y", 301, "https://a.example/%2e%2e/x%20y"},
		{"no host", 443, "GET", "", "/", 400, ""},
		{"userinfo in host", 443, "GET", "evil.example@a.example", "/", 400, ""},
		{"slash in host", 443, "GET", "a.example/evil", "/", 400, ""},
		{"bad port", 443, "GET", "a.example:http", "/", 400, ""},
		{"underscore", 443, "GET", "a_b.example", "/", 400, ""},
		{"crlf", 443, "GET", "a.example\r\nx", "/", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, "http://placeholder"+tt.target, nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			autotls.RedirectHandler(tt.port).ServeHTTP(w, r)
			if w.Code != tt.status || w.Header().Get("Location") != tt.location {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Header().Get("Location"), tt.status, tt.location)
			}
		})
	}
}

// FuzzRedirectHandler checks that whatever the Host header, the redirect
// stays on that host over HTTPS or is refused.
func FuzzRedirectHandler(f *testing.F) {
	for _, s := range []string{"a.example", "a.example:80", "[::1]:80", "", "a@b", "a/b", "ü.example", "a..b", "[::1", "1.2.3.4:99999"} {
		f.Add(s)
	}
	h := autotls.RedirectHandler(443)
	f.Fuzz(func(t *testing.T, host string) {
		r := httptest.NewRequest("GET", "http://x/p", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusBadRequest:
		case http.StatusMovedPermanently:
			loc := w.Header().Get("Location")
			u, err := http.NewRequest("GET", loc, nil)
			if err != nil {
				t.Fatalf("Location %q does not parse: %v", loc, err)
			}
			if u.URL.Scheme != "https" || u.URL.User != nil || u.URL.Path != "/p" {
				t.Fatalf("Location %q leaves the host or the path", loc)
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
