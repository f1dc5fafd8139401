package shield_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/shield"
)

type sink struct{ h http.Header }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(int)             {}
func (s *sink) Write(b []byte) (int, error) { return len(b), nil }

var page = []byte("<!doctype html><title>ok</title><p>hello</p>")

func bench(b *testing.B, wrap bool, status int) {
	s, err := shield.New(shield.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write(page)
	})
	if wrap {
		h = s.Handler(h)
	}
	r := httptest.NewRequest("GET", "/", nil)
	w := &sink{h: http.Header{"Content-Type": {"text/html"}, "X-Request-Id": {"01j"}}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// BenchmarkBare and BenchmarkShield2xx measure the shield's cost on the
// path that matters: successful responses pass through.
func BenchmarkBare(b *testing.B)      { bench(b, false, 200) }
func BenchmarkShield2xx(b *testing.B) { bench(b, true, 200) }
func BenchmarkShield404(b *testing.B) { bench(b, true, 404) }
