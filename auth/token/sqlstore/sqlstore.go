package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/internal/sqldb"
)

// sqlMigrations is the refresh-token schema, in both dialects. Released steps
// are never edited; new ones are appended. Times are Unix milliseconds.
var sqlMigrations = []sqldb.Migration{{
	SQLite: `
CREATE TABLE rampart_token_families (
	id          TEXT PRIMARY KEY,
	subject     TEXT NOT NULL,
	identity    TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	revoked_at  INTEGER
);
CREATE INDEX rampart_token_families_subject ON rampart_token_families (subject);
CREATE INDEX rampart_token_families_expires ON rampart_token_families (expires_at);
CREATE TABLE rampart_refresh_tokens (
	hash        TEXT PRIMARY KEY,
	family_id   TEXT NOT NULL REFERENCES rampart_token_families (id) ON DELETE CASCADE,
	expires_at  INTEGER NOT NULL,
	used_at     INTEGER
);
CREATE INDEX rampart_refresh_tokens_family ON rampart_refresh_tokens (family_id);
CREATE TABLE rampart_access_revocations (
	kind        TEXT NOT NULL,
	name        TEXT NOT NULL,
	revoked_at  INTEGER NOT NULL,
	keep_until  INTEGER NOT NULL,
	PRIMARY KEY (kind, name)
);`,
	Postgres: `
CREATE TABLE rampart_token_families (
	id          TEXT PRIMARY KEY,
	subject     TEXT NOT NULL,
	identity    TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	revoked_at  BIGINT
);
CREATE INDEX rampart_token_families_subject ON rampart_token_families (subject);
CREATE INDEX rampart_token_families_expires ON rampart_token_families (expires_at);
CREATE TABLE rampart_refresh_tokens (
	hash        TEXT PRIMARY KEY,
	family_id   TEXT NOT NULL REFERENCES rampart_token_families (id) ON DELETE CASCADE,
	expires_at  BIGINT NOT NULL,
	used_at     BIGINT
);
CREATE INDEX rampart_refresh_tokens_family ON rampart_refresh_tokens (family_id);
CREATE TABLE rampart_access_revocations (
	kind        TEXT NOT NULL,
	name        TEXT NOT NULL,
	revoked_at  BIGINT NOT NULL,
	keep_until  BIGINT NOT NULL,
	PRIMARY KEY (kind, name)
);`,
}, {
	// A used token remembers the token it was rotated into and the end of
	// that rotation's retry window.
	SQLite: `ALTER TABLE rampart_refresh_tokens ADD COLUMN successor TEXT;
		ALTER TABLE rampart_refresh_tokens ADD COLUMN retry_until INTEGER`,
	Postgres: `ALTER TABLE rampart_refresh_tokens ADD COLUMN successor TEXT;
		ALTER TABLE rampart_refresh_tokens ADD COLUMN retry_until BIGINT`,
}}

// pruneEvery is how often Store deletes expired rows, piggybacking on
// CreateFamily so that no goroutine is needed.
const pruneEvery = time.Hour

// Store is a token.Store in SQLite (the embedded default) or PostgreSQL,
// through package sqldb. Token hashes, never tokens, are stored. It is safe
// for concurrent use by several goroutines and several processes sharing
// the database: Rotate runs in a transaction and claims the old token with
// a conditional UPDATE, so two concurrent exchanges cannot both succeed.
type Store struct {
	db *sqldb.DB
	q  sqlQueries
	// The lookups outside transactions, prepared once (see
	// sqldb.Statements): with auth.tokens.revocation_list, selectRevoked
	// runs on every request.
	stmts                      *sqldb.Statements
	selectToken, selectRevoked *sql.Stmt

	mu        sync.Mutex
	lastPrune time.Time
}

type sqlQueries struct {
	insertFamily, insertToken, selectToken, selectUsed, claimToken, revokeFamily,
	revokeByToken, revokeSubject, upsertRevocation, selectRevoked,
	pruneFamilies, pruneRevocations string
}

var _ token.Store = (*Store)(nil)

// New applies the refresh-token schema to db (safe to call from several
// replicas at once) and returns a store using it.
func New(ctx context.Context, db *sqldb.DB) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil database")
	}
	if err := db.Apply(ctx, "tokens", sqlMigrations); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	r := db.Dialect.Rebind
	s := &Store{db: db, q: sqlQueries{
		insertFamily: r(`INSERT INTO rampart_token_families (id, subject, identity, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		insertToken:  r(`INSERT INTO rampart_refresh_tokens (hash, family_id, expires_at) VALUES (?, ?, ?)`),
		selectToken: r(`SELECT t.family_id, t.expires_at, t.used_at, t.successor, t.retry_until, f.subject, f.identity, f.created_at, f.expires_at, f.revoked_at
			FROM rampart_refresh_tokens t JOIN rampart_token_families f ON f.id = t.family_id WHERE t.hash = ?`),
		selectUsed:    r(`SELECT used_at FROM rampart_refresh_tokens WHERE hash = ? AND family_id = ?`),
		claimToken:    r(`UPDATE rampart_refresh_tokens SET used_at = ?, successor = ?, retry_until = ? WHERE hash = ? AND used_at IS NULL`),
		revokeFamily:  r(`UPDATE rampart_token_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
		revokeByToken: r(`UPDATE rampart_token_families SET revoked_at = ? WHERE revoked_at IS NULL AND id = (SELECT family_id FROM rampart_refresh_tokens WHERE hash = ?)`),
		revokeSubject: r(`UPDATE rampart_token_families SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL`),
		upsertRevocation: r(`INSERT INTO rampart_access_revocations (kind, name, revoked_at, keep_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, name) DO UPDATE SET
				revoked_at = CASE WHEN excluded.revoked_at > rampart_access_revocations.revoked_at THEN excluded.revoked_at ELSE rampart_access_revocations.revoked_at END,
				keep_until = CASE WHEN excluded.keep_until > rampart_access_revocations.keep_until THEN excluded.keep_until ELSE rampart_access_revocations.keep_until END`),
		selectRevoked: r(`SELECT COUNT(*) FROM rampart_access_revocations
			WHERE (kind = 'jti' AND name = ?) OR (kind = 'sub' AND name = ? AND revoked_at >= ?)`),
		pruneFamilies:    r(`DELETE FROM rampart_token_families WHERE expires_at < ?`),
		pruneRevocations: r(`DELETE FROM rampart_access_revocations WHERE keep_until < ?`),
	}}
	s.stmts = db.Statements(ctx)
	s.selectToken = s.stmts.Prepare(s.q.selectToken)
	s.selectRevoked = s.stmts.Prepare(s.q.selectRevoked)
	if err := s.stmts.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements. The database stays open: its
// owner closes it after the store.
func (s *Store) Close() error { return s.stmts.Close() }

// storedIdentity is the JSON kept with a family.
type storedIdentity struct {
	Roles  []string `json:"roles,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
	MAC    string   `json:"mac,omitempty"`
}

func hashKey(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }

func millis(t time.Time) int64 { return t.UnixMilli() }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// CreateFamily implements Store.
func (s *Store) CreateFamily(ctx context.Context, f token.Family, t token.RefreshToken) error {
	ident, err := json.Marshal(storedIdentity{Roles: f.Roles, Scopes: f.Scopes, MAC: f.MAC})
	if err != nil {
		return fmt.Errorf("sqlstore: encode family: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: create family: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.q.insertFamily, f.ID, f.Subject, string(ident), millis(f.Created), millis(f.Expires)); err != nil {
		return fmt.Errorf("sqlstore: create family: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q.insertToken, hashKey(t.Hash), f.ID, millis(minTime(t.Expires, f.Expires))); err != nil {
		return fmt.Errorf("sqlstore: create family: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: create family: %w", err)
	}
	s.maybePrune(ctx, f.Created)
	return nil
}

// maybePrune deletes expired families (their tokens go with them) and
// expired revocation records, at most once per pruneEvery. A failure only
// delays the cleanup, so it is not reported to the caller.
func (s *Store) maybePrune(ctx context.Context, now time.Time) {
	s.mu.Lock()
	if now.Sub(s.lastPrune) < pruneEvery {
		s.mu.Unlock()
		return
	}
	s.lastPrune = now
	s.mu.Unlock()
	_, _ = s.db.ExecContext(ctx, s.q.pruneFamilies, millis(now))
	_, _ = s.db.ExecContext(ctx, s.q.pruneRevocations, millis(now))
}

// Rotate implements Store.
func (s *Store) Rotate(ctx context.Context, old [sha256.Size]byte, next token.RefreshToken, now time.Time) (token.Family, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: rotate: %w", err)
	}
	defer tx.Rollback()
	var (
		famID, subject, ident         string
		tokExp, famCreated, famExp    int64
		usedAt, retryUntil, revokedAt sql.NullInt64
		successor                     sql.NullString
	)
	err = tx.QueryRowContext(ctx, s.q.selectToken, hashKey(old)).Scan(&famID, &tokExp, &usedAt, &successor, &retryUntil, &subject, &ident, &famCreated, &famExp, &revokedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return token.Family{}, token.ErrInvalidRefresh
	}
	if err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: rotate: %w", err)
	}
	nowMs := millis(now)
	if revokedAt.Valid || nowMs >= famExp {
		return token.Family{}, token.ErrInvalidRefresh
	}
	if usedAt.Valid {
		retry, err := s.isRetry(ctx, tx, famID, hashKey(next.Hash), successor, retryUntil, nowMs)
		if err != nil {
			return token.Family{}, err
		}
		if !retry {
			return token.Family{}, s.revokeReused(ctx, tx, famID, nowMs)
		}
		return decodeFamily(famID, subject, ident, famCreated, famExp, "rotate")
	}
	if nowMs >= tokExp {
		return token.Family{}, token.ErrInvalidRefresh
	}
	// The conditional UPDATE is the atomic claim: under concurrency only one
	// transaction changes the row; the other sees zero rows and the replay
	// is treated as reuse.
	var nextRetry sql.NullInt64
	if !next.RetryUntil.IsZero() {
		nextRetry = sql.NullInt64{Int64: millis(next.RetryUntil), Valid: true}
	}
	res, err := tx.ExecContext(ctx, s.q.claimToken, nowMs, hashKey(next.Hash), nextRetry, hashKey(old))
	if err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: rotate: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: rotate: %w", err)
	} else if n != 1 {
		// Another exchange claimed the token between the read and the
		// claim. If it rotated into the same successor, this is a retry
		// racing the first attempt (read again: the claim is committed).
		var sameFam string
		err := tx.QueryRowContext(ctx, s.q.selectToken, hashKey(old)).Scan(&sameFam, &tokExp, &usedAt, &successor, &retryUntil, &subject, &ident, &famCreated, &famExp, &revokedAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return token.Family{}, fmt.Errorf("sqlstore: rotate: %w", err)
		}
		if err == nil && sameFam == famID && !revokedAt.Valid {
			retry, err := s.isRetry(ctx, tx, famID, hashKey(next.Hash), successor, retryUntil, nowMs)
			if err != nil {
				return token.Family{}, err
			}
			if retry {
				return decodeFamily(famID, subject, ident, famCreated, famExp, "rotate")
			}
		}
		return token.Family{}, s.revokeReused(ctx, tx, famID, nowMs)
	}
	if _, err := tx.ExecContext(ctx, s.q.insertToken, hashKey(next.Hash), famID, min(millis(next.Expires), famExp)); err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: rotate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: rotate: %w", err)
	}
	return decodeFamily(famID, subject, ident, famCreated, famExp, "rotate")
}

// isRetry reports whether presenting a used token again with next is a
// retry of its rotation: next is the successor it was rotated into, the
// retry window is open, and the successor is still unused.
func (s *Store) isRetry(ctx context.Context, tx *sql.Tx, famID, next string, successor sql.NullString, retryUntil sql.NullInt64, nowMs int64) (bool, error) {
	if !successor.Valid || successor.String != next || !retryUntil.Valid || nowMs >= retryUntil.Int64 {
		return false, nil
	}
	var used sql.NullInt64
	err := tx.QueryRowContext(ctx, s.q.selectUsed, next, famID).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: rotate: %w", err)
	}
	return !used.Valid, nil
}

// decodeFamily builds the Family of a row.
func decodeFamily(famID, subject, ident string, famCreated, famExp int64, op string) (token.Family, error) {
	var si storedIdentity
	if err := json.Unmarshal([]byte(ident), &si); err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: %s: stored identity: %w", op, err)
	}
	return token.Family{ID: famID, Subject: subject, Roles: si.Roles, Scopes: si.Scopes, MAC: si.MAC,
		Created: time.UnixMilli(famCreated), Expires: time.UnixMilli(famExp)}, nil
}

// Family implements token.Store.
func (s *Store) Family(ctx context.Context, h [sha256.Size]byte, now time.Time) (token.Family, error) {
	var (
		famID, subject, ident         string
		tokExp, famCreated, famExp    int64
		usedAt, retryUntil, revokedAt sql.NullInt64
		successor                     sql.NullString
	)
	err := s.selectToken.QueryRowContext(ctx, hashKey(h)).Scan(&famID, &tokExp, &usedAt, &successor, &retryUntil, &subject, &ident, &famCreated, &famExp, &revokedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return token.Family{}, token.ErrInvalidRefresh
	}
	if err != nil {
		return token.Family{}, fmt.Errorf("sqlstore: family: %w", err)
	}
	if revokedAt.Valid || millis(now) >= famExp {
		return token.Family{}, token.ErrInvalidRefresh
	}
	return decodeFamily(famID, subject, ident, famCreated, famExp, "family")
}

// revokeReused revokes the family inside tx and commits, so the revocation
// sticks even though the exchange fails.
func (s *Store) revokeReused(ctx context.Context, tx *sql.Tx, famID string, nowMs int64) error {
	if _, err := tx.ExecContext(ctx, s.q.revokeFamily, nowMs, famID); err != nil {
		return fmt.Errorf("sqlstore: revoke reused family: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: revoke reused family: %w", err)
	}
	return token.ErrRefreshReused
}

// RevokeToken implements Store.
func (s *Store) RevokeToken(ctx context.Context, h [sha256.Size]byte, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.q.revokeByToken, millis(now), hashKey(h)); err != nil {
		return fmt.Errorf("sqlstore: revoke: %w", err)
	}
	return nil
}

// RevokeFamily implements Store.
func (s *Store) RevokeFamily(ctx context.Context, id string, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.q.revokeFamily, millis(now), id); err != nil {
		return fmt.Errorf("sqlstore: revoke family: %w", err)
	}
	return nil
}

// RevokeSubject implements Store.
func (s *Store) RevokeSubject(ctx context.Context, subject string, now, keepUntil time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke subject: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.q.revokeSubject, millis(now), subject); err != nil {
		return fmt.Errorf("sqlstore: revoke subject: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q.upsertRevocation, "sub", subject, millis(now), millis(keepUntil)); err != nil {
		return fmt.Errorf("sqlstore: revoke subject: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: revoke subject: %w", err)
	}
	return nil
}

// RevokeJTI implements Store.
func (s *Store) RevokeJTI(ctx context.Context, jti string, until time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.q.upsertRevocation, "jti", jti, millis(until), millis(until)); err != nil {
		return fmt.Errorf("sqlstore: revoke access token: %w", err)
	}
	return nil
}

// AccessRevoked implements Store.
func (s *Store) AccessRevoked(ctx context.Context, jti, subject string, issuedAt time.Time) (bool, error) {
	var n int
	if err := s.selectRevoked.QueryRowContext(ctx, jti, subject, millis(issuedAt)).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: revocation lookup: %w", err)
	}
	return n > 0, nil
}
