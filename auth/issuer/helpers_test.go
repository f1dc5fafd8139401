package issuer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/issuer"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// RSA key generation is slow; tests share a few keys.
var (
	rsaOnce sync.Once
	rsaKeys []*rsa.PrivateKey
)

func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	return rsaKeys[i]
}

func p256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// idp is a fake identity provider: a JWKS endpoint that counts its hits and
// whose keys the test can change.
type idp struct {
	srv  *httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	body []byte
	code int
}

func newIDP(t testing.TB, keys ...jose.JSONWebKey) *idp {
	t.Helper()
	p := &idp{code: 200}
	p.setKeys(t, keys...)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		p.mu.Lock()
		body, code := p.body, p.code
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) setKeys(t testing.TB, keys ...jose.JSONWebKey) {
	t.Helper()
	pub := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range keys {
		pub.Keys = append(pub.Keys, k.Public())
	}
	body, err := json.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	p.setBody(body, 200)
}

func (p *idp) setBody(body []byte, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body, p.code = body, code
}

func (p *idp) url() string { return p.srv.URL + "/.well-known/jwks.json" }

func jwk(key any, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}
}

const (
	testIssuer   = "https://idp.example.com/realms/main"
	testAudience = "my-api"
)

// claims returns valid claims at now.
func claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": testAudience, "sub": "user-123",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"roles": []string{"admin", "ops"}, "scope": "read write",
	}
}

// sign mints a compact JWS with go-jose.
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, kid string, extra map[jose.HeaderKey]any, c map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
	var sk jose.SigningKey
	if kid != "" {
		sk = jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}
	} else {
		sk = jose.SigningKey{Algorithm: alg, Key: key}
	}
	signer, err := jose.NewSigner(sk, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newVerifier builds a verifier against p with the test clock.
func newVerifier(t testing.TB, p *idp, clk *clock, edit func(*issuer.Config)) *issuer.Verifier {
	t.Helper()
	c := issuer.Config{Issuer: testIssuer, JWKSURL: p.url(), Audience: testAudience,
		Algorithms: []string{"RS256"}, Now: clk.Now}
	if edit != nil {
		edit(&c)
	}
	v, err := issuer.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
