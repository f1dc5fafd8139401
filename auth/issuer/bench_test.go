package issuer_test

import (
	"context"
	"net/http/httptest"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/issuer"
)

// BenchmarkVerify measures verifying one external token per request with a
// warm JWKS cache, for the common provider algorithms: "first" is a token's
// first verification (signature and claims), "again" every later request
// with the same token (expiry only).
func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct {
		name string
		alg  jose.SignatureAlgorithm
		key  func(testing.TB) any
	}{
		{"RS256", jose.RS256, func(tb testing.TB) any { return rsaKey(tb, 0) }},
		{"ES256", jose.ES256, func(tb testing.TB) any { return p256(tb) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			key := tc.key(b)
			p := newIDP(b, jwk(key, "k1", string(tc.alg)))
			clk := &clock{t: t0}
			v := newVerifier(b, p, clk, func(c *issuer.Config) {
				c.Algorithms = []string{string(tc.alg)}
				c.RolesClaim = "realm_access.roles"
			})
			c := claims(t0)
			c["realm_access"] = map[string]any{"roles": []string{"admin", "ops"}}
			tok := sign(b, key, tc.alg, "k1", nil, c)
			ctx := context.Background()
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.Run("first", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := v.VerifyUncached(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("again", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkSetAuthenticate is the whole per-request path through a Set:
// header parsing, routing by issuer, verification.
func BenchmarkSetAuthenticate(b *testing.B) {
	key := rsaKey(b, 0)
	p := newIDP(b, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(b, p, clk, nil)
	set, err := issuer.NewSet(v)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+sign(b, key, jose.RS256, "k1", nil, claims(t0)))
	b.ReportAllocs()
	for b.Loop() {
		if id, err := set.Authenticate(r); err != nil || id == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectUnknownKid measures refusing a flood of random kids once
// the refresh interval has been used: no network, no signature check.
func BenchmarkRejectUnknownKid(b *testing.B) {
	key := rsaKey(b, 0)
	p := newIDP(b, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(b, p, clk, nil)
	if err := v.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	tok := sign(b, key, jose.RS256, "random", nil, claims(t0))
	ctx := context.Background()
	_, _ = v.Verify(ctx, tok) // uses up the refresh interval
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err == nil {
			b.Fatal("accepted")
		}
	}
	if p.hits.Load() > 2 {
		b.Fatalf("%d fetches", p.hits.Load())
	}
}
