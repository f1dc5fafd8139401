package token_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
)

// Example shows a Go API protected by Rampart's access tokens: a login
// issues a pair, the API accepts the access token, a refresh rotates the
// refresh token, and replaying the old one after its successor was used
// revokes the family.
func Example() {
	// A signing key, as made by: openssl genpkey -algorithm ed25519.
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyFile := filepath.Join(dir, "jwt-ed25519.pem")
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)

	tokens, err := token.New(token.Config{
		AccessTTL:  15 * time.Minute,
		RefreshTTL: 30 * 24 * time.Hour,
		SigningKey: keyFile,
		Store:      token.NewMemoryStore(), // sqlstore.New or redisstore.New in production
	})
	if err != nil {
		panic(err)
	}
	api := tokens.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", auth.FromContext(r.Context()).Subject)
	}))

	ctx := context.Background()
	pair, _ := tokens.Issue(ctx, &auth.Identity{Subject: "alice", Roles: []string{"admin"}})

	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)

	next, _ := tokens.Refresh(ctx, pair.RefreshToken)
	next, _ = tokens.Refresh(ctx, next.RefreshToken)
	_, err = tokens.Refresh(ctx, pair.RefreshToken) // replayed
	fmt.Println(err)
	_, err = tokens.Refresh(ctx, next.RefreshToken) // the family is gone
	fmt.Println(err)
	// Output:
	// 200 hello alice
	// token: refresh token reused; family revoked
	// token: invalid refresh token
}
