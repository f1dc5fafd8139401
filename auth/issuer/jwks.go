package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rampartsec/rampart/auth/token"
)

// errRateLimited is returned by refresh when the last fetch attempt was
// less than JWKSMinRefreshInterval ago.
var errRateLimited = errors.New("issuer: jwks fetch rate-limited")

// key returns the key that verifies a token with this kid and alg.
//
// Fresh keys are used as they are. A fetch is attempted when there are no
// keys yet, when they are older than JWKSCacheTTL, or when the kid is
// unknown (the provider may have rotated) — at most once per
// JWKSMinRefreshInterval, so random kids cannot make Rampart hammer the
// provider. A token without a kid never triggers a fetch.
func (v *Verifier) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, *verifiedCache, error) {
	if v.static != nil {
		// One configured key: the kid, if any, has nothing to select.
		if !algFits(v.static.Key, alg) {
			return nil, nil, fmt.Errorf("issuer: %w: %s with a %s key", token.ErrAlgorithm, alg, keyKind(v.static.Key))
		}
		return v.static, v.staticCache, nil
	}
	now := v.now()
	set := v.keys.Load()
	if set != nil && now.Sub(set.fetched) < v.cacheTTL {
		k, known := set.find(kid, alg)
		switch {
		case k != nil:
			return k, set.cache, nil
		case known:
			return nil, nil, fmt.Errorf("issuer: %w: key %q does not do %s", token.ErrAlgorithm, kid, alg)
		case kid == "":
			return nil, nil, fmt.Errorf("issuer: %w: token has no kid", token.ErrUnknownKey)
		}
	}
	if err := v.refresh(ctx, now, false); err != nil && !errors.Is(err, errRateLimited) {
		v.log.Warn("jwks fetch failed", "issuer", v.issuer, "url", v.jwksURL, "err", err)
	}
	set = v.keys.Load()
	if set == nil {
		return nil, nil, ErrKeysUnavailable
	}
	if v.now().Sub(set.fetched) >= JWKSMaxStale {
		// Keys this old may include one the provider withdrew; refusing
		// every token is the safe answer until a fetch succeeds.
		return nil, nil, fmt.Errorf("%w: last fetched %s ago", ErrKeysUnavailable, v.now().Sub(set.fetched).Round(time.Second))
	}
	k, known := set.find(kid, alg)
	switch {
	case k != nil:
		return k, set.cache, nil
	case known:
		return nil, nil, fmt.Errorf("issuer: %w: key %q does not do %s", token.ErrAlgorithm, kid, alg)
	}
	return nil, nil, fmt.Errorf("issuer: %w", token.ErrUnknownKey)
}

// find returns the key for kid that fits alg, and whether kid is known at
// all. A token without a kid is matched only when exactly one key fits, so
// that a kid-less token cannot make the verifier try every key.
func (s *keySet) find(kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, bool) {
	if kid == "" {
		var only *jose.JSONWebKey
		for _, ks := range s.byKID {
			for i := range ks {
				if fits(&ks[i], alg) {
					if only != nil {
						return nil, false
					}
					only = &ks[i]
				}
			}
		}
		return only, false
	}
	ks, known := s.byKID[kid]
	for i := range ks {
		if fits(&ks[i], alg) {
			return &ks[i], true
		}
	}
	return nil, known
}

// fits reports whether k may verify alg: its own alg, if it names one, must
// be alg, and its type must suit alg.
func fits(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	return (k.Algorithm == "" || k.Algorithm == string(alg)) && algFits(k.Key, alg)
}

// Refresh fetches the provider's keys now, unless a fetch is already in
// progress (then it waits for that one). The gateway calls it at start so
// that the first requests do not wait, and to report readiness. It does
// nothing for a verifier with a static public key.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.static != nil {
		return nil
	}
	return v.refresh(ctx, v.now(), true)
}

// refresh runs one fetch, shared by every request that asks while it runs,
// and refuses (errRateLimited) when the last attempt was too recent, unless
// force is set.
func (v *Verifier) refresh(ctx context.Context, now time.Time, force bool) error {
	v.mu.Lock()
	if c := v.inflight; c != nil {
		v.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !force && !v.lastAttempt.IsZero() && now.Sub(v.lastAttempt) < v.minRefresh {
		v.mu.Unlock()
		return errRateLimited
	}
	v.lastAttempt = now
	c := &fetchCall{done: make(chan struct{})}
	v.inflight = c
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.inflight = nil
		v.mu.Unlock()
		close(c.done)
	}()
	// The fetch outlives a client that hangs up: other requests wait for
	// it. Its own timeout bounds it.
	c.err = v.fetch(context.WithoutCancel(ctx))
	return c.err
}

// fetch downloads and parses the JWKS. A document that parses replaces the
// keys, even if no key in it is usable (the provider is the authority on
// its keys); any failure keeps the previous keys.
func (v *Verifier) fetch(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			v.decide("jwks_fetch", "error")
		} else {
			v.decide("jwks_fetch", "ok")
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return fmt.Errorf("issuer: jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("issuer: fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("issuer: fetch jwks: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, v.maxBytes+1))
	if err != nil {
		return fmt.Errorf("issuer: read jwks: %w", err)
	}
	if int64(len(body)) > v.maxBytes {
		return fmt.Errorf("issuer: jwks is larger than %d bytes", v.maxBytes)
	}
	set, err := v.parseJWKS(body)
	if err != nil {
		return err
	}
	set.fetched = v.now()
	v.keys.Store(set)
	return nil
}

// privateMembers are the JWK members that hold private key material.
type privateMembers struct {
	D    json.RawMessage `json:"d"`
	P    json.RawMessage `json:"p"`
	Q    json.RawMessage `json:"q"`
	DP   json.RawMessage `json:"dp"`
	DQ   json.RawMessage `json:"dq"`
	QI   json.RawMessage `json:"qi"`
	K    json.RawMessage `json:"k"`
	Priv json.RawMessage `json:"priv"`
}

func (p *privateMembers) any() bool {
	return p.D != nil || p.P != nil || p.Q != nil || p.DP != nil || p.DQ != nil || p.QI != nil || p.K != nil || p.Priv != nil
}

// parseJWKS keeps the usable keys of a JWKS document. Keys that cannot be
// used — private or symmetric keys, keys for encryption, weak RSA, types or
// algorithms that are not pinned, keys go-jose does not support — are
// skipped one by one, so one odd key does not hide the others.
func (v *Verifier) parseJWKS(body []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Keys == nil {
		return nil, errors.New("issuer: jwks is not a JSON object with a keys array")
	}
	if len(doc.Keys) > maxKeys {
		v.log.Warn("jwks has too many keys; using the first ones", "issuer", v.issuer, "keys", len(doc.Keys), "max", maxKeys)
		doc.Keys = doc.Keys[:maxKeys]
	}
	set := &keySet{byKID: map[string][]jose.JSONWebKey{}, cache: newVerifiedCache()}
	usable := 0
	for _, raw := range doc.Keys {
		var priv privateMembers
		if json.Unmarshal(raw, &priv) != nil {
			continue
		}
		if priv.any() {
			v.log.Error("jwks publishes private or secret key material; key ignored", "issuer", v.issuer)
			continue
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			v.log.Debug("jwks key skipped", "issuer", v.issuer, "err", err)
			continue
		}
		if !v.usableKey(&k) {
			v.log.Debug("jwks key skipped: not usable with the pinned algorithms", "issuer", v.issuer, "kid", k.KeyID)
			continue
		}
		set.byKID[k.KeyID] = append(set.byKID[k.KeyID], k)
		usable++
	}
	if usable == 0 {
		v.log.Warn("jwks has no usable key: every token of this issuer will be refused", "issuer", v.issuer)
	}
	return set, nil
}
