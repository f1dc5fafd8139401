package issuer_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/issuer"
	"github.com/rampartsec/rampart/auth/token"
)

func TestVerifyValidToken(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	id, err := v.Verify(context.Background(), sign(t, key, jose.RS256, "k1", nil, claims(clk.Now())))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Subject != "user-123" || id.Method != "issuer" || id.Issuer != testIssuer ||
		!slices.Equal(id.Roles, []string{"admin", "ops"}) || !slices.Equal(id.Scopes, []string{"read", "write"}) {
		t.Errorf("got %+v", id)
	}
	if want := t0.Add(10 * time.Minute); !id.Expires.Equal(want) {
		t.Errorf("expires: got %v, want %v", id.Expires, want)
	}
}

// TestVerifyRejectsAttacks covers the JWT bypasses other projects shipped.
func TestVerifyRejectsAttacks(t *testing.T) {
	t.Parallel()
	key, other := rsaKey(t, 0), rsaKey(t, 1)
	ecKey := p256(t)
	p := newIDP(t, jwk(key, "k1", "RS256"), jwk(&ecKey.PublicKey, "ec1", "ES256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, func(c *issuer.Config) { c.Algorithms = []string{"RS256", "ES256"} })
	now := clk.Now()

	// A key server that counts fetches: headers must never send Rampart there.
	var foreignHits atomic.Int64
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(foreign.Close)

	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	with := func(edit func(map[string]any)) map[string]any {
		c := claims(now)
		edit(c)
		return c
	}
	good := func(c map[string]any) string { return sign(t, key, jose.RS256, "k1", nil, c) }
	embedded := func(kid string) string {
		// The attacker's key rides in the header; go-jose will not put a
		// kid next to it, so the header is written by hand.
		pub := other.Public().(*rsa.PublicKey)
		hdr := map[string]any{"alg": "RS256", "jwk": map[string]any{"kty": "RSA",
			"n": b64(pub.N.Bytes()), "e": b64([]byte{1, 0, 1})}}
		if kid != "" {
			hdr["kid"] = kid
		}
		return signRS256(t, other, hdr, claims(now))
	}
	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"valid baseline", good(claims(now)), nil},
		{"valid ES256 with its key", sign(t, ecKey, jose.ES256, "ec1", nil, claims(now)), nil},
		{"aud array", good(with(func(c map[string]any) { c["aud"] = []string{"x", testAudience} })), nil},

		{"alg none", rawJWS(t, map[string]any{"alg": "none", "kid": "k1"}, claims(now), nil), token.ErrAlgorithm},
		{"HS256 with the RSA public key as secret", sign(t, pubPEM, jose.HS256, "k1", nil, claims(now)), token.ErrAlgorithm},
		{"algorithm not pinned (RS512)", sign(t, key, jose.RS512, "k1", nil, claims(now)), token.ErrAlgorithm},
		{"algorithm not pinned (PS256)", sign(t, key, jose.PS256, "k1", nil, claims(now)), token.ErrAlgorithm},
		{"ES256 header on the RSA kid", sign(t, ecKey, jose.ES256, "k1", nil, claims(now)), token.ErrAlgorithm},
		{"unknown kid", sign(t, key, jose.RS256, "no-such-kid", nil, claims(now)), token.ErrUnknownKey},
		{"different key with the same kid", sign(t, other, jose.RS256, "k1", nil, claims(now)), token.ErrSignature},
		{"jku header is never fetched", sign(t, other, jose.RS256, "k1",
			map[jose.HeaderKey]any{"jku": foreign.URL + "/jwks.json"}, claims(now)), token.ErrSignature},
		{"x5u header is never fetched", sign(t, other, jose.RS256, "k1",
			map[jose.HeaderKey]any{"x5u": foreign.URL + "/cert.pem"}, claims(now)), token.ErrSignature},
		{"embedded jwk with a known kid", embedded("k1"), token.ErrSignature},
		// Without a kid, the one configured RS256 key is tried: never the
		// header's.
		{"embedded jwk without kid", embedded(""), token.ErrSignature},
		{"expired", good(with(func(c map[string]any) {
			c["iat"] = now.Add(-time.Hour).Unix()
			c["exp"] = now.Add(-2 * time.Minute).Unix()
		})), token.ErrExpired},
		{"not yet valid", good(with(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), token.ErrNotYetValid},
		{"issued in the future", good(with(func(c map[string]any) {
			c["iat"] = now.Add(5 * time.Minute).Unix()
			c["exp"] = now.Add(20 * time.Minute).Unix()
		})), token.ErrNotYetValid},
		{"wrong audience", good(with(func(c map[string]any) { c["aud"] = "another-api" })), token.ErrAudience},
		{"missing audience", good(with(func(c map[string]any) { delete(c, "aud") })), token.ErrAudience},
		{"wrong issuer", good(with(func(c map[string]any) { c["iss"] = "https://evil.example" })), token.ErrIssuer},
		{"issuer with a trailing slash", good(with(func(c map[string]any) { c["iss"] = testIssuer + "/" })), token.ErrIssuer},
		{"missing exp", good(with(func(c map[string]any) { delete(c, "exp") })), token.ErrMissingClaim},
		{"missing iat", good(with(func(c map[string]any) { delete(c, "iat") })), token.ErrMissingClaim},
		{"missing sub", good(with(func(c map[string]any) { delete(c, "sub") })), token.ErrMissingClaim},
		{"sub with a newline", good(with(func(c map[string]any) { c["sub"] = "bob\r\nX-Rampart-Roles: admin" })), token.ErrMissingClaim},
		{"lifetime over max_lifetime", good(with(func(c map[string]any) { c["exp"] = now.Add(25 * time.Hour).Unix() })), token.ErrLifetime},
		{"near-infinite lifetime", good(with(func(c map[string]any) { c["exp"] = int64(1) << 40 })), token.ErrLifetime},
		{"garbage", "garbage", token.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, err := v.Verify(context.Background(), tc.tok)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want a valid token", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || id != nil {
				t.Fatalf("got %v, %v, want %v", id, err, tc.want)
			}
		})
	}
	t.Cleanup(func() {
		if n := foreignHits.Load(); n != 0 {
			t.Errorf("a header-supplied URL was fetched %d times, want 0", n)
		}
	})
}

// TestPinnedAlgorithmCheckedBeforeKeyLookup shows that a token with an
// unpinned alg never causes a JWKS fetch.
func TestPinnedAlgorithmCheckedBeforeKeyLookup(t *testing.T) {
	t.Parallel()
	p := newIDP(t, jwk(rsaKey(t, 0), "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	for _, tok := range []string{
		sign(t, p256(t), jose.ES256, "random-kid", nil, claims(t0)),
		rawJWS(t, map[string]any{"alg": "none", "kid": "random-kid"}, claims(t0), nil),
		sign(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, "random-kid", nil, claims(t0)),
	} {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, token.ErrAlgorithm) {
			t.Errorf("got %v, want %v", err, token.ErrAlgorithm)
		}
	}
	if n := p.hits.Load(); n != 0 {
		t.Errorf("JWKS fetched %d times, want 0", n)
	}
}

func TestRolesClaim(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	tests := []struct {
		name  string
		claim string
		value map[string]any
		want  []string
	}{
		{"array", "roles", map[string]any{"roles": []string{"admin", "ops"}}, []string{"admin", "ops"}},
		{"space-separated string", "roles", map[string]any{"roles": "admin ops"}, []string{"admin", "ops"}},
		{"single string", "groups", map[string]any{"groups": "admin"}, []string{"admin"}},
		{"nested path (Keycloak)", "realm_access.roles", map[string]any{"realm_access": map[string]any{"roles": []string{"offline_access", "admin"}}}, []string{"offline_access", "admin"}},
		{"deeper path", "resource_access.my-api.roles", map[string]any{"resource_access": map[string]any{"my-api": map[string]any{"roles": []string{"writer"}}}}, []string{"writer"}},
		{"namespaced URL claim (Auth0)", "https://example.com/roles", map[string]any{"https://example.com/roles": []string{"admin"}}, []string{"admin"}},
		{"missing claim", "roles", map[string]any{}, nil},
		{"path through a non-object", "realm_access.roles", map[string]any{"realm_access": "admin"}, nil},
		{"number", "roles", map[string]any{"roles": 7}, nil},
		{"object", "roles", map[string]any{"roles": map[string]any{"admin": true}}, nil},
		{"non-strings dropped", "roles", map[string]any{"roles": []any{"admin", 1, true, nil, []string{"x"}}}, []string{"admin"}},
		{"comma smuggling dropped", "roles", map[string]any{"roles": []string{"viewer,admin", "viewer"}}, []string{"viewer"}},
		{"control characters dropped", "roles", map[string]any{"roles": []string{"a\nb", "ok"}}, []string{"ok"}},
		{"duplicates removed", "roles", map[string]any{"roles": []string{"a", "a", "b"}}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, p, clk, func(c *issuer.Config) { c.RolesClaim = tc.claim })
			c := claims(t0)
			delete(c, "roles")
			for k, val := range tc.value {
				c[k] = val
			}
			id, err := v.Verify(context.Background(), sign(t, key, jose.RS256, "k1", nil, c))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(id.Roles, tc.want) {
				t.Errorf("got %q, want %q", id.Roles, tc.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	for name, tc := range map[string]struct {
		claims map[string]any
		want   []string
	}{
		"scope string": {map[string]any{"scope": "read write"}, []string{"read", "write"}},
		"scp array":    {map[string]any{"scp": []string{"read", "write"}}, []string{"read", "write"}},
		"none":         {map[string]any{}, nil},
	} {
		c := claims(t0)
		delete(c, "scope")
		for k, val := range tc.claims {
			c[k] = val
		}
		id, err := v.Verify(context.Background(), sign(t, key, jose.RS256, "k1", nil, c))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(id.Scopes, tc.want) {
			t.Errorf("%s: got %q, want %q", name, id.Scopes, tc.want)
		}
	}
}

func TestStaticPublicKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := writePublicPEM(t, dir, "idp.pem", edPub)
	clk := &clock{t: t0}
	v, err := issuer.New(issuer.Config{Issuer: testIssuer, PublicKey: path, Audience: testAudience,
		Algorithms: []string{"EdDSA"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The kid, whatever it is, selects nothing: there is one key.
	for _, kid := range []string{"", "anything"} {
		if _, err := v.Verify(context.Background(), sign(t, edPriv, jose.EdDSA, kid, nil, claims(t0))); err != nil {
			t.Errorf("kid %q: got %v, want nil", kid, err)
		}
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := v.Verify(context.Background(), sign(t, otherPriv, jose.EdDSA, "", nil, claims(t0))); !errors.Is(err, token.ErrSignature) {
		t.Errorf("other key: got %v, want %v", err, token.ErrSignature)
	}
	if err := v.Refresh(context.Background()); err != nil {
		t.Errorf("Refresh with a static key: got %v, want nil", err)
	}
}

// signRS256 signs an arbitrary header by hand with RSA PKCS #1 v1.5, for
// headers go-jose will not produce (a kid next to an embedded jwk).
func signRS256(t testing.TB, key *rsa.PrivateKey, header, c map[string]any) string {
	t.Helper()
	unsigned := rawJWS(t, header, c, nil)
	input := unsigned[:len(unsigned)-1] // drop the trailing "."
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// writePublicPEM writes a PKIX public key PEM file.
func writePublicPEM(t testing.TB, dir, name string, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func rawJWS(t testing.TB, header, c map[string]any, sig []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b64(h) + "." + b64(p) + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
