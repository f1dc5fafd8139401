package cors_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/cors"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })

func bench(b *testing.B, c cors.Config, r *http.Request) {
	p, err := cors.New(c)
	if err != nil {
		b.Fatal(err)
	}
	h := p.Handler(ok)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkSimpleAllowed(b *testing.B) {
	r := httptest.NewRequest("GET", "/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	bench(b, appConfig, r)
}

func BenchmarkSimpleAllowedPattern(b *testing.B) {
	r := httptest.NewRequest("GET", "/items", nil)
	r.Header.Set("Origin", "https://tenant.example.org")
	bench(b, appConfig, r)
}

func BenchmarkSimpleRefused(b *testing.B) {
	r := httptest.NewRequest("GET", "/items", nil)
	r.Header.Set("Origin", "https://evil.example.net")
	bench(b, appConfig, r)
}

func BenchmarkNotCORS(b *testing.B) {
	bench(b, appConfig, httptest.NewRequest("GET", "/items", nil))
}

func BenchmarkPreflightAllowed(b *testing.B) {
	r := httptest.NewRequest("OPTIONS", "/items", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	bench(b, appConfig, r)
}

func BenchmarkPreflightRefused(b *testing.B) {
	r := httptest.NewRequest("OPTIONS", "/items", nil)
	r.Header.Set("Origin", "https://evil.example.net")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	bench(b, appConfig, r)
}
