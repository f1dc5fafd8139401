package token

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKSMaxAge is how long clients may cache the JWKS. A key that will sign
// tokens must be published (as a verification key) for at least this long
// before it starts signing; see the rotation steps in the package docs.
const JWKSMaxAge = 300 // seconds

// jwksDocument is the precomputed JWKS response.
type jwksDocument struct {
	body         []byte
	etag         []string
	cacheControl []string
	length       []string
}

// newJWKSDocument renders the public halves of keys. Only public keys are
// ever serialised: the private half is dropped before marshalling, and the
// result is checked.
func newJWKSDocument(keys []*Key) (jwksDocument, error) {
	set := jose.JSONWebKeySet{}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.ID] {
			continue
		}
		seen[k.ID] = true
		jwk := jose.JSONWebKey{Key: k.public, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"}
		if !jwk.IsPublic() {
			return jwksDocument{}, fmt.Errorf("token: jwks: key %s is not public", k.ID)
		}
		set.Keys = append(set.Keys, jwk)
	}
	body, err := json.Marshal(set)
	if err != nil {
		return jwksDocument{}, fmt.Errorf("token: jwks: %w", err)
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	return jwksDocument{
		body:         body,
		etag:         []string{`"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`},
		cacheControl: []string{"public, max-age=" + strconv.Itoa(JWKSMaxAge)},
		length:       []string{strconv.Itoa(len(body))},
	}, nil
}

var (
	jsonContentType = []string{"application/json"}
	allowGetHead    = []string{"GET, HEAD"}
	nosniff         = []string{"nosniff"}
)

// JWKS returns the handler for /.well-known/jwks.json: the public keys of
// the signing key and of every verification key (RFC 7517), each with its
// kid, alg and use. The body is computed once; responses carry an ETag and
// may be cached for JWKSMaxAge seconds.
func (m *Manager) JWKS() http.Handler {
	doc := m.jwks
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header()["Allow"] = allowGetHead
			writeProblem(w, r, http.StatusMethodNotAllowed, "")
			return
		}
		h := w.Header()
		h["Etag"] = doc.etag
		h["Cache-Control"] = doc.cacheControl
		h["X-Content-Type-Options"] = nosniff
		if inm := r.Header.Get("If-None-Match"); inm != "" && inm == doc.etag[0] {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h["Content-Type"] = jsonContentType
		h["Content-Length"] = doc.length
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(doc.body)
		}
	})
}
