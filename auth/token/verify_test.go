package token_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
)

func TestVerifyIssuedToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	p := f.issue(t, "alice", "admin", "ops")
	id, err := f.m.Verify(context.Background(), p.AccessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Subject != "alice" || !id.HasRole("admin") || !id.HasRole("ops") || id.Method != "token" {
		t.Errorf("got %+v, want alice with roles admin, ops", id)
	}
	if want := t0.Add(15 * time.Minute); !id.Expires.Equal(want) {
		t.Errorf("expires: got %v, want %v", id.Expires, want)
	}
	if p.TokenType != "Bearer" || p.ExpiresIn != 900 {
		t.Errorf("pair: got %q %d, want Bearer 900", p.TokenType, p.ExpiresIn)
	}
}

// TestVerifyRejectsAttacks covers the JWT attacks other libraries shipped
// bugs for: alg none, key confusion, kid games, header-supplied keys, and
// every claim rule.
func TestVerifyRejectsAttacks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pub := f.key.Public().(ed25519.PublicKey)
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	attacker := newEd25519(t)

	// A key server that counts fetches: nothing may ever reach it.
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(srv.Close)

	with := func(edit func(map[string]any)) map[string]any {
		c := f.claims()
		edit(c)
		return c
	}
	good := func(claims map[string]any) string {
		return mint(t, f.key, jose.EdDSA, f.kid, token.AccessTokenType, nil, claims)
	}
	now := f.clock.Now()
	tests := []struct {
		name string
		tok  string
		want error // nil: must verify
	}{
		{"valid baseline", good(f.claims()), nil},
		{"aud as array", good(with(func(c map[string]any) { c["aud"] = []string{"other", "rampart"} })), nil},
		{"expired within clock skew", good(with(func(c map[string]any) {
			c["iat"] = now.Add(-10 * time.Minute).Unix()
			c["exp"] = now.Add(-30 * time.Second).Unix()
		})), nil},

		{"alg none", rawJWS(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": f.kid}, f.claims(), nil), token.ErrAlgorithm},
		{"alg None", rawJWS(t, map[string]any{"alg": "None", "typ": "at+jwt", "kid": f.kid}, f.claims(), nil), token.ErrAlgorithm},
		{"HS256 with the public key PEM as secret", mint(t, pubPEM, jose.HS256, f.kid, token.AccessTokenType, nil, f.claims()), token.ErrAlgorithm},
		{"HS256 with the raw public key as secret", mint(t, []byte(pub), jose.HS256, f.kid, token.AccessTokenType, nil, f.claims()), token.ErrAlgorithm},
		{"ES256 header on an Ed25519 kid", mint(t, newP256(t), jose.ES256, f.kid, token.AccessTokenType, nil, f.claims()), token.ErrAlgorithm},
		{"RS256 not pinned", rawJWS(t, map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": f.kid}, f.claims(), []byte("sig")), token.ErrAlgorithm},
		{"unknown kid", mint(t, f.key, jose.EdDSA, "no-such-key", token.AccessTokenType, nil, f.claims()), token.ErrUnknownKey},
		{"no kid", mint(t, f.key, jose.EdDSA, "", token.AccessTokenType, nil, f.claims()), token.ErrUnknownKey},
		{"different key with the same kid", mint(t, attacker, jose.EdDSA, f.kid, token.AccessTokenType, nil, f.claims()), token.ErrSignature},
		{"jku header is never fetched", mint(t, attacker, jose.EdDSA, f.kid, token.AccessTokenType,
			map[jose.HeaderKey]any{"jku": srv.URL + "/jwks.json"}, f.claims()), token.ErrSignature},
		{"x5u header is never fetched", mint(t, attacker, jose.EdDSA, f.kid, token.AccessTokenType,
			map[jose.HeaderKey]any{"x5u": srv.URL + "/cert.pem"}, f.claims()), token.ErrSignature},
		{"embedded jwk with our kid is ignored", signEd25519(t, attacker, map[string]any{
			"alg": "EdDSA", "typ": "at+jwt", "kid": f.kid,
			"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(attacker.Public().(ed25519.PublicKey))},
		}, f.claims()), token.ErrSignature},
		{"embedded jwk without kid is ignored", signEd25519(t, attacker, map[string]any{
			"alg": "EdDSA", "typ": "at+jwt",
			"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(attacker.Public().(ed25519.PublicKey))},
		}, f.claims()), token.ErrUnknownKey},
		{"typ missing", mint(t, f.key, jose.EdDSA, f.kid, "", nil, f.claims()), token.ErrType},
		{"typ JWT (an ID token)", mint(t, f.key, jose.EdDSA, f.kid, "JWT", nil, f.claims()), token.ErrType},
		{"expired", good(with(func(c map[string]any) {
			c["iat"] = now.Add(-10 * time.Minute).Unix()
			c["exp"] = now.Add(-2 * time.Minute).Unix()
		})), token.ErrExpired},
		{"not yet valid", good(with(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), token.ErrNotYetValid},
		{"issued in the future", good(with(func(c map[string]any) {
			c["iat"] = now.Add(5 * time.Minute).Unix()
			c["exp"] = now.Add(10 * time.Minute).Unix()
		})), token.ErrNotYetValid},
		{"wrong audience", good(with(func(c map[string]any) { c["aud"] = "billing" })), token.ErrAudience},
		{"no audience", good(with(func(c map[string]any) { delete(c, "aud") })), token.ErrAudience},
		{"wrong issuer", good(with(func(c map[string]any) { c["iss"] = "https://evil.example" })), token.ErrIssuer},
		{"missing exp", good(with(func(c map[string]any) { delete(c, "exp") })), token.ErrMissingClaim},
		{"missing iat", good(with(func(c map[string]any) { delete(c, "iat") })), token.ErrMissingClaim},
		{"missing sub", good(with(func(c map[string]any) { delete(c, "sub") })), token.ErrMissingClaim},
		{"missing jti", good(with(func(c map[string]any) { delete(c, "jti") })), token.ErrMissingClaim},
		{"lifetime over the access TTL", good(with(func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() })), token.ErrLifetime},
		{"near-infinite lifetime", good(with(func(c map[string]any) { c["exp"] = int64(1) << 40 })), token.ErrLifetime},
		{"exp before iat", good(with(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })), token.ErrLifetime},
		{"exp as a string", good(with(func(c map[string]any) { c["exp"] = "4102444800" })), token.ErrMalformed},
		{"two segments", "eyJhbGciOiJFZERTQSJ9.e30", token.ErrMalformed},
		{"four segments", good(f.claims()) + ".x", token.ErrMalformed},
		{"garbage", "not a token", token.ErrMalformed},
		{"unknown critical header", mint(t, f.key, jose.EdDSA, f.kid, token.AccessTokenType,
			map[jose.HeaderKey]any{"crit": []string{"exp-extension"}, "exp-extension": true}, f.claims()), token.ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, err := f.m.Verify(context.Background(), tc.tok)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want a valid token", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if id != nil {
				t.Errorf("got identity %+v with an error", id)
			}
		})
	}
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("key server was fetched %d times, want 0", n)
		}
	})
}

func TestVerifyAfterExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	p := f.issue(t, "alice")
	f.clock.Advance(15*time.Minute + 59*time.Second)
	if _, err := f.m.Verify(context.Background(), p.AccessToken); err != nil {
		t.Fatalf("within skew: got %v, want nil", err)
	}
	f.clock.Advance(2 * time.Second)
	if _, err := f.m.Verify(context.Background(), p.AccessToken); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("got %v, want %v", err, token.ErrExpired)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	oldKey, newKey := newEd25519(t), newP256(t)
	oldPath, newPath := writePEM(t, dir, "old.pem", oldKey), writePEM(t, dir, "new.pem", newKey)
	clk := newClock()
	store := token.NewMemoryStore()
	cfg := func(sign string, verify ...string) token.Config {
		return token.Config{AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, SigningKey: sign,
			VerificationKeys: verify, Store: store, Now: clk.Now}
	}
	before, err := token.New(cfg(oldPath))
	if err != nil {
		t.Fatal(err)
	}
	oldPair, err := before.Issue(context.Background(), identity("alice"))
	if err != nil {
		t.Fatal(err)
	}
	// Step 2 of a rotation: new key signs, old key still verifies.
	after, err := token.New(cfg(newPath, oldPath))
	if err != nil {
		t.Fatal(err)
	}
	if after.SigningKeyID() == before.SigningKeyID() {
		t.Fatal("new signing key has the old kid")
	}
	newPair, err := after.Issue(context.Background(), identity("bob"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"old": oldPair.AccessToken, "new": newPair.AccessToken} {
		if _, err := after.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s token after rotation: got %v, want nil", name, err)
		}
	}
	// The old manager never learnt the new key.
	if _, err := before.Verify(context.Background(), newPair.AccessToken); !errors.Is(err, token.ErrAlgorithm) {
		t.Errorf("new token on old config: got %v, want %v", err, token.ErrAlgorithm)
	}
	// Step 3: the old key is gone; its tokens no longer verify.
	done, err := token.New(cfg(newPath))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := done.Verify(context.Background(), oldPair.AccessToken); !errors.Is(err, token.ErrAlgorithm) {
		t.Errorf("old token after removal: got %v, want %v", err, token.ErrAlgorithm)
	}
	if _, err := done.Verify(context.Background(), newPair.AccessToken); err != nil {
		t.Errorf("new token after removal: got %v", err)
	}
}

func TestKeyIDIsStableAcrossReplicas(t *testing.T) {
	t.Parallel()
	path := writePEM(t, t.TempDir(), "k.pem", newEd25519(t))
	a, err := token.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := token.LoadKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.ID == "" {
		t.Errorf("got kids %q and %q, want equal and non-empty", a.ID, b.ID)
	}
}

// TestRejectionsAreInvalidCredentials: every reason a token is refused is a
// bad credential to the route rules (401), never a system failure (503).
func TestRejectionsAreInvalidCredentials(t *testing.T) {
	t.Parallel()
	for _, err := range []error{token.ErrMalformed, token.ErrAlgorithm, token.ErrUnknownKey, token.ErrSignature,
		token.ErrType, token.ErrIssuer, token.ErrAudience, token.ErrMissingClaim, token.ErrExpired,
		token.ErrNotYetValid, token.ErrLifetime, token.ErrRevoked} {
		if !errors.Is(fmt.Errorf("wrapped: %w", err), auth.ErrInvalidCredential) {
			t.Errorf("%v does not wrap auth.ErrInvalidCredential", err)
		}
	}
}
