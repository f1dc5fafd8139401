package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rampartsec/rampart/auth"
)

var benchID = &auth.Identity{Subject: "alice", Roles: []string{"admin"}, Method: "session"}

func BenchmarkPolicyAllowed(b *testing.B) {
	a := auth.AuthenticatorFunc(func(*http.Request) (*auth.Identity, error) { return benchID, nil })
	h := mustPolicy(b, auth.Config{Roles: []string{"admin"}, Authenticators: []auth.Authenticator{a}}).
		Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/admin", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "bench")
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkPolicyNone(b *testing.B) {
	h := mustPolicy(b, auth.Config{Auth: auth.ModeNone}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "bench")
	r.Header.Set("Cookie", "a=b")
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkRedirectsSanitize(b *testing.B) {
	rd, _ := auth.NewRedirects([]string{"https://app.example.com"})
	b.ReportAllocs()
	for b.Loop() {
		_, _ = rd.Sanitize("/notes/7?sort=asc")
	}
}
