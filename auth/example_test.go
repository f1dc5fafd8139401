package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rampartsec/rampart/auth"
)

func ExamplePolicy_Handler() {
	// Any Authenticator works: a session manager, a token verifier, or
	// this stand-in that trusts an API key.
	apiKey := auth.AuthenticatorFunc(func(r *http.Request) (*auth.Identity, error) {
		if r.Header.Get("X-Api-Key") != "k-123" {
			return nil, nil
		}
		return &auth.Identity{Subject: "ci-bot", Roles: []string{"deployer"}, Method: "token"}, nil
	})
	policy, err := auth.New(auth.Config{
		Auth:           auth.ModeRequired,
		Roles:          []string{"deployer"},
		Authenticators: []auth.Authenticator{apiKey},
	})
	if err != nil {
		panic(err)
	}
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("upstream sees:", r.Header.Get("X-Rampart-User"), r.Header.Get("X-Rampart-Roles"))
	})
	h := policy.Handler(upstream)

	// A forged identity header is stripped; without a credential: 401.
	r := httptest.NewRequest("POST", "/deploy", nil)
	r.Header.Set("X-Rampart-User", "admin")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))

	r = httptest.NewRequest("POST", "/deploy", nil)
	r.Header.Set("X-Api-Key", "k-123")
	r.Header.Set("X-Rampart-User", "admin")
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// 401 Bearer realm="rampart"
	// upstream sees: ci-bot deployer
}

func ExampleRedirects_Sanitize() {
	rd, err := auth.NewRedirects([]string{"https://app.example.com"})
	if err != nil {
		panic(err)
	}
	for _, next := range []string{"/notes?id=3", "https://app.example.com/home", "//evil.com", "/%2F%2Fevil.com", "https:evil.com"} {
		_, ok := rd.Sanitize(next)
		fmt.Println(next, ok)
	}
	// Output:
	// /notes?id=3 true
	// https://app.example.com/home true
	// //evil.com false
	// /%2F%2Fevil.com false
	// https:evil.com false
}
