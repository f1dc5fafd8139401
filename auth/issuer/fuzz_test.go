package issuer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/issuer"
)

// fuzzNow is the instant the fuzz corpus was written for.
var fuzzNow = time.Unix(1893456060, 0) // 2030-01-01T00:01:00Z

// fuzzProvider returns the provider key in testdata and a verifier that
// trusts it through a public key file.
func fuzzProvider(tb testing.TB) (ed25519.PrivateKey, *issuer.Verifier) {
	tb.Helper()
	data, err := os.ReadFile("testdata/fuzz-ed25519.pem")
	if err != nil {
		tb.Fatal(err)
	}
	k, err := parseEd25519(data)
	if err != nil {
		tb.Fatal(err)
	}
	path := writePublicPEM(tb, tb.TempDir(), "idp.pem", k.Public())
	v, err := issuer.New(issuer.Config{Issuer: testIssuer, PublicKey: path, Audience: testAudience,
		Algorithms: []string{"EdDSA"}, RolesClaim: "realm_access.roles", Now: func() time.Time { return fuzzNow }})
	if err != nil {
		tb.Fatal(err)
	}
	return k, v
}

// FuzzClaims signs arbitrary claim sets with the provider's real key, so
// that the claim checks and the roles extraction see every shape of JSON
// an identity provider (or a compromised one) could send. Whatever is
// accepted must be a safe identity.
func FuzzClaims(f *testing.F) {
	key, v := fuzzProvider(f)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		jws, err := signer.Sign(payload)
		if err != nil {
			return
		}
		raw, err := jws.CompactSerialize()
		if err != nil {
			return
		}
		id, err := v.Verify(context.Background(), raw)
		if err != nil {
			if id != nil {
				t.Fatalf("identity with error %v", err)
			}
			return
		}
		if id.Issuer != testIssuer || id.Subject == "" || strings.ContainsAny(id.Subject, "\r\n\x00") {
			t.Fatalf("unsafe identity accepted: %+v", id)
		}
		for _, r := range id.Roles {
			if r == "" || strings.ContainsAny(r, ",\r\n\x00") {
				t.Fatalf("unsafe role %q accepted", r)
			}
		}
		var c struct{ Exp, Iat float64 }
		if json.Unmarshal(payload, &c) == nil && c.Exp-c.Iat > issuer.DefaultMaxLifetime.Seconds()+1 {
			t.Fatalf("lifetime %v s accepted", c.Exp-c.Iat)
		}
	})
}

// FuzzVerify feeds arbitrary compact JWS to the verifier and the set.
func FuzzVerify(f *testing.F) {
	_, v := fuzzProvider(f)
	set, err := issuer.NewSet(v)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := v.Verify(context.Background(), raw)
		if (err == nil) != (id != nil) {
			t.Fatalf("got %v and %v", id, err)
		}
		id2, err2 := set.Verify(context.Background(), raw)
		if (err2 == nil) != (err == nil) || (id != nil && id2.Subject != id.Subject) {
			t.Fatalf("set and verifier disagree: %v/%v vs %v/%v", id, err, id2, err2)
		}
	})
}

// parseEd25519 parses a PKCS #8 Ed25519 private key PEM.
func parseEd25519(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ed, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("not an Ed25519 key")
	}
	return ed, nil
}

// TestFuzzCorpusTokenVerifies keeps the corpus honest: its "valid" token
// must verify, or the fuzzer would only explore rejections.
func TestFuzzCorpusTokenVerifies(t *testing.T) {
	t.Parallel()
	_, v := fuzzProvider(t)
	data, err := os.ReadFile("testdata/fuzz/FuzzVerify/valid")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[len(lines)-1], "string("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(context.Background(), raw)
	if err != nil || id.Subject != "user-1" || len(id.Roles) != 2 {
		t.Fatalf("got %+v, %v, want user-1 with two roles", id, err)
	}
}

// FuzzLocalPath checks the open-redirect guard of the login flow: whatever
// comes in, what comes out is a path on this site.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c", "//evil.example", "/\\evil", "https://evil.example/", "/%2F%2Fevil", "/\t/evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := issuer.LocalPath(next)
		if got != "/" && got != next {
			t.Fatalf("LocalPath(%q) = %q: neither the input nor /", next, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("LocalPath(%q) = %q is not a local path", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("LocalPath(%q) = %q parses to host %q scheme %q", next, got, u.Host, u.Scheme)
		}
		// A browser resolves the Location against this site; it must stay
		// on it.
		base, _ := url.Parse("https://app.example.com/start")
		if res := base.ResolveReference(u); res.Host != "app.example.com" {
			t.Fatalf("LocalPath(%q) = %q resolves to host %q", next, got, res.Host)
		}
	})
}
