package csrf_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/csrf"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func benchHandler(b *testing.B, p *csrf.Protection, r *http.Request) {
	h := p.Handler(ok)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkOriginSecFetchSite(b *testing.B) {
	r := httptest.NewRequest("POST", "https://app.example.com/items", nil)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Origin", "https://app.example.com")
	benchHandler(b, mustNew(b, csrf.Config{}), r)
}

func BenchmarkOriginHeader(b *testing.B) {
	r := httptest.NewRequest("POST", "https://app.example.com/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	benchHandler(b, mustNew(b, csrf.Config{TrustedOrigins: []string{"https://*.example.org"}}), r)
}

func BenchmarkOriginReferer(b *testing.B) {
	r := httptest.NewRequest("POST", "https://app.example.com/items", nil)
	r.Header.Set("Referer", "https://app.example.com/form")
	benchHandler(b, mustNew(b, csrf.Config{}), r)
}

func BenchmarkOriginTrusted(b *testing.B) {
	r := httptest.NewRequest("POST", "https://app.example.com/items", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://eu.example.org")
	benchHandler(b, mustNew(b, csrf.Config{TrustedOrigins: []string{"https://*.example.org"}}), r)
}

func BenchmarkSafeMethod(b *testing.B) {
	benchHandler(b, mustNew(b, csrf.Config{}), httptest.NewRequest("GET", "https://app.example.com/items", nil))
}

func BenchmarkOriginRejected(b *testing.B) {
	r := httptest.NewRequest("POST", "https://app.example.com/items", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	benchHandler(b, mustNew(b, csrf.Config{}), r)
}

func BenchmarkTokenHeader(b *testing.B) {
	p := mustNew(b, csrf.Config{Mode: csrf.ModeToken, Key: testKey, SessionID: sessionFromHeader})
	r := httptest.NewRequest("POST", "https://app.example.com/items", nil)
	r.Header.Set("X-Test-Session", "session-1")
	tok := p.Rotate(httptest.NewRecorder(), r, "session-1")
	r.Header.Set("X-CSRF-Token", tok)
	benchHandler(b, p, r)
}
