package token_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
)

func benchManager(b *testing.B, key any, edit func(*token.Config)) (*token.Manager, string) {
	b.Helper()
	path := writePEM(b, b.TempDir(), "k.pem", key)
	clk := newClock()
	c := token.Config{AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour, SigningKey: path, Store: token.NewMemoryStore(), Now: clk.Now}
	if edit != nil {
		edit(&c)
	}
	m, err := token.New(c)
	if err != nil {
		b.Fatal(err)
	}
	p, err := m.Issue(context.Background(), &auth.Identity{Subject: "alice", Roles: []string{"admin", "ops"}, Scopes: []string{"read", "write"}})
	if err != nil {
		b.Fatal(err)
	}
	return m, p.AccessToken
}

// BenchmarkVerify measures verifying one access token per request, as the
// route rules do, for each signing algorithm. A client sends the same token
// until it expires, so after the first request the verified-token cache
// answers (and still checks the expiry).
func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  func(testing.TB) any
	}{
		{"EdDSA", func(tb testing.TB) any { return newEd25519(tb) }},
		{"ES256", func(tb testing.TB) any { return newP256(tb) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, tok := benchManager(b, tc.key(b), nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyFirstTime measures a token's first verification, which the
// cache cannot help: parsing, signature, claims.
func BenchmarkVerifyFirstTime(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  func(testing.TB) any
	}{
		{"EdDSA", func(tb testing.TB) any { return newEd25519(tb) }},
		{"ES256", func(tb testing.TB) any { return newP256(tb) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, tok := benchManager(b, tc.key(b), nil)
			b.ReportAllocs()
			for b.Loop() {
				if err := m.VerifyUncached(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthenticate is the whole per-request path: header parsing,
// issuer routing and verification.
func BenchmarkAuthenticate(b *testing.B) {
	m, tok := benchManager(b, newEd25519(b), nil)
	r := httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		if id, err := m.Authenticate(r); err != nil || id == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyWithRevocationList adds the store lookup (memory store).
func BenchmarkVerifyWithRevocationList(b *testing.B) {
	m, tok := benchManager(b, newEd25519(b), func(c *token.Config) { c.RevocationList = true })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectAlgNone measures the cost of refusing an unsigned token,
// which must be far cheaper than a signature check.
func BenchmarkRejectAlgNone(b *testing.B) {
	m, _ := benchManager(b, newEd25519(b), nil)
	tok := rawJWS(b, map[string]any{"alg": "none", "typ": "at+jwt"}, map[string]any{"sub": "x"}, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, tok); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkIssueAndRefresh measures a login and a refresh on the memory
// store: signing, hashing and rotation.
func BenchmarkIssueAndRefresh(b *testing.B) {
	m, _ := benchManager(b, newEd25519(b), nil)
	ctx := context.Background()
	id := &auth.Identity{Subject: "alice", Roles: []string{"admin"}}
	b.ReportAllocs()
	for b.Loop() {
		p, err := m.Issue(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Refresh(ctx, p.RefreshToken); err != nil {
			b.Fatal(err)
		}
	}
}
