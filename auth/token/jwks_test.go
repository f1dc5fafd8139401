package token_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/token"
)

func TestJWKSServesOnlyPublicKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := writePEM(t, dir, "old.pem", newP256(t)) // a private key file used for verification
	f := newFixture(t, func(c *token.Config) { c.VerificationKeys = []string{old} })
	w := httptest.NewRecorder()
	f.m.JWKS().ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q, want 200 application/json", w.Code, w.Header().Get("Content-Type"))
	}
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("Cache-Control: got %q, want a max-age", cc)
	}
	// Look at the raw members: no private parameter may appear.
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 2 {
		t.Fatalf("got %d keys, want 2", len(raw.Keys))
	}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %v has private member %q", k["kid"], private)
			}
		}
		if k["use"] != "sig" || k["kid"] == "" || k["alg"] == "" {
			t.Errorf("key lacks use/kid/alg: %v", k)
		}
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	signing := set.Key(f.kid)
	if len(signing) != 1 || !signing[0].IsPublic() || signing[0].Algorithm != "EdDSA" {
		t.Fatalf("signing key in JWKS: got %+v", signing)
	}
	// A third party can verify Rampart's tokens with the published set.
	p := f.issue(t, "alice")
	jws, err := jose.ParseSignedCompact(p.AccessToken, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(&set); err != nil {
		t.Errorf("verifying with the published JWKS: %v", err)
	}
}

func TestJWKSCaching(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := f.m.JWKS()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	etag := w.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	r := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	r.Header.Set("If-None-Match", etag)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("conditional GET: got %d with %d bytes, want 304 and no body", w.Code, w.Body.Len())
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/.well-known/jwks.json", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: got %d Allow %q, want 405 GET, HEAD", w.Code, w.Header().Get("Allow"))
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("HEAD", "/.well-known/jwks.json", nil))
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "0" {
		t.Errorf("HEAD: got %d with %d bytes, length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
}
