package token

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// Family is one chain of refresh tokens, started by a login and extended by
// each refresh. Everything an access token says about its user is copied
// from the family (or reloaded, see IdentityLoader).
type Family struct {
	// ID identifies the family; it is random and never sent to clients.
	ID string
	// Subject is the user the family was issued to.
	Subject string
	// Roles and Scopes are the identity's roles and scopes at login.
	Roles  []string
	Scopes []string
	// Created is when the family started (the login).
	Created time.Time
	// Expires is the family's absolute end: no token of the family is
	// accepted after it, however recently it was rotated.
	Expires time.Time
	// MAC authenticates the family's identity and lifetime under the
	// Manager's record key (empty without one). Stores keep it as given.
	MAC string
}

// RefreshToken is the stored form of one refresh token: only its hash is
// kept, so a copy of the store does not hold usable tokens.
type RefreshToken struct {
	// Hash is the SHA-256 of the token string. A refresh token carries 256
	// random bits, so a fast hash is enough: there is nothing to brute-force.
	Hash [sha256.Size]byte
	// FamilyID is the family the token belongs to.
	FamilyID string
	// Expires is when the token stops being exchangeable (its idle
	// lifetime). Stores cap it at the family's Expires.
	Expires time.Time
	// RetryUntil, on the token passed to Rotate as next, ends the retry
	// window of that rotation: until then, presenting the replaced token
	// again with this same next token is a retry of the rotation (the
	// client never received the answer) and succeeds without writing
	// anything, as long as next itself is unused. Zero means no retry
	// window: any second presentation is reuse. Stores keep it with the
	// replaced token.
	RetryUntil time.Time
}

// Store keeps refresh-token families and access-token revocations. Rampart
// ships package sqlstore (SQLite, the embedded default, or PostgreSQL),
// package redisstore (for replicas) and MemoryStore (one process, tests);
// package storetest holds the conformance suite every implementation must
// pass.
//
// Error semantics, which every implementation follows and the conformance
// suite checks: a token that is unknown, expired, or in a revoked or expired
// family is ErrInvalidRefresh; a token already exchanged is ErrRefreshReused
// (after the family was revoked); any other error is a failure of the store
// itself (database down, timeout) and makes the caller fail closed.
//
// Implementations must be safe for concurrent use, and Rotate must be atomic:
// of two concurrent Rotate calls with the same token and different next
// tokens, exactly one succeeds and the other sees ErrRefreshReused. Two
// calls with the same token and the same next token within the first
// one's RetryUntil both succeed and leave one successor: the family never
// forks.
type Store interface {
	// CreateFamily stores f and its first token t.
	CreateFamily(ctx context.Context, f Family, t RefreshToken) error
	// Rotate exchanges the unused, unexpired token whose hash is old for
	// next (whose Expires is capped at the family's), marks old as used,
	// remembers next.Hash and next.RetryUntil with it, and returns the
	// family. A used token is kept until the family expires, so that
	// replaying it is detected as reuse: Rotate then revokes the family and
	// returns ErrRefreshReused — unless it is a retry, that is next.Hash is
	// the successor old was rotated into, now is before that rotation's
	// RetryUntil, and the successor is unused; then Rotate returns the
	// family and changes nothing.
	Rotate(ctx context.Context, old [sha256.Size]byte, next RefreshToken, now time.Time) (Family, error)
	// Family returns the family of the token whose hash is h, without
	// using the token: ErrInvalidRefresh when the token is unknown or its
	// family is revoked or expired at now. Whether the token itself was
	// used or idled out is Rotate's to decide. It writes nothing.
	Family(ctx context.Context, h [sha256.Size]byte, now time.Time) (Family, error)
	// RevokeToken revokes the family of the token whose hash is h, as at
	// logout. An unknown token is not an error.
	RevokeToken(ctx context.Context, h [sha256.Size]byte, now time.Time) error
	// RevokeFamily revokes the family id. An unknown family is not an error.
	RevokeFamily(ctx context.Context, id string, now time.Time) error
	// RevokeSubject revokes every family of subject and records that access
	// tokens issued to subject at or before now are revoked; the record is
	// kept until keepUntil, when every such access token has expired.
	RevokeSubject(ctx context.Context, subject string, now, keepUntil time.Time) error
	// RevokeJTI records that the access token with ID jti is revoked until
	// until, its expiry.
	RevokeJTI(ctx context.Context, jti string, until time.Time) error
	// AccessRevoked reports whether an access token (jti, issued to subject
	// at issuedAt) was revoked by RevokeJTI or RevokeSubject.
	AccessRevoked(ctx context.Context, jti, subject string, issuedAt time.Time) (bool, error)
}

// MemoryStore is a Store in process memory, for a single process and for
// tests. Its zero value is not usable; call NewMemoryStore. It is safe for
// concurrent use. Expired entries are removed as new families are created.
type MemoryStore struct {
	mu        sync.Mutex
	families  map[string]*memFamily
	tokens    map[[sha256.Size]byte]*memToken
	jtis      map[string]time.Time
	cutoffs   map[string]memCutoff
	lastPrune time.Time
}

type memFamily struct {
	f       Family
	revoked bool
}

type memToken struct {
	family  string
	expires time.Time
	used    bool
	// successor and retryUntil are set when the token is used: the token
	// it was rotated into and the end of that rotation's retry window.
	successor  [sha256.Size]byte
	retryUntil time.Time
}

type memCutoff struct{ at, keep time.Time }

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		families: map[string]*memFamily{},
		tokens:   map[[sha256.Size]byte]*memToken{},
		jtis:     map[string]time.Time{},
		cutoffs:  map[string]memCutoff{},
	}
}

// CreateFamily implements Store.
func (s *MemoryStore) CreateFamily(_ context.Context, f Family, t RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(f.Created)
	s.families[f.ID] = &memFamily{f: cloneFamily(f)}
	s.tokens[t.Hash] = &memToken{family: f.ID, expires: minTime(t.Expires, f.Expires)}
	return nil
}

// Rotate implements Store.
func (s *MemoryStore) Rotate(_ context.Context, old [sha256.Size]byte, next RefreshToken, now time.Time) (Family, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[old]
	if !ok {
		return Family{}, ErrInvalidRefresh
	}
	fam, ok := s.families[t.family]
	if !ok || fam.revoked || !now.Before(fam.f.Expires) {
		return Family{}, ErrInvalidRefresh
	}
	if t.used {
		if next.Hash == t.successor && now.Before(t.retryUntil) {
			if succ, ok := s.tokens[next.Hash]; ok && !succ.used {
				return cloneFamily(fam.f), nil
			}
		}
		fam.revoked = true
		return Family{}, ErrRefreshReused
	}
	if !now.Before(t.expires) {
		return Family{}, ErrInvalidRefresh
	}
	t.used, t.successor, t.retryUntil = true, next.Hash, next.RetryUntil
	s.tokens[next.Hash] = &memToken{family: t.family, expires: minTime(next.Expires, fam.f.Expires)}
	return cloneFamily(fam.f), nil
}

// Family implements Store.
func (s *MemoryStore) Family(_ context.Context, h [sha256.Size]byte, now time.Time) (Family, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[h]
	if !ok {
		return Family{}, ErrInvalidRefresh
	}
	fam, ok := s.families[t.family]
	if !ok || fam.revoked || !now.Before(fam.f.Expires) {
		return Family{}, ErrInvalidRefresh
	}
	return cloneFamily(fam.f), nil
}

// RevokeToken implements Store.
func (s *MemoryStore) RevokeToken(_ context.Context, h [sha256.Size]byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[h]; ok {
		if fam, ok := s.families[t.family]; ok {
			fam.revoked = true
		}
	}
	return nil
}

// RevokeFamily implements Store.
func (s *MemoryStore) RevokeFamily(_ context.Context, id string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fam, ok := s.families[id]; ok {
		fam.revoked = true
	}
	return nil
}

// RevokeSubject implements Store.
func (s *MemoryStore) RevokeSubject(_ context.Context, subject string, now, keepUntil time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fam := range s.families {
		if fam.f.Subject == subject {
			fam.revoked = true
		}
	}
	if c, ok := s.cutoffs[subject]; !ok || now.After(c.at) {
		s.cutoffs[subject] = memCutoff{at: now, keep: keepUntil}
	}
	return nil
}

// RevokeJTI implements Store.
func (s *MemoryStore) RevokeJTI(_ context.Context, jti string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.jtis[jti]) {
		s.jtis[jti] = until
	}
	return nil
}

// AccessRevoked implements Store.
func (s *MemoryStore) AccessRevoked(_ context.Context, jti, subject string, issuedAt time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jtis[jti]; ok {
		return true, nil
	}
	if c, ok := s.cutoffs[subject]; ok && !issuedAt.After(c.at) {
		return true, nil
	}
	return false, nil
}

// prune drops what can no longer matter, at most once a minute.
func (s *MemoryStore) prune(now time.Time) {
	if now.Sub(s.lastPrune) < time.Minute {
		return
	}
	s.lastPrune = now
	for id, fam := range s.families {
		if !now.Before(fam.f.Expires) {
			delete(s.families, id)
		}
	}
	for h, t := range s.tokens {
		if _, ok := s.families[t.family]; !ok {
			delete(s.tokens, h)
		}
	}
	for jti, until := range s.jtis {
		if !now.Before(until) {
			delete(s.jtis, jti)
		}
	}
	for sub, c := range s.cutoffs {
		if !now.Before(c.keep) {
			delete(s.cutoffs, sub)
		}
	}
}

func cloneFamily(f Family) Family {
	f.Roles = append([]string(nil), f.Roles...)
	f.Scopes = append([]string(nil), f.Scopes...)
	return f
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
