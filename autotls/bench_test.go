package autotls_test

import (
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/autotls"
)

// BenchmarkRedirectHandler measures the plain-HTTP listener's answer to an
// ordinary request: every visitor typing the bare host name pays it once.
func BenchmarkRedirectHandler(b *testing.B) {
	h := autotls.RedirectHandler(8443)
	r := httptest.NewRequest("GET", "http://app.example.com/some/path?q=1", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
	}
}
