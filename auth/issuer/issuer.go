package issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/problem"
)

// Defaults and caps. New refuses values over the caps: there is no way to
// accept a near-infinite token or an unbounded JWKS response.
const (
	// DefaultMaxLifetime is max_lifetime when unset.
	DefaultMaxLifetime = 24 * time.Hour
	// MaxLifetimeCap caps max_lifetime.
	MaxLifetimeCap = 7 * 24 * time.Hour
	// DefaultClockSkew is clock_skew when unset.
	DefaultClockSkew = time.Minute
	// MaxClockSkew caps clock_skew.
	MaxClockSkew = 5 * time.Minute
	// DefaultJWKSCacheTTL is how long fetched keys are used before they are
	// fetched again.
	DefaultJWKSCacheTTL = time.Hour
	// DefaultJWKSMinRefreshInterval is the least time between two fetches,
	// whatever triggers them: a flood of tokens with random kids costs the
	// identity provider at most one request per interval.
	DefaultJWKSMinRefreshInterval = 30 * time.Second
	// DefaultJWKSTimeout bounds one fetch, connection included.
	DefaultJWKSTimeout = 5 * time.Second
	// DefaultJWKSMaxBytes bounds a JWKS response.
	DefaultJWKSMaxBytes = 1 << 20
	// JWKSMaxStale is how long keys keep working after the last successful
	// fetch while the identity provider is unreachable; after it, tokens
	// are refused (fail closed).
	JWKSMaxStale = 24 * time.Hour
	// maxKeys bounds the keys kept from one JWKS.
	maxKeys = 64
	// maxRoles bounds the roles taken from one token.
	maxRoles = 256
	// maxClaimString bounds sub and each role.
	maxClaimString = 1024
)

// Policy is the name under which this package's rejections are recorded.
const Policy = "issuer"

// Config is one external identity provider whose bearer JWTs are accepted:
// one entry of auth.issuers in the gateway configuration.
type Config struct {
	// Issuer is the exact iss claim of the provider's tokens. Required.
	Issuer string `yaml:"issuer"`
	// JWKSURL is where the provider publishes its signing keys. HTTPS is
	// required except for loopback addresses. Exactly one of JWKSURL and
	// PublicKey is required.
	JWKSURL string `yaml:"jwks_url"`
	// PublicKey is a PEM file with the provider's one public key (PUBLIC
	// KEY, RSA PUBLIC KEY or CERTIFICATE), for providers without a JWKS.
	PublicKey string `yaml:"public_key"`
	// Audience must appear in the token's aud claim: the identifier of the
	// API behind Rampart at the provider. Required: without it, a token
	// the provider issued to any other application would be accepted.
	Audience string `yaml:"audience"`
	// Algorithms are the accepted signature algorithms: RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA. Required.
	// A token whose alg header is not listed is refused before any key is
	// looked up. HMAC algorithms and none are never accepted.
	Algorithms []string `yaml:"algorithms"`
	// RolesClaim names the claim holding the user's roles: a top-level
	// name (also a namespaced URL such as "https://example.com/roles") or a
	// dotted path such as "realm_access.roles". The claim may be an array
	// of strings or a space-separated string. Default "roles".
	RolesClaim string `yaml:"roles_claim"`
	// MaxLifetime caps exp - iat: a token valid for longer is refused even
	// with a good signature. exp and iat are always required. Default 24h;
	// at most MaxLifetimeCap.
	MaxLifetime time.Duration `yaml:"max_lifetime"`
	// ClockSkew is the allowance for clocks that disagree, for exp, nbf and
	// iat. Default 60s; at most MaxClockSkew.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// JWKSCacheTTL is how long fetched keys are used before being fetched
	// again. Default 1h.
	JWKSCacheTTL time.Duration `yaml:"jwks_cache_ttl"`
	// JWKSMinRefreshInterval is the least time between two fetches of the
	// JWKS, including those caused by an unknown kid. Default 30s.
	JWKSMinRefreshInterval time.Duration `yaml:"jwks_min_refresh_interval"`
	// JWKSTimeout bounds one fetch. Default 5s.
	JWKSTimeout time.Duration `yaml:"jwks_timeout"`
	// JWKSMaxBytes bounds the JWKS response size. Default 1MiB.
	JWKSMaxBytes int64 `yaml:"jwks_max_bytes"`
	// Login, when set, also signs browser users in with this provider
	// (OpenID Connect); see Verifier.Login. Default: off.
	Login *LoginConfig `yaml:"login"`

	// HTTPClient fetches the JWKS. Default: a client with JWKSTimeout and
	// the environment's proxy settings. Redirects are never followed.
	HTTPClient *http.Client `yaml:"-"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `yaml:"-"`
	// Logger receives JWKS fetch failures and rejection reasons. Default:
	// slog.Default(), so nothing is lost silently.
	Logger *slog.Logger `yaml:"-"`
	// OnDecision, when set, is called with ("verify", outcome) for each
	// token — outcome "ok", "invalid", "expired" or "error" (keys
	// unavailable) — and with ("jwks_fetch", "ok" or "error") for each
	// fetch. The gateway turns these into counters labelled by issuer. It
	// must be fast and safe for concurrent use.
	OnDecision func(op, outcome string) `yaml:"-"`
}

// Verifier verifies bearer JWTs from one identity provider. It is safe for
// concurrent use and starts no goroutines: JWKS fetches run on the request
// that needs them, one at a time.
type Verifier struct {
	issuer, audience, jwksURL string
	algs                      []jose.SignatureAlgorithm
	rolesPath                 []string
	rolesClaim                string
	maxLifetime, skew         time.Duration
	cacheTTL, minRefresh      time.Duration
	timeout                   time.Duration
	maxBytes                  int64
	client                    *http.Client
	now                       func() time.Time
	log                       *slog.Logger
	decide                    func(op, outcome string)

	static      *jose.JSONWebKey // public_key, when configured
	staticCache *verifiedCache   // verified tokens, with a static key

	login *Login // nil unless Config.Login is set

	keys        atomic.Pointer[keySet]
	mu          sync.Mutex // guards lastAttempt and inflight
	lastAttempt time.Time
	inflight    *fetchCall
}

// keySet is one fetched JWKS, immutable once published.
type keySet struct {
	byKID   map[string][]jose.JSONWebKey
	fetched time.Time
	cache   *verifiedCache // tokens verified with these keys
}

// fetchCall is a fetch in progress that other requests wait for.
type fetchCall struct {
	done chan struct{}
	err  error
}

// Errors specific to external issuers. Rejections for the token itself wrap
// the sentinels of package token (token.ErrExpired, token.ErrAudience, ...).
var (
	// ErrKeysUnavailable is returned when the provider's keys have never
	// been fetched, or are older than JWKSMaxStale and cannot be fetched.
	ErrKeysUnavailable = errors.New("issuer: signing keys unavailable")
)

// supportedAlgs are the algorithms an issuer may be pinned to.
var supportedAlgs = map[string]jose.SignatureAlgorithm{
	"RS256": jose.RS256, "RS384": jose.RS384, "RS512": jose.RS512,
	"PS256": jose.PS256, "PS384": jose.PS384, "PS512": jose.PS512,
	"ES256": jose.ES256, "ES384": jose.ES384, "ES512": jose.ES512,
	"EdDSA": jose.EdDSA,
}

// New returns a Verifier for c. It validates and precomputes everything and
// reads public_key; it does not contact the provider (see Refresh).
func New(c Config) (*Verifier, error) {
	v := &Verifier{
		issuer: c.Issuer, audience: c.Audience, jwksURL: c.JWKSURL,
		maxLifetime: c.MaxLifetime, skew: c.ClockSkew, cacheTTL: c.JWKSCacheTTL,
		minRefresh: c.JWKSMinRefreshInterval, timeout: c.JWKSTimeout, maxBytes: c.JWKSMaxBytes,
		now: c.Now, log: c.Logger, decide: c.OnDecision,
	}
	fail := func(format string, args ...any) error {
		name := c.Issuer
		if name == "" {
			name = "(no issuer)"
		}
		return fmt.Errorf("issuer: %s: "+format, append([]any{name}, args...)...)
	}
	if c.Issuer == "" || strings.TrimSpace(c.Issuer) != c.Issuer {
		return nil, fail("issuer is required and may not have surrounding spaces")
	}
	if c.Audience == "" {
		return nil, fail("audience is required: without it, tokens the provider issued to any application would be accepted")
	}
	if len(c.Algorithms) == 0 {
		return nil, fail("algorithms is required: pin the algorithms the provider signs with, e.g. [RS256]")
	}
	for _, a := range c.Algorithms {
		alg, ok := supportedAlgs[a]
		switch {
		case strings.EqualFold(a, "none"):
			return nil, fail("algorithm none is never accepted")
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			return nil, fail("algorithm %s is not supported: HMAC needs a secret shared with the provider, and a public key could be used as that secret", a)
		case !ok:
			return nil, fail("unknown algorithm %q (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)", a)
		}
		if !slices.Contains(v.algs, alg) {
			v.algs = append(v.algs, alg)
		}
	}
	durations := []struct {
		name     string
		d        *time.Duration
		def, cap time.Duration
	}{
		{"max_lifetime", &v.maxLifetime, DefaultMaxLifetime, MaxLifetimeCap},
		{"clock_skew", &v.skew, DefaultClockSkew, MaxClockSkew},
		{"jwks_cache_ttl", &v.cacheTTL, DefaultJWKSCacheTTL, JWKSMaxStale},
		{"jwks_min_refresh_interval", &v.minRefresh, DefaultJWKSMinRefreshInterval, time.Hour},
		{"jwks_timeout", &v.timeout, DefaultJWKSTimeout, time.Minute},
	}
	for _, d := range durations {
		switch {
		case *d.d < 0:
			return nil, fail("%s must be positive, got %s", d.name, *d.d)
		case *d.d == 0:
			*d.d = d.def
		case *d.d > d.cap:
			return nil, fail("%s is %s, longer than the maximum %s", d.name, *d.d, d.cap)
		}
	}
	switch {
	case v.maxBytes < 0:
		return nil, fail("jwks_max_bytes must be positive")
	case v.maxBytes == 0:
		v.maxBytes = DefaultJWKSMaxBytes
	case v.maxBytes > 16<<20:
		return nil, fail("jwks_max_bytes is over 16MiB")
	}
	v.rolesClaim = c.RolesClaim
	if v.rolesClaim == "" {
		v.rolesClaim = "roles"
	}
	v.rolesPath = strings.Split(v.rolesClaim, ".")
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	if v.decide == nil {
		v.decide = func(string, string) {}
	}
	switch {
	case c.JWKSURL != "" && c.PublicKey != "":
		return nil, fail("set jwks_url or public_key, not both")
	case c.JWKSURL == "" && c.PublicKey == "":
		return nil, fail("jwks_url or public_key is required")
	case c.PublicKey != "":
		k, err := loadPublicKey(c.PublicKey)
		if err != nil {
			return nil, fail("public_key %s: %w", c.PublicKey, err)
		}
		if !v.usableKey(k) {
			return nil, fail("public_key %s: a %s key cannot verify any of the algorithms %v", c.PublicKey, keyKind(k.Key), c.Algorithms)
		}
		v.static, v.staticCache = k, newVerifiedCache()
	default:
		if err := checkURL(c.JWKSURL); err != nil {
			return nil, fail("jwks_url: %w", err)
		}
		v.client = newClient(c.HTTPClient, v.timeout)
	}
	if c.Login != nil {
		l, err := NewLogin(v, *c.Login)
		if err != nil {
			return nil, err
		}
		v.login = l
	}
	return v, nil
}

// Login returns the browser sign-in flow configured by Config.Login, or nil.
func (v *Verifier) Login() *Login { return v.login }

// checkURL requires an absolute https URL, or http on a loopback host (a
// provider running beside Rampart, or a test): keys, codes and tokens sent
// in clear text can be read or replaced in transit.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("must be an absolute URL without credentials or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("must use https (plain http is allowed only on loopback addresses)")
	}
	return fmt.Errorf("scheme %q is not https", u.Scheme)
}

var errRedirect = errors.New("issuer: the JWKS URL redirected; configure the final URL")

func newClient(base *http.Client, timeout time.Duration) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	} else {
		c.Transport = http.DefaultTransport
	}
	if c.Timeout == 0 || c.Timeout > timeout {
		c.Timeout = timeout
	}
	// A redirect could send the fetch anywhere; the configured URL is the
	// only source of keys.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }
	return &c
}

// loadPublicKey reads one public key from a PEM file.
func loadPublicKey(path string) (*jose.JSONWebKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key or certificate", block.Type)
	}
	if err != nil {
		return nil, err
	}
	k := &jose.JSONWebKey{Key: key}
	if !k.Valid() || !k.IsPublic() {
		return nil, errors.New("not a valid public key")
	}
	if r, ok := key.(*rsa.PublicKey); ok && r.N.BitLen() < token.MinRSABits {
		return nil, fmt.Errorf("weak %d-bit RSA key (at least %d bits required)", r.N.BitLen(), token.MinRSABits)
	}
	return k, nil
}

// algFits reports whether key can verify alg.
func algFits(key any, alg jose.SignatureAlgorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return k.Curve == elliptic.P256()
		case jose.ES384:
			return k.Curve == elliptic.P384()
		case jose.ES512:
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

func keyKind(key any) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("%d-bit RSA", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", key)
}

// usableKey reports whether k may be used at all: public, valid, strong
// enough, meant for signatures, and fit for one of the pinned algorithms
// (its own alg, if it names one, must be pinned).
func (v *Verifier) usableKey(k *jose.JSONWebKey) bool {
	if !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
		return false
	}
	if r, ok := k.Key.(*rsa.PublicKey); ok && r.N.BitLen() < token.MinRSABits {
		return false
	}
	if k.Algorithm != "" {
		alg := jose.SignatureAlgorithm(k.Algorithm)
		return slices.Contains(v.algs, alg) && algFits(k.Key, alg)
	}
	for _, alg := range v.algs {
		if algFits(k.Key, alg) {
			return true
		}
	}
	return false
}

// Issuer returns the iss this verifier accepts.
func (v *Verifier) Issuer() string { return v.issuer }

// Verify checks a bearer JWT from this provider and returns its identity.
// In order: the size; the alg header against the pinned algorithms (before
// any key lookup); the key by kid among the provider's keys only (jku, x5u,
// x5c and embedded jwk headers are ignored, nothing they point to is
// fetched); the signature; iss; aud; exp and iat present, exp - iat within
// MaxLifetime, exp, nbf and iat against the clock with ClockSkew; sub.
//
// A token that verified is remembered until the keys are fetched again, so
// that the next requests carrying it only have their expiry checked. The
// returned Identity may be shared with those requests: it must not be
// modified.
func (v *Verifier) Verify(ctx context.Context, raw string) (*auth.Identity, error) {
	id, err := v.verify(ctx, raw)
	v.decide("verify", outcome(err))
	return id, err
}

// outcome maps a verification result to an OnDecision outcome.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, token.ErrExpired):
		return "expired"
	case errors.Is(err, ErrKeysUnavailable):
		return "error"
	}
	return "invalid"
}

func (v *Verifier) verify(ctx context.Context, raw string) (*auth.Identity, error) {
	if len(raw) > token.MaxTokenBytes {
		return nil, fmt.Errorf("issuer: %w: longer than %d bytes", token.ErrMalformed, token.MaxTokenBytes)
	}
	if id, hit, err := v.cached(cacheKey(raw)); hit {
		return id, err
	}
	return v.verifyFull(ctx, raw)
}

// verifyFull verifies raw without looking at the verified-token cache.
func (v *Verifier) verifyFull(ctx context.Context, raw string) (*auth.Identity, error) {
	payload, cache, err := v.verifiedPayload(ctx, raw)
	if err != nil {
		return nil, err
	}
	id, err := v.identity(payload, v.audience)
	if err != nil {
		return nil, err
	}
	cache.put(cacheKey(raw), cachedToken{id: id, exp: id.Expires})
	return id, nil
}

// verifiedPayload checks the size, the pinned algorithm, the key and the
// signature of raw, and returns its payload and the cache of the key set
// that verified it.
func (v *Verifier) verifiedPayload(ctx context.Context, raw string) ([]byte, *verifiedCache, error) {
	if len(raw) > token.MaxTokenBytes {
		return nil, nil, fmt.Errorf("issuer: %w: longer than %d bytes", token.ErrMalformed, token.MaxTokenBytes)
	}
	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, nil, fmt.Errorf("issuer: %w: %s", token.ErrAlgorithm, algErr.Got)
		}
		return nil, nil, fmt.Errorf("issuer: %w", token.ErrMalformed)
	}
	h := jws.Signatures[0].Header
	key, cache, err := v.key(ctx, h.KeyID, jose.SignatureAlgorithm(h.Algorithm))
	if err != nil {
		return nil, nil, err
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("issuer: %w", token.ErrSignature)
	}
	return payload, cache, nil
}

// cached returns the identity of a token verified before with keys that are
// still fresh, after checking its expiry again; hit is false when the token
// must be verified in full.
func (v *Verifier) cached(key [sha256.Size]byte) (id *auth.Identity, hit bool, err error) {
	cache := v.staticCache
	if cache == nil {
		set := v.keys.Load()
		// Keys due for a refresh are not trusted from the cache: the full
		// path fetches them again, and the new set starts a new cache.
		if set == nil || v.now().Sub(set.fetched) >= v.cacheTTL {
			return nil, false, nil
		}
		cache = set.cache
	}
	e, ok := cache.get(key)
	if !ok {
		return nil, false, nil
	}
	if !v.now().Add(-v.skew).Before(e.exp) {
		return nil, true, fmt.Errorf("issuer: %w", token.ErrExpired)
	}
	return e.id, true, nil
}

// stdClaims are the registered claims the verifier reads.
type stdClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	Scope     json.RawMessage  `json:"scope"`
	Scp       json.RawMessage  `json:"scp"`
}

// identity checks the claims of a verified payload for audience and returns
// the identity they describe.
func (v *Verifier) identity(payload []byte, audience string) (*auth.Identity, error) {
	var c stdClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("issuer: %w: claims", token.ErrMalformed)
	}
	if c.Issuer != v.issuer {
		return nil, fmt.Errorf("issuer: %w", token.ErrIssuer)
	}
	if !c.Audience.Contains(audience) {
		return nil, fmt.Errorf("issuer: %w", token.ErrAudience)
	}
	if c.Expiry == nil || c.IssuedAt == nil {
		return nil, fmt.Errorf("issuer: %w: exp and iat are required", token.ErrMissingClaim)
	}
	if err := v.checkTimes(c.Expiry.Time(), c.IssuedAt.Time(), c.NotBefore); err != nil {
		return nil, err
	}
	if !validClaimString(c.Subject) {
		return nil, fmt.Errorf("issuer: %w: sub", token.ErrMissingClaim)
	}
	roles, err := v.roles(payload)
	if err != nil {
		return nil, err
	}
	return &auth.Identity{
		Subject: c.Subject, Roles: roles, Scopes: scopes(c.Scope, c.Scp),
		Method: "issuer", Issuer: c.Issuer, Expires: c.Expiry.Time(),
	}, nil
}

func (v *Verifier) checkTimes(exp, iat time.Time, nbf *jwt.NumericDate) error {
	now := v.now()
	switch {
	case !exp.After(iat):
		return fmt.Errorf("issuer: %w: exp is not after iat", token.ErrLifetime)
	case exp.Sub(iat) > v.maxLifetime:
		return fmt.Errorf("issuer: %w: %s, the maximum is %s", token.ErrLifetime, exp.Sub(iat), v.maxLifetime)
	case !now.Add(-v.skew).Before(exp):
		return fmt.Errorf("issuer: %w", token.ErrExpired)
	case iat.After(now.Add(v.skew)):
		return fmt.Errorf("issuer: %w: issued in the future", token.ErrNotYetValid)
	case nbf != nil && nbf.Time().After(now.Add(v.skew)):
		return fmt.Errorf("issuer: %w", token.ErrNotYetValid)
	}
	return nil
}

// validClaimString reports whether s may become part of an identity (and so
// of a header sent upstream): non-empty, bounded, UTF-8, no control
// characters.
func validClaimString(s string) bool {
	if s == "" || len(s) > maxClaimString || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// roles extracts the roles claim. A missing claim means no roles; a claim of
// another type than string or array means no roles too (the user gets less,
// never more). Roles that are not safe strings, or contain a comma (the
// separator of the roles header), are dropped.
func (v *Verifier) roles(payload []byte) ([]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, fmt.Errorf("issuer: %w: claims", token.ErrMalformed)
	}
	raw, ok := top[v.rolesClaim]
	if !ok && len(v.rolesPath) > 1 {
		raw, ok = top[v.rolesPath[0]]
		for _, seg := range v.rolesPath[1:] {
			if !ok {
				break
			}
			var obj map[string]json.RawMessage
			if json.Unmarshal(raw, &obj) != nil {
				ok = false
				break
			}
			raw, ok = obj[seg]
		}
	}
	if !ok {
		return nil, nil
	}
	return stringList(raw, maxRoles), nil
}

// stringList decodes a JSON string (space-separated values) or array of
// strings, keeping at most limit safe values.
func stringList(raw json.RawMessage, limit int) []string {
	var items []string
	var s string
	if json.Unmarshal(raw, &s) == nil {
		items = strings.Fields(s)
	} else {
		var arr []any
		if json.Unmarshal(raw, &arr) != nil {
			return nil
		}
		for _, e := range arr {
			if str, ok := e.(string); ok {
				items = append(items, str)
			}
		}
	}
	out := make([]string, 0, min(len(items), limit))
	for _, it := range items {
		if len(out) == limit {
			break
		}
		if validClaimString(it) && !strings.ContainsRune(it, ',') && !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// scopes reads scope (RFC 8693: space-separated string) or, failing that,
// scp (array or string, as some providers send).
func scopes(scope, scp json.RawMessage) []string {
	if len(scope) > 0 {
		return stringList(scope, maxRoles)
	}
	if len(scp) > 0 {
		return stringList(scp, maxRoles)
	}
	return nil
}

// Authenticate implements the route rules' authenticator contract: (nil,
// nil) when r has no bearer token or a token from another issuer, the
// identity for a valid token of this provider, an error for one that does
// not verify.
func (v *Verifier) Authenticate(r *http.Request) (*auth.Identity, error) {
	raw, err := token.Bearer(r)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, nil
	}
	if iss, err := token.UnverifiedIssuer(raw); err != nil || iss != v.issuer {
		// Not this provider's token: the issuer only routes the token to a
		// verifier, which then checks everything.
		return nil, nil
	}
	return v.Verify(r.Context(), raw)
}

// Handler returns a handler that requires a valid token from this provider
// in Authorization: Bearer, stores the identity in the request's context,
// and calls h. Other requests get a neutral 401 with a WWW-Authenticate
// challenge.
func (v *Verifier) Handler(h http.Handler) http.Handler {
	return handler(v.Authenticate, v.log, h)
}

func handler(authn func(*http.Request) (*auth.Identity, error), log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := authn(r)
		if err != nil || id == nil {
			challenge := challengeNone
			if err != nil {
				challenge = challengeInvalid
				log.Info("bearer token rejected", "err", err)
			}
			w.Header()["Www-Authenticate"] = challenge
			problem.Write(w, r, problem.Problem{Status: http.StatusUnauthorized, Policy: Policy})
			return
		}
		h.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), id)))
	})
}

var (
	challengeNone    = []string{`Bearer realm="rampart"`}
	challengeInvalid = []string{`Bearer realm="rampart", error="invalid_token"`}
)
