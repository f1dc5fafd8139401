package issuer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/issuer"
	"github.com/rampartsec/rampart/auth/token"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rsaPub := writePublicPEM(t, dir, "rsa.pem", &rsaKey(t, 0).PublicKey)
	weak := writePublicPEM(t, dir, "weak.pem", &weakRSA(t).PublicKey)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPub := writePublicPEM(t, dir, "p384.pem", &p384.PublicKey)
	cert := writeCert(t, dir, "cert.pem", p384)
	notKey := filepath.Join(dir, "not-a-key.pem")
	if err := os.WriteFile(notKey, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := func() issuer.Config {
		return issuer.Config{Issuer: testIssuer, JWKSURL: "https://idp.example.com/jwks", Audience: testAudience, Algorithms: []string{"RS256"}}
	}
	tests := []struct {
		name string
		edit func(*issuer.Config)
		want string
	}{
		{"valid jwks", func(*issuer.Config) {}, ""},
		{"valid public key", func(c *issuer.Config) { c.JWKSURL, c.PublicKey = "", rsaPub }, ""},
		{"valid P-384 certificate", func(c *issuer.Config) { c.JWKSURL, c.PublicKey, c.Algorithms = "", cert, []string{"ES384"} }, ""},
		{"http on loopback", func(c *issuer.Config) { c.JWKSURL = "http://127.0.0.1:8080/jwks" }, ""},
		{"http on localhost", func(c *issuer.Config) { c.JWKSURL = "http://localhost:8080/jwks" }, ""},
		{"several algorithms", func(c *issuer.Config) { c.Algorithms = []string{"RS256", "PS256", "ES256", "EdDSA"} }, ""},
		{"no issuer", func(c *issuer.Config) { c.Issuer = "" }, "issuer is required"},
		{"no audience", func(c *issuer.Config) { c.Audience = "" }, "audience is required"},
		{"no algorithms", func(c *issuer.Config) { c.Algorithms = nil }, "algorithms is required"},
		{"none", func(c *issuer.Config) { c.Algorithms = []string{"none"} }, "none is never accepted"},
		{"HS256", func(c *issuer.Config) { c.Algorithms = []string{"RS256", "HS256"} }, "HS256 is not supported"},
		{"unknown algorithm", func(c *issuer.Config) { c.Algorithms = []string{"RS1"} }, `unknown algorithm "RS1"`},
		{"neither key source", func(c *issuer.Config) { c.JWKSURL = "" }, "jwks_url or public_key is required"},
		{"both key sources", func(c *issuer.Config) { c.PublicKey = rsaPub }, "not both"},
		{"http elsewhere", func(c *issuer.Config) { c.JWKSURL = "http://idp.example.com/jwks" }, "must use https"},
		{"relative URL", func(c *issuer.Config) { c.JWKSURL = "/jwks" }, "absolute URL"},
		{"credentials in URL", func(c *issuer.Config) { c.JWKSURL = "https://u:p@idp.example.com/jwks" }, "without credentials"},
		{"ftp", func(c *issuer.Config) { c.JWKSURL = "ftp://idp.example.com/jwks" }, "not https"},
		{"max_lifetime over the cap", func(c *issuer.Config) { c.MaxLifetime = 30 * 24 * time.Hour }, "max_lifetime is"},
		{"negative skew", func(c *issuer.Config) { c.ClockSkew = -time.Second }, "clock_skew must be positive"},
		{"skew over the cap", func(c *issuer.Config) { c.ClockSkew = time.Hour }, "clock_skew is"},
		{"huge jwks", func(c *issuer.Config) { c.JWKSMaxBytes = 1 << 30 }, "jwks_max_bytes"},
		{"weak RSA public key", func(c *issuer.Config) { c.JWKSURL, c.PublicKey = "", weak }, "weak 1024-bit RSA"},
		{"key unfit for the algorithms", func(c *issuer.Config) { c.JWKSURL, c.PublicKey = "", ecPub }, "cannot verify any of the algorithms"},
		{"missing key file", func(c *issuer.Config) { c.JWKSURL, c.PublicKey = "", filepath.Join(dir, "nope.pem") }, "no such file"},
		{"not a PEM file", func(c *issuer.Config) { c.JWKSURL, c.PublicKey = "", notKey }, "no PEM block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := base()
			tc.edit(&c)
			_, err := issuer.New(c)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			case err != nil && !strings.HasPrefix(err.Error(), "issuer: "):
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func writeCert(t testing.TB, dir, name string, key *ecdsa.PrivateKey) string {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	other := claims(t0)
	other["iss"] = "rampart"
	bad := claims(t0)
	bad["aud"] = "elsewhere"
	tests := []struct {
		name    string
		header  string
		wantSub string
		wantErr bool
	}{
		{"no header", "", "", false},
		{"basic", "Basic YTpi", "", false},
		{"valid", "Bearer " + sign(t, key, jose.RS256, "k1", nil, claims(t0)), "user-123", false},
		{"another issuer", "Bearer " + sign(t, key, jose.RS256, "k1", nil, other), "", false},
		{"opaque token", "Bearer abcdef", "", false},
		{"wrong audience", "Bearer " + sign(t, key, jose.RS256, "k1", nil, bad), "", true},
		{"bad syntax", "Bearer a b", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			id, err := v.Authenticate(r)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error: got %v, want error %v", err, tc.wantErr)
			}
			got := ""
			if id != nil {
				got = id.Subject
			}
			if got != tc.wantSub {
				t.Errorf("subject: got %q, want %q", got, tc.wantSub)
			}
		})
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	k1, k2 := rsaKey(t, 0), rsaKey(t, 1)
	p1, p2 := newIDP(t, jwk(k1, "a", "RS256")), newIDP(t, jwk(k2, "b", "RS256"))
	clk := &clock{t: t0}
	v1 := newVerifier(t, p1, clk, nil)
	v2 := newVerifier(t, p2, clk, func(c *issuer.Config) { c.Issuer = "https://login.example.org" })
	set, err := issuer.NewSet(v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	c2 := claims(t0)
	c2["iss"] = "https://login.example.org"
	for name, tok := range map[string]string{
		"first":  sign(t, k1, jose.RS256, "a", nil, claims(t0)),
		"second": sign(t, k2, jose.RS256, "b", nil, c2),
	} {
		if _, err := set.Verify(context.Background(), tok); err != nil {
			t.Errorf("%s provider: %v", name, err)
		}
	}
	// A token claiming the second issuer but signed by the first one's key
	// is checked against the second issuer's keys only.
	mixed := sign(t, k1, jose.RS256, "b", nil, c2)
	if _, err := set.Verify(context.Background(), mixed); !errors.Is(err, token.ErrSignature) {
		t.Errorf("cross-issuer key: got %v, want %v", err, token.ErrSignature)
	}
	unknown := claims(t0)
	unknown["iss"] = "https://unknown.example"
	if _, err := set.Verify(context.Background(), sign(t, k1, jose.RS256, "a", nil, unknown)); !errors.Is(err, token.ErrIssuer) {
		t.Errorf("unknown issuer: got %v, want %v", err, token.ErrIssuer)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+sign(t, k1, jose.RS256, "a", nil, unknown))
	if id, err := set.Authenticate(r); id != nil || err != nil {
		t.Errorf("Authenticate with an unknown issuer: got %v, %v, want nil, nil", id, err)
	}
	if _, err := issuer.NewSet(v1, v1); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Errorf("duplicate issuer: got %v", err)
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	key := rsaKey(t, 0)
	p := newIDP(t, jwk(key, "k1", "RS256"))
	clk := &clock{t: t0}
	v := newVerifier(t, p, clk, nil)
	set, err := issuer.NewSet(v)
	if err != nil {
		t.Fatal(err)
	}
	expired := claims(t0)
	expired["iat"], expired["exp"] = t0.Add(-time.Hour).Unix(), t0.Add(-10*time.Minute).Unix()
	for name, h := range map[string]http.Handler{
		"verifier": v.Handler(http.HandlerFunc(echoSubject)),
		"set":      set.Handler(http.HandlerFunc(echoSubject)),
	} {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				name, auth, challenge string
				status                int
			}{
				{"valid", "Bearer " + sign(t, key, jose.RS256, "k1", nil, claims(t0)), "", 200},
				{"missing", "", `Bearer realm="rampart"`, 401},
				{"expired", "Bearer " + sign(t, key, jose.RS256, "k1", nil, expired), `Bearer realm="rampart", error="invalid_token"`, 401},
			} {
				r := httptest.NewRequest("GET", "/", nil)
				if tc.auth != "" {
					r.Header.Set("Authorization", tc.auth)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != tc.status || w.Header().Get("WWW-Authenticate") != tc.challenge {
					t.Errorf("%s: got %d %q, want %d %q", tc.name, w.Code, w.Header().Get("WWW-Authenticate"), tc.status, tc.challenge)
				}
				if tc.status == 200 && w.Body.String() != "user-123" {
					t.Errorf("%s: body %q", tc.name, w.Body)
				}
				if tc.status == 401 && strings.Contains(w.Body.String(), "expired") {
					t.Errorf("%s: reason leaked: %s", tc.name, w.Body)
				}
			}
		})
	}
}

func echoSubject(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte(auth.FromContext(r.Context()).Subject))
}
