package stack_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/access"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/clientip"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/ratelimit"
	"github.com/rampartsec/rampart/shield"
	"github.com/rampartsec/rampart/stack"
)

// parts builds every part the way a Go program would, sharing one client
// address resolver.
func parts(t testing.TB) stack.Parts {
	t.Helper()
	ips, err := clientip.New(clientip.Config{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	hdr, err := headers.New(headers.Config{})
	must(err)
	sh, err := shield.New(shield.Config{})
	must(err)
	t.Cleanup(func() { _ = sh.Close() })
	acc, err := access.New(access.Config{DenyIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, Resolver: ips})
	must(err)
	co, err := cors.New(cors.Config{Origins: []string{"https://app.example"}, Credentials: true, Methods: []string{"GET", "POST"}, Headers: []string{"Authorization", "Content-Type"}})
	must(err)
	rl, err := ratelimit.New(ratelimit.Config{Rules: []ratelimit.Rule{{Name: "per-ip", Key: ratelimit.Key{"ip"}, Limit: 3, Per: time.Hour}}, Resolver: ips})
	must(err)
	key := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Identity, error) {
		if r.Header.Get("Authorization") != "Bearer good" {
			return nil, nil
		}
		return &auth.Identity{Subject: "alice", Method: "token"}, nil
	})
	au, err := auth.New(auth.Config{Auth: auth.ModeRequired, Authenticators: []auth.Authenticator{key}})
	must(err)
	cs, err := csrf.New(csrf.Config{})
	must(err)
	return stack.Parts{Headers: hdr, Shield: sh, Access: acc, CORS: co, RateLimit: rl, Auth: au, CSRF: cs}
}

// TestOrder: the order of the package documentation is what the stack
// does, whatever order the parts were built in.
func TestOrder(t *testing.T) {
	t.Parallel()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			http.Error(w, "panic: secret at /srv/app.go:12", 500)
			return
		}
		fmt.Fprint(w, "ok")
	})
	h := parts(t).Handler(app)
	send := func(method, path, peer string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "https://api.example"+path, nil)
		r.RemoteAddr = peer + ":1234"
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	everywhere := func(t *testing.T, w *httptest.ResponseRecorder) {
		t.Helper()
		if w.Header().Get("X-Request-Id") == "" || w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("status %d without request id or security headers: %v", w.Code, w.Header())
		}
	}

	// A preflight is answered by CORS before authentication asks for a
	// credential it cannot carry.
	w := send("OPTIONS", "/items", "198.51.100.1", "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	if w.Code/100 != 2 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("preflight: got %d %v", w.Code, w.Header())
	}
	everywhere(t, w)
	// A refusal by authentication still carries the CORS headers a page
	// needs to read it.
	w = send("GET", "/items", "198.51.100.2", "Origin", "https://app.example")
	if w.Code != 401 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("401 for an allowed origin: got %d %v", w.Code, w.Header())
	}
	everywhere(t, w)
	// A denied address is refused before it is counted or authenticated.
	w = send("GET", "/items", "203.0.113.5", "Authorization", "Bearer good")
	if w.Code != 403 {
		t.Errorf("denied address: got %d", w.Code)
	}
	everywhere(t, w)
	// Rate limits count before authentication: anonymous floods are
	// refused with 429, not answered 401 forever.
	for i := range 5 {
		w = send("GET", "/items", "198.51.100.3")
		if i >= 3 && w.Code != 429 {
			t.Errorf("request %d over the limit: got %d", i+1, w.Code)
		}
	}
	everywhere(t, w)
	// CSRF after authentication: a cross-site post with a valid credential
	// is still refused.
	w = send("POST", "/items", "198.51.100.4", "Authorization", "Bearer good", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if w.Code != 403 {
		t.Errorf("cross-site post: got %d", w.Code)
	}
	// The shield hides what the application leaks.
	w = send("GET", "/boom", "198.51.100.5", "Authorization", "Bearer good")
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("application error: got %d %q", w.Code, w.Body)
	}
	everywhere(t, w)
	w = send("GET", "/items", "198.51.100.6", "Authorization", "Bearer good")
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Errorf("allowed request: got %d %q", w.Code, w.Body)
	}
}

func TestNilPartsSkipped(t *testing.T) {
	t.Parallel()
	h := stack.Parts{}.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || w.Body.String() != "ok" || w.Header().Get("X-Request-Id") == "" {
		t.Errorf("got %d %q %v", w.Code, w.Body, w.Header())
	}
}
