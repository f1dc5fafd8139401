package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampartsec/rampart/internal/sqldb"
)

var sqlMigrations = []sqldb.Migration{{
	SQLite: `CREATE TABLE rampart_sessions (
		key TEXT PRIMARY KEY,
		user_name TEXT NOT NULL,
		roles TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		ip TEXT NOT NULL,
		user_agent TEXT NOT NULL);
		CREATE INDEX rampart_sessions_user ON rampart_sessions (user_name);
		CREATE INDEX rampart_sessions_expires ON rampart_sessions (expires_at)`,
	Postgres: `CREATE TABLE rampart_sessions (
		key TEXT PRIMARY KEY,
		user_name TEXT NOT NULL,
		roles TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL,
		ip TEXT NOT NULL,
		user_agent TEXT NOT NULL);
		CREATE INDEX rampart_sessions_user ON rampart_sessions (user_name);
		CREATE INDEX rampart_sessions_expires ON rampart_sessions (expires_at)`,
}, {
	// Identities from external providers, and the record MAC.
	SQLite: `ALTER TABLE rampart_sessions ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
		ALTER TABLE rampart_sessions ADD COLUMN method TEXT NOT NULL DEFAULT '';
		ALTER TABLE rampart_sessions ADD COLUMN mac TEXT NOT NULL DEFAULT ''`,
	Postgres: `ALTER TABLE rampart_sessions ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
		ALTER TABLE rampart_sessions ADD COLUMN method TEXT NOT NULL DEFAULT '';
		ALTER TABLE rampart_sessions ADD COLUMN mac TEXT NOT NULL DEFAULT ''`,
}}

// sweepEvery bounds how often Create removes expired rows.
const sweepEvery = time.Minute

// SQLStore is a Store in SQLite (the default) or PostgreSQL. Expired rows
// are never returned, and are removed by Create at most once a minute, so
// no background goroutine is needed. It is safe for concurrent use.
type SQLStore struct {
	db        *sqldb.DB
	now       func() time.Time
	lastSweep atomic.Int64

	// Prepared once (see sqldb.Statements): a session is looked up on
	// every request.
	stmts                                                       *sqldb.Statements
	qCreate, qFind, qTouch, qDelete, qDeleteUser, qList, qSweep *sql.Stmt
}

var _ Store = (*SQLStore)(nil)

// NewSQLStore returns a store in db, migrating its schema first and
// preparing its statements. now is the store's clock for its own expiry
// bookkeeping; nil means time.Now. The caller keeps ownership of db, and
// calls Close before closing it.
func NewSQLStore(ctx context.Context, db *sqldb.DB, now func() time.Time) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("session: nil database")
	}
	if err := db.Apply(ctx, "sessions", sqlMigrations); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	d := db.Dialect
	p := db.Statements(ctx)
	s := &SQLStore{
		db:    db,
		now:   now,
		stmts: p,
		qCreate: p.Prepare(d.Rebind(`INSERT INTO rampart_sessions (key, user_name, roles, created_at, last_seen_at, expires_at, ip, user_agent, issuer, method, mac)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)),
		qFind:       p.Prepare(d.Rebind(`SELECT user_name, roles, created_at, last_seen_at, ip, user_agent, issuer, method, mac FROM rampart_sessions WHERE key = ? AND expires_at > ?`)),
		qTouch:      p.Prepare(d.Rebind(`UPDATE rampart_sessions SET last_seen_at = ?, expires_at = ? WHERE key = ? AND expires_at > ?`)),
		qDelete:     p.Prepare(d.Rebind(`DELETE FROM rampart_sessions WHERE key = ?`)),
		qDeleteUser: p.Prepare(d.Rebind(`DELETE FROM rampart_sessions WHERE user_name = ?`)),
		qList: p.Prepare(d.Rebind(`SELECT key, user_name, roles, created_at, last_seen_at, ip, user_agent, issuer, method, mac FROM rampart_sessions
			WHERE user_name = ? AND expires_at > ? ORDER BY created_at, key`)),
		qSweep: p.Prepare(d.Rebind(`DELETE FROM rampart_sessions WHERE expires_at <= ?`)),
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements. The database stays open: its
// owner closes it after the store.
func (s *SQLStore) Close() error { return s.stmts.Close() }

// Create implements Store.
func (s *SQLStore) Create(ctx context.Context, key Key, rec Record, ttl time.Duration) error {
	now := s.now()
	s.sweep(ctx, now)
	_, err := s.qCreate.ExecContext(ctx, key.String(), rec.User, strings.Join(rec.Roles, ","),
		rec.Created.UnixMilli(), rec.LastSeen.UnixMilli(), now.Add(ttl).UnixMilli(), rec.IP, rec.UserAgent, rec.Issuer, rec.Method, rec.MAC)
	return err
}

// sweep deletes expired rows, at most once per sweepEvery across callers.
func (s *SQLStore) sweep(ctx context.Context, now time.Time) {
	last := s.lastSweep.Load()
	if now.UnixMilli()-last < sweepEvery.Milliseconds() || !s.lastSweep.CompareAndSwap(last, now.UnixMilli()) {
		return
	}
	// A failed sweep only leaves dead rows that Find never returns.
	_, _ = s.qSweep.ExecContext(ctx, now.UnixMilli())
}

// Find implements Store.
func (s *SQLStore) Find(ctx context.Context, key Key) (Record, bool, error) {
	var rec Record
	var roles string
	var created, seen int64
	err := s.qFind.QueryRowContext(ctx, key.String(), s.now().UnixMilli()).
		Scan(&rec.User, &roles, &created, &seen, &rec.IP, &rec.UserAgent, &rec.Issuer, &rec.Method, &rec.MAC)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	rec.Roles = splitRoles(roles)
	rec.Created = time.UnixMilli(created)
	rec.LastSeen = time.UnixMilli(seen)
	return rec, true, nil
}

// Touch implements Store.
func (s *SQLStore) Touch(ctx context.Context, key Key, rec Record, ttl time.Duration) (bool, error) {
	now := s.now()
	res, err := s.qTouch.ExecContext(ctx, rec.LastSeen.UnixMilli(), now.Add(ttl).UnixMilli(), key.String(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Delete implements Store.
func (s *SQLStore) Delete(ctx context.Context, key Key) error {
	_, err := s.qDelete.ExecContext(ctx, key.String())
	return err
}

// DeleteUser implements Store.
func (s *SQLStore) DeleteUser(ctx context.Context, user string) (int, error) {
	res, err := s.qDeleteUser.ExecContext(ctx, user)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// List implements Store.
func (s *SQLStore) List(ctx context.Context, user string) ([]Entry, error) {
	rows, err := s.qList.QueryContext(ctx, user, s.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var key, roles string
		var created, seen int64
		if err := rows.Scan(&key, &e.Record.User, &roles, &created, &seen, &e.Record.IP, &e.Record.UserAgent,
			&e.Record.Issuer, &e.Record.Method, &e.Record.MAC); err != nil {
			return nil, err
		}
		k, ok := ParseKey(key)
		if !ok {
			continue // not written by this package
		}
		e.Key = k
		e.Record.Roles = splitRoles(roles)
		e.Record.Created = time.UnixMilli(created)
		e.Record.LastSeen = time.UnixMilli(seen)
		out = append(out, e)
	}
	return out, rows.Err()
}

func splitRoles(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
