package issuer_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/issuer"
	"github.com/rampartsec/rampart/auth/token"
)

// TestJWKSRefreshIsRateLimited floods the verifier with random kids and
// counts the requests that reach the identity provider.
func TestJWKSRefreshIsRateLimited(t *testing.T) {
	t.Parallel()
	key, next := rsaKey(t, 0), rsaKey(t, 1)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	var fetches []string
	var mu sync.Mutex
	v := newVerifier(t, p, clk, func(c *issuer.Config) {
		c.OnDecision = func(op, outcome string) {
			if op == "jwks_fetch" {
				mu.Lock()
				fetches = append(fetches, outcome)
				mu.Unlock()
			}
		}
	})
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, key, jose.RS256, "k1", nil, claims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("first token: %d fetches, want 1", n)
	}
	flood := func(n int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := sign(t, key, jose.RS256, fmt.Sprintf("random-%d-%d", clk.Now().Unix(), i), nil, claims(clk.Now()))
				if _, err := v.Verify(ctx, tok); !errors.Is(err, token.ErrUnknownKey) {
					t.Errorf("random kid: got %v, want %v", err, token.ErrUnknownKey)
				}
			}()
		}
		wg.Wait()
	}
	// Within the minimum interval of the first fetch: nothing reaches the
	// provider.
	flood(200)
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("after 200 random kids: %d fetches, want 1", n)
	}
	// Past the interval: one fetch for the whole flood.
	clk.Advance(31 * time.Second)
	flood(200)
	if n := p.hits.Load(); n != 2 {
		t.Fatalf("after a second flood: %d fetches, want 2", n)
	}
	// The provider rotates: a token with the new kid is accepted once the
	// interval allows a fetch, without a restart.
	p.setKeys(t, jwk(key, "k1", "RS256"), jwk(next, "k2", "RS256"))
	rotated := sign(t, next, jose.RS256, "k2", nil, claims(clk.Now()))
	if _, err := v.Verify(ctx, rotated); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("new kid inside the interval: got %v, want %v", err, token.ErrUnknownKey)
	}
	clk.Advance(31 * time.Second)
	if _, err := v.Verify(ctx, sign(t, next, jose.RS256, "k2", nil, claims(clk.Now()))); err != nil {
		t.Fatalf("new kid after the interval: %v", err)
	}
	if n := p.hits.Load(); n != 3 {
		t.Fatalf("after rotation: %d fetches, want 3", n)
	}
	// Known kids never cause a fetch.
	for range 50 {
		if _, err := v.Verify(ctx, sign(t, key, jose.RS256, "k1", nil, claims(clk.Now()))); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.hits.Load(); n != 3 {
		t.Fatalf("known kids: %d fetches, want 3", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(fetches, " ") != "ok ok ok" {
		t.Errorf("fetch decisions: got %q, want three ok", fetches)
	}
}

// TestJWKSFirstFetchIsShared starts many requests on a cold verifier: they
// share one fetch.
func TestJWKSFirstFetchIsShared(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	tok := sign(t, key, jose.RS256, "k1", nil, claims(clk.Now()))
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		}()
	}
	wg.Wait()
	if n := p.hits.Load(); n != 1 {
		t.Errorf("got %d fetches, want 1", n)
	}
}

func TestJWKSCacheTTL(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, func(c *issuer.Config) { c.JWKSCacheTTL = 10 * time.Minute })
	verify := func() error {
		_, err := v.Verify(context.Background(), sign(t, key, jose.RS256, "k1", nil, claims(clk.Now())))
		return err
	}
	if err := verify(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(9 * time.Minute)
	if err := verify(); err != nil || p.hits.Load() != 1 {
		t.Fatalf("inside the TTL: got %v with %d fetches, want nil with 1", err, p.hits.Load())
	}
	// The provider withdraws the key: after the TTL, the next fetch applies
	// the removal (an empty JWKS is authoritative).
	p.setKeys(t)
	clk.Advance(2 * time.Minute)
	if err := verify(); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("withdrawn key: got %v, want %v", err, token.ErrUnknownKey)
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("got %d fetches, want 2", n)
	}
}

func TestJWKSStaleKeysDuringOutage(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	verify := func() error {
		_, err := v.Verify(context.Background(), sign(t, key, jose.RS256, "k1", nil, claims(clk.Now())))
		return err
	}
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.setBody([]byte("down for maintenance"), http.StatusServiceUnavailable)
	clk.Advance(2 * time.Hour) // past the cache TTL: a fetch is tried and fails
	if err := verify(); err != nil {
		t.Fatalf("during a short outage: got %v, want the stale keys to work", err)
	}
	clk.Advance(issuer.JWKSMaxStale)
	if err := verify(); !errors.Is(err, issuer.ErrKeysUnavailable) {
		t.Fatalf("after JWKSMaxStale: got %v, want %v", err, issuer.ErrKeysUnavailable)
	}
	// The provider comes back: keys work again once a fetch is allowed.
	p.setKeys(t, jwk(key, "k1", "RS256"))
	clk.Advance(time.Minute)
	if err := verify(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestJWKSFetchFailures(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	good, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk(&key.PublicKey, "k1", "RS256")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		edit    func(*issuer.Config)
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) }, nil},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }, nil},
		{"no keys member", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"kids":[]}`)) }, nil},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(good[:len(good)-1])
			_, _ = w.Write([]byte(`,"padding":"` + strings.Repeat("x", 2048) + `"}`))
		}, func(c *issuer.Config) { c.JWKSMaxBytes = 1024 }},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/moved" {
				_, _ = w.Write(good)
				return
			}
			http.Redirect(w, r, "/moved", http.StatusFound)
		}, nil},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, func(c *issuer.Config) { c.JWKSTimeout = 200 * time.Millisecond }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			clk := &clock{t: t0}
			c := issuer.Config{Issuer: testIssuer, JWKSURL: srv.URL + "/jwks", Audience: testAudience,
				Algorithms: []string{"RS256"}, Now: clk.Now}
			if tc.edit != nil {
				tc.edit(&c)
			}
			v, err := issuer.New(c)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := v.Refresh(context.Background()); err == nil {
				t.Fatal("Refresh: got nil, want an error")
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("fetch took %s, want it bounded by the timeout", elapsed)
			}
			_, err = v.Verify(context.Background(), sign(t, key, jose.RS256, "k1", nil, claims(clk.Now())))
			if !errors.Is(err, issuer.ErrKeysUnavailable) {
				t.Errorf("Verify: got %v, want %v", err, issuer.ErrKeysUnavailable)
			}
		})
	}
}

// TestJWKSKeyFiltering serves a JWKS full of keys that must not be used,
// next to one good key.
func TestJWKSKeyFiltering(t *testing.T) {
	t.Parallel()
	good, rs512, weakKey := rsaKey(t, 0), rsaKey(t, 1), weakRSA(t)
	ec := p256(t)
	privJWK, err := json.Marshal(jwk(rsaKey(t, 2), "private", "RS256")) // includes "d"
	if err != nil {
		t.Fatal(err)
	}
	keys := []json.RawMessage{
		mustJSON(t, jwk(&good.PublicKey, "good", "RS256")),
		privJWK,
		json.RawMessage(`{"kty":"oct","kid":"hmac","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`),
		mustJSON(t, jose.JSONWebKey{Key: &rs512.PublicKey, KeyID: "rs512", Algorithm: "RS512", Use: "sig"}),
		mustJSON(t, jose.JSONWebKey{Key: &rs512.PublicKey, KeyID: "enc", Use: "enc"}),
		mustJSON(t, jose.JSONWebKey{Key: &weakKey.PublicKey, KeyID: "weak", Use: "sig"}),
		mustJSON(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec", Use: "sig"}),
		json.RawMessage(`{"kty":"XYZ","kid":"odd"}`),
	}
	body, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	p := newIDP(t)
	p.setBody(body, 200)
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	ctx := context.Background()
	if _, err := v.Verify(ctx, sign(t, good, jose.RS256, "good", nil, claims(t0))); err != nil {
		t.Fatalf("good key: %v", err)
	}
	for _, tc := range []struct {
		kid string
		key any
	}{{"private", rsaKey(t, 2)}, {"rs512", rs512}, {"enc", rs512}, {"weak", weakKey}} {
		if _, err := v.Verify(ctx, sign(t, tc.key, jose.RS256, tc.kid, nil, claims(t0))); !errors.Is(err, token.ErrUnknownKey) {
			t.Errorf("kid %s: got %v, want %v", tc.kid, err, token.ErrUnknownKey)
		}
	}
}

func weakRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifiedTokensFollowTheKeys shows that remembering verified tokens
// never outlives the key that signed them, nor the tokens' expiry.
func TestVerifiedTokensFollowTheKeys(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, func(c *issuer.Config) { c.JWKSCacheTTL = 10 * time.Minute })
	c := claims(t0)
	c["exp"] = t0.Add(time.Hour).Unix()
	tok := sign(t, key, jose.RS256, "k1", nil, c)
	ctx := context.Background()
	for range 3 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	// The provider withdraws the key. Within the cache TTL the token is
	// still accepted (the keys are not fetched again before then)...
	p.setKeys(t)
	clk.Advance(5 * time.Minute)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("inside the key cache TTL: got %v, want nil", err)
	}
	// ...and after it, the same token is refused: the refetched keys no
	// longer include its key, and nothing remembered lets it through.
	clk.Advance(6 * time.Minute)
	if _, err := v.Verify(ctx, tok); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("after the key was withdrawn: got %v, want %v", err, token.ErrUnknownKey)
	}
}

func TestVerifiedTokensExpire(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	tok := sign(t, key, jose.RS256, "k1", nil, claims(t0)) // expires at t0+10m
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10*time.Minute + 59*time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("within the clock skew: got %v, want nil", err)
	}
	clk.Advance(2 * time.Second)
	if _, err := v.Verify(ctx, tok); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("after expiry: got %v, want %v", err, token.ErrExpired)
	}
}
