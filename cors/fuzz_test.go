package cors_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/cors"
)

// FuzzHandler sends arbitrary Origin and preflight headers through a policy
// and checks the invariants: no panic; Access-Control-Allow-Origin, when
// present, is exactly the one received Origin and that origin is allowed;
// a preflight never reaches the handler; Vary always names Origin.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "https://app.example.com", "", "")
	f.Add("OPTIONS", "https://tenant.example.org", "PUT", "content-type")
	f.Add("OPTIONS", "https://example.org.evil.net", "PUT", "")
	f.Add("GET", "null", "", "")
	f.Add("OPTIONS", "http://localhost:3000", "DELETE", "authorization, x-bad")
	p, err := cors.New(appConfig)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, origin, acrm, acrh string) {
		if !validMethod(method) || strings.ContainsAny(origin+acrm+acrh, "\r\n\x00") {
			return
		}
		r := httptest.NewRequest(method, "https://api.example.com/", nil)
		r.Header.Set("Origin", origin)
		if acrm != "" {
			r.Header.Set("Access-Control-Request-Method", acrm)
		}
		if acrh != "" {
			r.Header.Set("Access-Control-Request-Headers", acrh)
		}
		w := httptest.NewRecorder()
		reached := false
		p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = true
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		})).ServeHTTP(w, r)
		if cors.IsPreflight(r) && reached {
			t.Fatal("preflight reached the handler")
		}
		acao := w.Header().Values("Access-Control-Allow-Origin")
		if len(acao) > 1 || (len(acao) == 1 && acao[0] != origin) {
			t.Fatalf("ACAO %q for origin %q", acao, origin)
		}
		if len(acao) == 1 {
			allowed := origin == "https://app.example.com" || origin == "http://localhost:3000" ||
				(strings.HasPrefix(origin, "https://") && strings.HasSuffix(origin, ".example.org") && len(origin) > len("https://.example.org"))
			if !allowed {
				t.Fatalf("origin %q was allowed", origin)
			}
		}
		if !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
			t.Fatal("Vary: Origin missing")
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
