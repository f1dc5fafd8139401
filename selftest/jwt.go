package selftest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/issuer"
)

// keyring holds the keys the selftest signs with: for each configured
// issuer a key pair standing in for the provider's (published on a
// loopback JWKS), and attackers' keys the issuers do not know.
type keyring struct {
	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	issuers  []*issuerKey
	attacker map[string]crypto.Signer // by algorithm
}

type issuerKey struct {
	cfg  issuer.Config
	alg  string
	key  crypto.Signer
	kid  string
	jwks []byte
}

func newKeyring() (*keyring, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("selftest: JWKS listener: %w", err)
	}
	k := &keyring{ln: ln, attacker: map[string]crypto.Signer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /issuer/{i}/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		k.mu.Lock()
		defer k.mu.Unlock()
		if err != nil || i < 0 || i >= len(k.issuers) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(k.issuers[i].jwks)
	})
	mux.HandleFunc("GET /attacker/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		defer k.mu.Unlock()
		var set jose.JSONWebKeySet
		for alg, key := range k.attacker {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: key.Public(), KeyID: "attacker", Algorithm: alg, Use: "sig"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	k.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = k.srv.Serve(ln) }()
	return k, nil
}

func (k *keyring) close() {
	if k.srv != nil {
		_ = k.srv.Close()
	}
}

func (k *keyring) base() string {
	if k.ln == nil {
		return "http://selftest.invalid"
	}
	return "http://" + k.ln.Addr().String()
}

// addIssuer makes the stand-in key of an issuer and returns the JWKS URL
// the gateway is to use instead of the provider's.
func (k *keyring) addIssuer(c issuer.Config) (string, error) {
	alg := "RS256"
	if len(c.Algorithms) > 0 {
		alg = c.Algorithms[0]
	}
	key, err := generateKey(alg)
	if err != nil {
		return "", err
	}
	ik := &issuerKey{cfg: c, alg: alg, key: key, kid: "selftest-1"}
	ik.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: ik.kid, Algorithm: alg, Use: "sig"}}})
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.issuers = append(k.issuers, ik)
	return fmt.Sprintf("%s/issuer/%d/jwks.json", k.base(), len(k.issuers)-1), nil
}

func (k *keyring) attackerKey(alg string) (crypto.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.attacker[alg]; ok {
		return key, nil
	}
	key, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	k.attacker[alg] = key
	return key, nil
}

func generateKey(alg string) (crypto.Signer, error) {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return rsa.GenerateKey(rand.Reader, 2048)
	case alg == "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case alg == "EdDSA":
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	return nil, fmt.Errorf("selftest: no key type for algorithm %q", alg)
}

// forge builds the token spec describes for ik. vars expands templates in
// claims and headers; roles are put in the issuer's roles claim.
func (k *keyring) forge(ik *issuerKey, spec *TokenSpec, vars map[string]string, roles []string, now time.Time) (string, error) {
	alg := ik.alg
	if spec.Alg != "" {
		alg = spec.Alg
	}
	claims := map[string]any{
		"iss": ik.cfg.Issuer, "aud": ik.cfg.Audience, "sub": "selftest-" + vars["marker"],
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	rc := ik.cfg.RolesClaim
	if rc == "" {
		rc = "roles"
	}
	if len(roles) > 0 {
		setPath(claims, rc, roles)
	}
	for name, v := range spec.Claims {
		v, err := expand(v, vars)
		if err != nil {
			return "", err
		}
		switch {
		case v == "omit":
			delete(claims, name)
		case strings.HasPrefix(v, "now"):
			d, err := time.ParseDuration(strings.TrimPrefix(strings.TrimPrefix(v, "now"), "+"))
			if err != nil {
				return "", fmt.Errorf("claim %s: %v", name, err)
			}
			claims[name] = now.Add(d).Unix()
		case strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{") || v == "null":
			var x any
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				return "", fmt.Errorf("claim %s: %v", name, err)
			}
			claims[name] = x
		default:
			claims[name] = v
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	header := map[string]any{"alg": alg, "typ": "JWT", "kid": ik.kid}
	var key any
	embed := false
	switch spec.Sign {
	case "", "issuer", "corrupt":
		key = ik.key
	case "attacker":
		if key, err = k.attackerKey(alg); err != nil {
			return "", err
		}
		header["kid"] = "attacker"
	case "hmac-public-key":
		der, err := x509.MarshalPKIXPublicKey(ik.key.Public())
		if err != nil {
			return "", err
		}
		key = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	for name, v := range spec.Header {
		v, err := expand(v, vars)
		if err != nil {
			return "", err
		}
		switch v {
		case "omit":
			delete(header, name)
		case "attacker-jwk":
			embed = true
		case "attacker-jwks-url":
			header[name] = k.base() + "/attacker/jwks.json"
		default:
			header[name] = v
		}
	}
	switch spec.Sign {
	case "none":
		h, _ := json.Marshal(header)
		return b64(h) + "." + b64(payload) + ".", nil
	case "zero":
		h, _ := json.Marshal(header)
		return b64(h) + "." + b64(payload) + "." + b64(make([]byte, signatureSize(alg))), nil
	}
	opts := &jose.SignerOptions{EmbedJWK: embed}
	for name, v := range header {
		if name == "alg" || (embed && name == "jwk") {
			continue
		}
		opts.WithHeader(jose.HeaderKey(name), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		if spec.Alg != "" && spec.Sign == "issuer" {
			// The issuer's key cannot sign with this algorithm.
			return "", errNotApplicable
		}
		return "", fmt.Errorf("signing with %s: %w", alg, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		if spec.Alg != "" && spec.Sign == "issuer" {
			return "", errNotApplicable
		}
		return "", err
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return "", err
	}
	if spec.Sign == "corrupt" {
		i := strings.LastIndexByte(tok, '.') + 2
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		tok = string(b)
	}
	return tok, nil
}

// signatureSize is the length of a signature of alg, for zeroed ones.
func signatureSize(alg string) int {
	switch alg {
	case "ES384":
		return 96
	case "ES512":
		return 132
	case "ES256", "EdDSA":
		return 64
	}
	return 256
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// setPath sets a dotted claim path ("realm_access.roles"); a namespaced
// URL claim is set as it is.
func setPath(m map[string]any, p string, v any) {
	if strings.Contains(p, "://") {
		m[p] = v
		return
	}
	parts := strings.Split(p, ".")
	for _, part := range parts[:len(parts)-1] {
		sub, ok := m[part].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[part] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
}
