package headers_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/headers"
)

// sink is a ResponseWriter that keeps one header map, cleared between
// iterations, like a server reusing its buffers.
type sink struct{ h http.Header }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(int)             {}
func (s *sink) Write(b []byte) (int, error) { return len(b), nil }

func benchPolicy(b *testing.B, c headers.Config, app http.Handler) {
	p, err := headers.New(c)
	if err != nil {
		b.Fatal(err)
	}
	h := p.Handler(app)
	r := httptest.NewRequest("GET", "/", nil)
	w := &sink{h: make(http.Header, 32)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })

// leaky sets the headers a typical upstream sends, so removal and override
// are measured too.
var leaky = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = ctype
	h["X-Powered-By"] = poweredBy
	h["Server"] = server
	h["Etag"] = etag
	w.WriteHeader(200)
})

var (
	ctype     = []string{"text/html"}
	poweredBy = []string{"Express"}
	server    = []string{"nginx"}
	etag      = []string{`W/"2-abc"`}
)

func BenchmarkHelmet(b *testing.B)         { benchPolicy(b, headers.Config{}, ok) }
func BenchmarkHelmetLeakyApp(b *testing.B) { benchPolicy(b, headers.Config{}, leaky) }
func BenchmarkStrictNonce(b *testing.B)    { benchPolicy(b, headers.Config{Preset: "strict"}, ok) }
func BenchmarkStrictNoNonce(b *testing.B) {
	no := false
	benchPolicy(b, headers.Config{Preset: "strict", Nonce: &no}, ok)
}
