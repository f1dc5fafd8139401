package issuer_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/issuer"
)

// Example protects an API with tokens from an external identity provider,
// here a stand-in that publishes its JWKS on a local server.
func Example() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &key.PublicKey, KeyID: "2030-01", Algorithm: "RS256", Use: "sig"},
	}})
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(jwks)
	}))
	defer idp.Close()

	v, err := issuer.New(issuer.Config{
		Issuer:     "https://idp.example.com/realms/main",
		JWKSURL:    idp.URL + "/protocol/openid-connect/certs",
		Audience:   "my-api",
		Algorithms: []string{"RS256"},
		RolesClaim: "realm_access.roles",
	})
	if err != nil {
		panic(err)
	}
	api := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := auth.FromContext(r.Context())
		fmt.Fprintf(w, "%s %v", id.Subject, id.Roles)
	}))

	// The provider issues a token.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256,
		Key: jose.JSONWebKey{Key: key, KeyID: "2030-01"}}, nil)
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://idp.example.com/realms/main", "aud": "my-api", "sub": "alice",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"realm_access": map[string]any{"roles": []string{"admin"}},
	})
	jws, _ := signer.Sign(claims)
	tok, _ := jws.CompactSerialize()

	_ = v.Refresh(context.Background()) // optional: fetch the keys before the first request
	r := httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)
	// Output:
	// 200 alice [admin]
}
