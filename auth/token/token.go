package token

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/clientip"
)

// Lifetime caps. New refuses anything longer, in every environment: there is
// no way to configure a near-infinite token. The production guard reports
// them by name.
const (
	// MaxAccessTTL caps access_ttl. Access tokens are bearer credentials
	// that are checked without a store lookup by default, so their lifetime
	// is the window in which a stolen one works.
	MaxAccessTTL = time.Hour
	// MaxRefreshTTL caps refresh_ttl, the idle lifetime of a refresh token.
	MaxRefreshTTL = 90 * 24 * time.Hour
	// MaxRefreshAbsoluteTTL caps refresh_absolute_ttl, the lifetime of a
	// refresh family however often it is used.
	MaxRefreshAbsoluteTTL = 365 * 24 * time.Hour
	// DefaultRefreshAbsoluteTTL is refresh_absolute_ttl when unset (or
	// refresh_ttl, if that is longer).
	DefaultRefreshAbsoluteTTL = 30 * 24 * time.Hour
	// DefaultRefreshRetryWindow is refresh_retry_window when unset.
	DefaultRefreshRetryWindow = 10 * time.Second
	// MaxRefreshRetryWindow caps refresh_retry_window: the window is for a
	// client retrying a request whose answer was lost, not for sharing a
	// refresh token.
	MaxRefreshRetryWindow = time.Minute
	// DefaultClockSkew is the default allowance for clocks that disagree.
	DefaultClockSkew = time.Minute
	// MaxClockSkew caps clock_skew.
	MaxClockSkew = 5 * time.Minute
	// DefaultIssuer is the iss (and default aud) of Rampart's tokens.
	DefaultIssuer = "rampart"
)

// AccessTokenType is the typ header of Rampart's access tokens (RFC 9068).
// A JWT with any other typ — an ID token, say, signed by the same key — is
// not accepted as an access token.
const AccessTokenType = "at+jwt"

// Config configures a Manager. It is the auth.tokens section of the gateway
// configuration. The zero value is not usable: AccessTTL and RefreshTTL are
// required, and a signing key or InsecureEphemeralKey is needed.
type Config struct {
	// AccessTTL is the lifetime of an access token. Required; at most
	// MaxAccessTTL. 15m is a good value.
	AccessTTL time.Duration `yaml:"access_ttl"`
	// RefreshTTL is how long a refresh token stays exchangeable unused
	// (each exchange returns a new one). Required; at most MaxRefreshTTL.
	RefreshTTL time.Duration `yaml:"refresh_ttl"`
	// RefreshAbsoluteTTL ends a refresh family (a login and all its
	// refreshes) however active it is. Default DefaultRefreshAbsoluteTTL, or
	// RefreshTTL if longer; at most MaxRefreshAbsoluteTTL.
	RefreshAbsoluteTTL time.Duration `yaml:"refresh_absolute_ttl"`
	// RefreshRetryWindow is how long after a refresh the refresh token it
	// used up may be presented again as a retry — the client sent the
	// refresh but the answer was lost (a cut connection, a replica that
	// died mid-answer) — and returns the same new refresh token (with a
	// freshly signed access token) instead of being treated as reuse. A
	// retry succeeds only while that new refresh token is unused: once the
	// client has used it, presenting the old one again is reuse and revokes
	// the family, as is any presentation after the window. Nil means
	// DefaultRefreshRetryWindow; 0 turns retries off (every second
	// presentation is reuse); at most MaxRefreshRetryWindow.
	RefreshRetryWindow *time.Duration `yaml:"refresh_retry_window"`
	// SigningKey is the PEM file of the private key that signs new access
	// tokens: Ed25519 (recommended) or P-256. Required unless
	// InsecureEphemeralKey is set.
	SigningKey string `yaml:"signing_key"`
	// VerificationKeys are further PEM files (public or private keys) whose
	// tokens are still accepted and which are published in the JWKS: the
	// previous signing key after a rotation, kept until its last token has
	// expired, or the next one, published before it starts signing.
	// Default none.
	VerificationKeys []string `yaml:"verification_keys"`
	// Issuer is the iss claim of issued tokens, checked on verification.
	// Default "rampart"; set it to the gateway's public URL when other
	// services verify Rampart's tokens.
	Issuer string `yaml:"issuer"`
	// Audience is the aud claim of issued tokens, checked on verification.
	// Default: the issuer.
	Audience string `yaml:"audience"`
	// ClockSkew is the allowance for clocks that disagree, applied to exp,
	// nbf and iat. Default 60s; at most MaxClockSkew.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// RevocationList makes every access-token verification ask the store
	// whether the token's jti, or all of its subject's tokens, were
	// revoked. Default false: access tokens are short-lived and revocation
	// then takes effect within AccessTTL. Turning it on costs one store
	// round trip per request.
	RevocationList bool `yaml:"revocation_list"`

	// Store keeps refresh tokens and revocations. Required.
	Store Store `yaml:"-"`
	// RecordKey, when set, authenticates every refresh family the Manager
	// stores with HMAC-SHA256 (Family.MAC): a family edited in the store,
	// or written by another deployment, is refused. Replicas sharing a
	// store share it. At least 32 bytes. Default none.
	RecordKey []byte `yaml:"-"`
	// Deployment is bound into every family's MAC. Default "".
	Deployment string `yaml:"-"`
	// Passwords verifies user names and passwords for the token endpoint's
	// password grant. Nil disables the password grant. If it also
	// implements IdentityLoader, each refresh reloads the user's roles and
	// refuses locked or deleted users.
	Passwords PasswordVerifier `yaml:"-"`
	// ClientIP resolves the client address passed to Passwords. Nil means
	// the TCP peer.
	ClientIP *clientip.Resolver `yaml:"-"`
	// InsecureEphemeralKey generates a signing key in memory when SigningKey
	// is empty, logging a warning. Tokens then die with the process and
	// differ between replicas. For development only; the gateway sets it
	// only with env: development.
	InsecureEphemeralKey bool `yaml:"-"`
	// Now is the clock. Default time.Now.
	Now func() time.Time `yaml:"-"`
	// Logger receives warnings (reuse detected, ephemeral key) and the
	// reasons behind rejections. Default: slog.Default(), so nothing is lost silently; pass a logger with slog.DiscardHandler to drop.
	Logger *slog.Logger `yaml:"-"`
	// OnDecision, when set, is called once per decision with the operation
	// ("verify", "password", "refresh", "revoke") and its outcome ("ok",
	// "invalid", "expired", "revoked", "reused", "limited", "unavailable",
	// "error"). The
	// gateway turns these into Prometheus counters; both values come from
	// these fixed sets. It must be fast and safe for concurrent use.
	OnDecision func(op, outcome string) `yaml:"-"`
}

// PasswordVerifier checks a user name and password for the token endpoint's
// password grant. Implementations apply brute-force protection and take the
// same time whether or not the user exists.
//
// VerifyPassword returns the user's identity, or an error: one wrapping
// ErrInvalidCredentials for a wrong name or password or a locked account
// (401); one with a RetryAfter() time.Duration method when brute-force
// protection refuses the attempt (429 with Retry-After); any other error is
// a failure of the user store (500, logged).
type PasswordVerifier interface {
	VerifyPassword(ctx context.Context, username, password, clientIP string) (*auth.Identity, error)
}

// IdentityLoader is optionally implemented by a PasswordVerifier. When it
// is, every refresh reloads the subject's current identity: changed roles
// apply at the next refresh, and a locked or deleted user (an error wrapping
// ErrInvalidCredentials) loses the whole refresh family.
type IdentityLoader interface {
	LoadIdentity(ctx context.Context, subject string) (*auth.Identity, error)
}

// Pair is what the token endpoint returns (RFC 6749, section 5.1).
type Pair struct {
	// AccessToken is the signed JWT.
	AccessToken string `json:"access_token"`
	// RefreshToken is the opaque refresh token.
	RefreshToken string `json:"refresh_token"`
	// TokenType is always "Bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
}

// Manager issues, refreshes, verifies and revokes Rampart's tokens, and
// serves the token endpoint and the JWKS. It is safe for concurrent use.
type Manager struct {
	accessTTL, refreshTTL, familyTTL, skew time.Duration
	retryWindow                            time.Duration
	// successorKey derives the refresh token a token is rotated into, so
	// that a retried refresh returns the same one (see successor).
	successorKey     []byte
	issuer, audience string
	revocationList   bool

	signer  jose.Signer
	signKey *Key
	keys    map[string]*Key
	algs    []jose.SignatureAlgorithm
	jwks    jwksDocument

	store      Store
	recordKey  []byte
	deployment string
	passwords  PasswordVerifier
	loader     IdentityLoader
	clientIP   *clientip.Resolver
	now        func() time.Time
	log        *slog.Logger
	decide     func(op, outcome string)
	verified   *verifiedCache
}

// New returns a Manager for c. It loads and checks the keys and refuses
// missing or unbounded lifetimes. It never panics on user input.
func New(c Config) (*Manager, error) {
	m := &Manager{
		accessTTL: c.AccessTTL, refreshTTL: c.RefreshTTL, familyTTL: c.RefreshAbsoluteTTL, skew: c.ClockSkew,
		issuer: c.Issuer, audience: c.Audience, revocationList: c.RevocationList,
		store: c.Store, recordKey: bytes.Clone(c.RecordKey), deployment: c.Deployment,
		passwords: c.Passwords, clientIP: c.ClientIP,
		now: c.Now, log: c.Logger, decide: c.OnDecision, keys: map[string]*Key{},
		verified: newVerifiedCache(verifiedCacheSize),
	}
	if len(m.recordKey) > 0 && len(m.recordKey) < 32 {
		return nil, fmt.Errorf("token: the record key must be at least 32 bytes, got %d", len(m.recordKey))
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.decide == nil {
		m.decide = func(string, string) {}
	}
	if l, ok := c.Passwords.(IdentityLoader); ok {
		m.loader = l
	}
	if err := m.checkLifetimes(); err != nil {
		return nil, err
	}
	m.retryWindow = DefaultRefreshRetryWindow
	if c.RefreshRetryWindow != nil {
		m.retryWindow = *c.RefreshRetryWindow
	}
	if m.retryWindow < 0 || m.retryWindow > MaxRefreshRetryWindow {
		return nil, fmt.Errorf("token: refresh_retry_window is %s; it must be between 0 (off) and %s", m.retryWindow, MaxRefreshRetryWindow)
	}
	if m.issuer == "" {
		m.issuer = DefaultIssuer
	}
	if m.audience == "" {
		m.audience = m.issuer
	}
	if m.store == nil {
		return nil, errors.New("token: a refresh-token store is required")
	}
	if err := m.loadKeys(c); err != nil {
		return nil, err
	}
	if err := m.deriveSuccessorKey(); err != nil {
		return nil, err
	}
	return m, nil
}

// deriveSuccessorKey derives the key of successor from a secret every
// replica shares: the record key when there is one (it does not change
// when the signing key is rotated), otherwise the signing key's private
// half.
func (m *Manager) deriveSuccessorKey() error {
	secret := m.recordKey
	if len(secret) == 0 {
		der, err := x509.MarshalPKCS8PrivateKey(m.signKey.private)
		if err != nil {
			return fmt.Errorf("token: signing key: %w", err)
		}
		secret = der
	}
	k, err := hkdf.Key(sha256.New, secret, nil, "rampart refresh-token successor v1\x00"+m.deployment, sha256.Size)
	if err != nil {
		return fmt.Errorf("token: derive the refresh successor key: %w", err)
	}
	m.successorKey = k
	return nil
}

// successor returns the refresh token that refresh is rotated into, and
// its hash. It is derived from refresh under a server-side key, so a
// retried refresh yields the same token on every replica, while a copy of
// the store (which holds hashes only) or a used token without the key
// yields nothing. Without a retry window it is random, as before.
func (m *Manager) successor(refresh string) (string, [sha256.Size]byte) {
	if m.retryWindow == 0 {
		return newRefreshToken()
	}
	h := hmac.New(sha256.New, m.successorKey)
	h.Write([]byte(refresh))
	tok := refreshPrefix + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
	return tok, sha256.Sum256([]byte(tok))
}

func (m *Manager) checkLifetimes() error {
	check := func(name string, d, maxD time.Duration, required bool) error {
		switch {
		case d < 0:
			return fmt.Errorf("token: %s must be positive, got %s", name, d)
		case d == 0 && required:
			return fmt.Errorf("token: %s is required: tokens must not live forever", name)
		case d > maxD:
			return fmt.Errorf("token: %s is %s, longer than the maximum %s", name, d, maxD)
		}
		return nil
	}
	if err := check("access_ttl", m.accessTTL, MaxAccessTTL, true); err != nil {
		return err
	}
	if err := check("refresh_ttl", m.refreshTTL, MaxRefreshTTL, true); err != nil {
		return err
	}
	if err := check("refresh_absolute_ttl", m.familyTTL, MaxRefreshAbsoluteTTL, false); err != nil {
		return err
	}
	if m.familyTTL == 0 {
		m.familyTTL = max(DefaultRefreshAbsoluteTTL, m.refreshTTL)
	}
	if m.familyTTL < m.refreshTTL {
		return fmt.Errorf("token: refresh_absolute_ttl (%s) is shorter than refresh_ttl (%s)", m.familyTTL, m.refreshTTL)
	}
	if m.accessTTL < time.Second || m.refreshTTL < time.Second {
		return errors.New("token: access_ttl and refresh_ttl must be at least 1s")
	}
	if err := check("clock_skew", m.skew, MaxClockSkew, false); err != nil {
		return err
	}
	if m.skew == 0 {
		m.skew = DefaultClockSkew
	}
	return nil
}

func (m *Manager) loadKeys(c Config) error {
	var sign *Key
	switch {
	case c.SigningKey != "":
		k, err := LoadKey(c.SigningKey)
		if err != nil {
			return err
		}
		if !k.CanSign() {
			return fmt.Errorf("token: signing_key %s holds a public key, which cannot sign", c.SigningKey)
		}
		sign = k
	case c.InsecureEphemeralKey:
		k, err := GenerateKey()
		if err != nil {
			return err
		}
		sign = k
		m.log.Warn("INSECURE: no token signing key configured; using an ephemeral key. " +
			"Tokens will not survive a restart and replicas will reject each other's tokens. " +
			"Set auth.tokens.signing_key before going to production.")
	default:
		return errors.New("token: signing_key is required (generate one with: openssl genpkey -algorithm ed25519 -out jwt-ed25519.pem)")
	}
	keys := []*Key{sign}
	for _, path := range c.VerificationKeys {
		k, err := LoadKey(path)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		if prev, dup := m.keys[k.ID]; dup {
			if prev.Path != k.Path || k == sign {
				m.log.Warn("token key listed twice", "kid", k.ID, "path", k.Path)
			}
			continue
		}
		m.keys[k.ID] = k
		if alg := jose.SignatureAlgorithm(k.Algorithm); !slices.Contains(m.algs, alg) {
			m.algs = append(m.algs, alg)
		}
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(sign.Algorithm), Key: jose.JSONWebKey{Key: sign.private, KeyID: sign.ID}},
		(&jose.SignerOptions{}).WithType(AccessTokenType))
	if err != nil {
		return fmt.Errorf("token: signer: %w", err)
	}
	m.signer, m.signKey = signer, sign
	jwks, err := newJWKSDocument(keys)
	if err != nil {
		return err
	}
	m.jwks = jwks
	return nil
}

// SigningKeyID returns the kid of the key that signs new tokens.
func (m *Manager) SigningKeyID() string { return m.signKey.ID }

// accessClaims are the claims of Rampart's access tokens (RFC 9068 names).
type accessClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
	Roles     []string         `json:"roles,omitempty"`
	Scope     string           `json:"scope,omitempty"`

	// identity is built once, when the claims are verified.
	identity *auth.Identity
}

// familyMAC is the record MAC of f, or "" without a record key.
func (m *Manager) familyMAC(f Family) string {
	if len(m.recordKey) == 0 {
		return ""
	}
	h := hmac.New(sha256.New, m.recordKey)
	for _, v := range []string{"rampart refresh family v1", m.deployment, f.ID, f.Subject,
		strings.Join(f.Roles, ","), strings.Join(f.Scopes, " "),
		strconv.FormatInt(f.Created.Unix(), 10), strconv.FormatInt(f.Expires.Unix(), 10)} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Issue starts a new refresh family for id (a login) and returns its first
// access and refresh tokens.
func (m *Manager) Issue(ctx context.Context, id *auth.Identity) (*Pair, error) {
	if id == nil || id.Subject == "" {
		return nil, errors.New("token: issue: identity without a subject")
	}
	now := m.now()
	fam := Family{ID: randomID(), Subject: id.Subject, Roles: id.Roles, Scopes: id.Scopes,
		Created: now, Expires: now.Add(m.familyTTL)}
	fam.MAC = m.familyMAC(fam)
	refresh, hash := newRefreshToken()
	if err := m.store.CreateFamily(ctx, fam, RefreshToken{Hash: hash, FamilyID: fam.ID, Expires: now.Add(m.refreshTTL)}); err != nil {
		return nil, fmt.Errorf("%w: issue: %w", ErrUnavailable, err)
	}
	access, err := m.sign(id.Subject, id.Roles, id.Scopes, now)
	if err != nil {
		return nil, err
	}
	return &Pair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int64(m.accessTTL / time.Second)}, nil
}

// Refresh exchanges a refresh token for a new pair. The presented token is
// used up: presenting it again is reuse, which revokes the whole family
// (the legitimate client and the thief both have to log in again) and
// returns ErrRefreshReused — except as a retry within the retry window
// (Config.RefreshRetryWindow) while its successor is unused, which returns
// the same refresh token as the first exchange. An unknown, expired or revoked token returns
// ErrInvalidRefresh. A store failure (the refresh-token store, or the user
// store behind IdentityLoader) returns an error wrapping ErrUnavailable,
// and the token is neither used nor revoked.
func (m *Manager) Refresh(ctx context.Context, refresh string) (*Pair, error) {
	hash, ok := hashRefreshToken(refresh)
	if !ok {
		m.decide("refresh", "invalid")
		return nil, ErrInvalidRefresh
	}
	now := m.now()
	// Everything that can fail for a reason that is not the client's is
	// asked before the token is used up: a store outage must leave the
	// client a token it can present again once the store is back, and
	// must never look like theft.
	fam, err := m.store.Family(ctx, hash, now)
	switch {
	case errors.Is(err, ErrInvalidRefresh):
		m.decide("refresh", "invalid")
		return nil, err
	case err != nil:
		m.decide("refresh", "unavailable")
		return nil, fmt.Errorf("%w: refresh: %w", ErrUnavailable, err)
	}
	if len(m.recordKey) > 0 && !hmac.Equal([]byte(fam.MAC), []byte(m.familyMAC(fam))) {
		// Written by another deployment, or edited in the store: not
		// ours to honour, and not ours to revoke either.
		m.decide("refresh", "tampered")
		m.log.Warn("a stored refresh family failed its integrity check and was refused; the store was written by another deployment or edited")
		return nil, ErrInvalidRefresh
	}
	subject, roles, scopes := fam.Subject, fam.Roles, fam.Scopes
	if m.loader != nil {
		id, err := m.loader.LoadIdentity(ctx, fam.Subject)
		if errors.Is(err, ErrInvalidCredentials) || (err == nil && (id == nil || id.Subject != fam.Subject)) {
			// The user is gone or locked: the family must not live on.
			if rerr := m.store.RevokeFamily(ctx, fam.ID, now); rerr != nil {
				m.log.Error("revoke family of a locked user", "err", rerr)
			}
			m.decide("refresh", "revoked")
			return nil, ErrInvalidRefresh
		}
		if err != nil {
			// The user's status is unknown: refuse (fail closed), but
			// the token is untouched, so the client's retry after the
			// outage succeeds instead of looking like reuse.
			m.decide("refresh", "unavailable")
			return nil, fmt.Errorf("%w: refresh: load identity: %w", ErrUnavailable, err)
		}
		roles = id.Roles
		if id.Scopes != nil {
			scopes = id.Scopes
		}
	}
	next, nextHash := m.successor(refresh)
	nt := RefreshToken{Hash: nextHash, Expires: now.Add(m.refreshTTL)}
	if m.retryWindow > 0 {
		nt.RetryUntil = now.Add(m.retryWindow)
	}
	rotated, err := m.store.Rotate(ctx, hash, nt, now)
	switch {
	case errors.Is(err, ErrRefreshReused):
		m.decide("refresh", "reused")
		m.log.Warn("refresh token reused: family revoked; the token was probably stolen")
		return nil, err
	case errors.Is(err, ErrInvalidRefresh):
		m.decide("refresh", "invalid")
		return nil, err
	case err != nil:
		m.decide("refresh", "unavailable")
		return nil, fmt.Errorf("%w: refresh: %w", ErrUnavailable, err)
	case rotated.ID != fam.ID:
		// The store answered for another family than the one it read:
		// broken, so honour nothing.
		m.decide("refresh", "error")
		return nil, errors.New("token: refresh: the store rotated a different family than it read")
	}
	access, err := m.sign(subject, roles, scopes, now)
	if err != nil {
		m.decide("refresh", "error")
		return nil, err
	}
	m.decide("refresh", "ok")
	return &Pair{AccessToken: access, RefreshToken: next, TokenType: "Bearer", ExpiresIn: int64(m.accessTTL / time.Second)}, nil
}

func (m *Manager) sign(subject string, roles, scopes []string, now time.Time) (string, error) {
	iat := jwt.NewNumericDate(now)
	claims := accessClaims{
		Issuer: m.issuer, Subject: subject, Audience: jwt.Audience{m.audience},
		IssuedAt: iat, NotBefore: iat, Expiry: jwt.NewNumericDate(now.Add(m.accessTTL)),
		ID: randomID(), Roles: roles, Scope: strings.Join(scopes, " "),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	jws, err := m.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// Verify checks a Rampart access token and returns the identity it carries.
// The algorithm must be one of Rampart's own (EdDSA, ES256) and match the
// key named by kid; the typ must be at+jwt; iss and aud must be Rampart's;
// exp, iat, sub and jti are required; exp - iat may not exceed the access
// lifetime. Headers such as jku, x5u, x5c or an embedded jwk are ignored:
// only configured keys are ever used. With RevocationList, the store is
// asked too, and a store failure rejects the token. The returned Identity
// may be shared with other requests carrying the same token: it must not be
// modified.
func (m *Manager) Verify(ctx context.Context, raw string) (*auth.Identity, error) {
	id, err := m.verify(ctx, raw)
	if err != nil {
		m.decide("verify", outcomeOf(err))
		return nil, err
	}
	m.decide("verify", "ok")
	return id, nil
}

func (m *Manager) verify(ctx context.Context, raw string) (*auth.Identity, error) {
	if len(raw) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenBytes)
	}
	key := cacheKey(raw)
	return m.verifyKeyed(ctx, raw, key, m.verified.get(key))
}

// cacheKey hashes raw without a heap allocation for tokens of common size.
func cacheKey(raw string) [sha256.Size]byte {
	var buf [2048]byte
	if len(raw) <= len(buf) {
		return sha256.Sum256(append(buf[:0], raw...))
	}
	return sha256.Sum256([]byte(raw))
}

// verifyKeyed verifies raw, whose cache key is key and cached entry c (nil
// when not cached).
func (m *Manager) verifyKeyed(ctx context.Context, raw string, key [sha256.Size]byte, c *accessClaims) (*auth.Identity, error) {
	if c != nil {
		// Verified before: only the clock-dependent checks are left.
		if err := checkTimes(m.now(), c.Expiry.Time(), c.IssuedAt.Time(), c.NotBefore, m.accessTTL, m.skew); err != nil {
			return nil, err
		}
	} else {
		var err error
		if c, err = m.verifiedClaims(raw); err != nil {
			return nil, err
		}
		m.verified.put(key, c)
	}
	if m.revocationList {
		revoked, err := m.store.AccessRevoked(ctx, c.ID, c.Subject, c.IssuedAt.Time())
		if err != nil {
			// Fail closed: with the list turned on, a token whose status
			// cannot be checked is not accepted.
			return nil, fmt.Errorf("token: revocation check: %w", err)
		}
		if revoked {
			return nil, ErrRevoked
		}
	}
	return c.identity, nil
}

// verifiedClaims checks everything but revocation and returns the claims.
func (m *Manager) verifiedClaims(raw string) (*accessClaims, error) {
	if len(raw) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenBytes)
	}
	jws, err := jose.ParseSignedCompact(raw, m.algs)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, fmt.Errorf("%w: %s", ErrAlgorithm, algErr.Got)
		}
		return nil, ErrMalformed
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !isAccessTokenType(typ) {
		return nil, ErrType
	}
	key := m.keys[h.KeyID]
	if key == nil {
		return nil, ErrUnknownKey
	}
	if h.Algorithm != key.Algorithm {
		return nil, fmt.Errorf("%w: %s with a %s key", ErrAlgorithm, h.Algorithm, key.Algorithm)
	}
	payload, err := jws.Verify(key.public)
	if err != nil {
		return nil, ErrSignature
	}
	c := new(accessClaims)
	if err := json.Unmarshal(payload, c); err != nil {
		return nil, fmt.Errorf("%w: claims", ErrMalformed)
	}
	if c.Issuer != m.issuer {
		return nil, ErrIssuer
	}
	if !c.Audience.Contains(m.audience) {
		return nil, ErrAudience
	}
	if c.Subject == "" || c.ID == "" || c.Expiry == nil || c.IssuedAt == nil {
		return nil, ErrMissingClaim
	}
	if err := checkTimes(m.now(), c.Expiry.Time(), c.IssuedAt.Time(), c.NotBefore, m.accessTTL, m.skew); err != nil {
		return nil, err
	}
	var scopes []string
	if c.Scope != "" {
		scopes = strings.Fields(c.Scope)
	}
	c.identity = &auth.Identity{Subject: c.Subject, Roles: c.Roles, Scopes: scopes, Method: "token", Expires: c.Expiry.Time()}
	return c, nil
}

// checkTimes applies the time rules shared by every verifier: not expired,
// not used before nbf or iat, and exp - iat within maxLifetime (with exp
// after iat).
func checkTimes(now, exp, iat time.Time, nbf *jwt.NumericDate, maxLifetime, skew time.Duration) error {
	if !exp.After(iat) {
		return fmt.Errorf("%w: exp is not after iat", ErrLifetime)
	}
	if exp.Sub(iat) > maxLifetime {
		return fmt.Errorf("%w: %s, the maximum is %s", ErrLifetime, exp.Sub(iat), maxLifetime)
	}
	if now.Add(-skew).After(exp) || now.Add(-skew).Equal(exp) {
		return ErrExpired
	}
	if iat.After(now.Add(skew)) {
		return fmt.Errorf("%w: issued in the future", ErrNotYetValid)
	}
	if nbf != nil && nbf.Time().After(now.Add(skew)) {
		return ErrNotYetValid
	}
	return nil
}

func isAccessTokenType(typ string) bool {
	return strings.EqualFold(typ, AccessTokenType) || strings.EqualFold(typ, "application/"+AccessTokenType)
}

// outcomeOrOK is outcomeOf, or "ok" for a nil error.
func outcomeOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return outcomeOf(err)
}

// outcomeOf maps a verification error to an OnDecision outcome.
func outcomeOf(err error) string {
	switch {
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrRevoked):
		return "revoked"
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrAlgorithm), errors.Is(err, ErrUnknownKey),
		errors.Is(err, ErrSignature), errors.Is(err, ErrType), errors.Is(err, ErrIssuer),
		errors.Is(err, ErrAudience), errors.Is(err, ErrMissingClaim), errors.Is(err, ErrNotYetValid),
		errors.Is(err, ErrLifetime):
		return "invalid"
	}
	return "error"
}

// Authenticate implements the route rules' authenticator contract for
// Rampart's access tokens in Authorization: Bearer. It returns (nil, nil)
// when r has no bearer token or one issued by someone else (its iss is not
// Rampart's: an external issuer's authenticator handles it), the identity
// for a valid token, and an error for a Rampart token that does not verify.
func (m *Manager) Authenticate(r *http.Request) (*auth.Identity, error) {
	raw, err := Bearer(r)
	if err != nil {
		m.decide("verify", "invalid")
		return nil, err
	}
	if raw == "" {
		return nil, nil
	}
	if len(raw) <= MaxTokenBytes {
		// A token verified before is ours: no need to look at its issuer.
		key := cacheKey(raw)
		if c := m.verified.get(key); c != nil {
			id, err := m.verifyKeyed(r.Context(), raw, key, c)
			m.decide("verify", outcomeOrOK(err))
			return id, err
		}
	}
	iss, err := UnverifiedIssuer(raw)
	if err != nil || iss != m.issuer {
		// Not a JWT of ours; another authenticator may know it. Deciding
		// here is safe: the issuer only selects the verifier, and every
		// verifier checks everything.
		return nil, nil
	}
	return m.Verify(r.Context(), raw)
}

// Check reports whether r carries a valid Rampart access token. It writes
// no response.
func (m *Manager) Check(r *http.Request) error {
	_, err := m.checkRequest(r)
	return err
}

// errNoToken is returned by Check when r has no bearer token.
var errNoToken = errors.New("token: no bearer token")

func (m *Manager) checkRequest(r *http.Request) (*auth.Identity, error) {
	raw, err := Bearer(r)
	if err != nil {
		m.decide("verify", "invalid")
		return nil, err
	}
	if raw == "" {
		return nil, errNoToken
	}
	return m.Verify(r.Context(), raw)
}

// Handler returns a handler that requires a valid Rampart access token in
// Authorization: Bearer, stores the identity in the request's context (see
// auth.FromContext), and calls h. Other requests get a neutral 401 with a
// WWW-Authenticate challenge (RFC 6750, section 3).
func (m *Manager) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := m.checkRequest(r)
		if err != nil {
			challenge := challengeInvalid
			if errors.Is(err, errNoToken) {
				challenge = challengeNone
			} else {
				m.log.Info("access token rejected", "err", err)
			}
			w.Header()["Www-Authenticate"] = challenge
			writeProblem(w, r, http.StatusUnauthorized, "")
			return
		}
		h.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), id)))
	})
}

// Precomputed WWW-Authenticate values: the reason is never more specific
// than RFC 6750's invalid_token.
var (
	challengeNone    = []string{`Bearer realm="rampart"`}
	challengeInvalid = []string{`Bearer realm="rampart", error="invalid_token"`}
)

// RevokeRefresh revokes the family of a refresh token, as at logout. An
// unknown or malformed token is not an error.
func (m *Manager) RevokeRefresh(ctx context.Context, refresh string) error {
	hash, ok := hashRefreshToken(refresh)
	if !ok {
		return nil
	}
	return m.revoked(m.store.RevokeToken(ctx, hash, m.now()))
}

// revoked reports the outcome of a revocation and returns err.
func (m *Manager) revoked(err error) error {
	if err != nil {
		m.decide("revoke", "error")
		return err
	}
	m.decide("revoke", "ok")
	return nil
}

// RevokeSubject revokes every refresh family of subject ("log out
// everywhere"). With RevocationList, the subject's access tokens issued so
// far are refused at once too; without it they expire within AccessTTL.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) error {
	now := m.now()
	return m.revoked(m.store.RevokeSubject(ctx, subject, now, now.Add(m.accessTTL+m.skew)))
}

// RevokeAccess adds a valid access token's jti to the revocation list (it
// stays there until the token expires). It has an effect only when
// RevocationList is on; the token must verify.
func (m *Manager) RevokeAccess(ctx context.Context, raw string) error {
	c, err := m.verifiedClaims(raw)
	if err != nil {
		return err
	}
	return m.revoked(m.store.RevokeJTI(ctx, c.ID, c.Expiry.Time().Add(m.skew)))
}

// refreshPrefix marks Rampart refresh tokens, for secret scanners and for
// telling them apart from access tokens at a glance.
const refreshPrefix = "rrt_"

// refreshTokenLen is the length of prefix + base64url(32 bytes).
var refreshTokenLen = len(refreshPrefix) + base64.RawURLEncoding.EncodedLen(32)

func newRefreshToken() (string, [sha256.Size]byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error.
	tok := refreshPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, sha256.Sum256([]byte(tok))
}

// hashRefreshToken returns the storage hash of tok, or false when tok cannot
// be one of ours (which saves a store round trip).
func hashRefreshToken(tok string) ([sha256.Size]byte, bool) {
	if len(tok) != refreshTokenLen || !strings.HasPrefix(tok, refreshPrefix) {
		return [sha256.Size]byte{}, false
	}
	for i := len(refreshPrefix); i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return [sha256.Size]byte{}, false
		}
	}
	return sha256.Sum256([]byte(tok)), true
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error.
	return base64.RawURLEncoding.EncodeToString(b[:])
}
