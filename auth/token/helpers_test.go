package token_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
)

// t0 is the fixed instant tests start at.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

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

// writePEM writes key (a private or public crypto key) as PEM into dir and
// returns the path. Private keys are PKCS #8, public keys PKIX.
func writePEM(t testing.TB, dir, name string, key any) string {
	t.Helper()
	var block *pem.Block
	if _, private := key.(crypto.Signer); !private {
		der, err := x509.MarshalPKIXPublicKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PUBLIC KEY", Bytes: der}
	} else {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a Manager with its clock, store and key.
type fixture struct {
	m       *token.Manager
	clock   *clock
	store   token.Store
	key     ed25519.PrivateKey
	keyPath string
	kid     string
}

// newFixture returns a Manager with an Ed25519 key, a memory store and a
// fixed clock; edit changes the Config before New.
func newFixture(t testing.TB, edit func(*token.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), store: token.NewMemoryStore(), key: newEd25519(t)}
	f.keyPath = writePEM(t, t.TempDir(), "signing.pem", f.key)
	c := token.Config{
		AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour, RefreshAbsoluteTTL: 7 * 24 * time.Hour,
		SigningKey: f.keyPath, Store: f.store, Now: f.clock.Now,
	}
	if edit != nil {
		edit(&c)
	}
	m, err := token.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.m = m
	f.kid = m.SigningKeyID()
	return f
}

func (f *fixture) issue(t testing.TB, sub string, roles ...string) *token.Pair {
	t.Helper()
	p, err := f.m.Issue(context.Background(), &auth.Identity{Subject: sub, Roles: roles})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return p
}

// claims builds a valid claim set for the fixture at now, to be altered by
// attack tests.
func (f *fixture) claims() map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"iss": "rampart", "aud": "rampart", "sub": "alice", "jti": "j1",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"roles": []string{"admin"},
	}
}

// mint signs claims with key and alg through go-jose, with the given kid,
// typ and extra protected headers.
func mint(t testing.TB, key any, alg jose.SignatureAlgorithm, kid, typ string, extra map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
	sk := jose.SigningKey{Algorithm: alg, Key: key}
	if kid != "" {
		sk.Key = jose.JSONWebKey{Key: key, KeyID: kid}
	}
	signer, err := jose.NewSigner(sk, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawJWS assembles a compact JWS from a header, claims and signature bytes
// by hand: the only way to build what no JOSE library will sign, such as
// alg "none".
func rawJWS(t testing.TB, header map[string]any, claims map[string]any, sig []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "." + enc.EncodeToString(sig)
}

// signEd25519 assembles a compact JWS with an arbitrary header and signs it
// with priv, for headers go-jose will not produce (a kid next to an embedded
// jwk).
func signEd25519(t testing.TB, priv ed25519.PrivateKey, header map[string]any, claims map[string]any) string {
	t.Helper()
	unsigned := rawJWS(t, header, claims, nil)
	input := unsigned[:len(unsigned)-1] // drop the trailing "."
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input)))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func identity(sub string, roles ...string) *auth.Identity {
	return &auth.Identity{Subject: sub, Roles: roles}
}
