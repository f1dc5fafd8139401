package users

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rampartsec/rampart/internal/sqldb"
)

// migrations is the users component's schema. Released steps are never
// edited; add a step instead.
var migrations = []sqldb.Migration{{
	SQLite: `CREATE TABLE rampart_users (
		name TEXT PRIMARY KEY,
		roles TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL,
		locked INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		password_changed_at INTEGER NOT NULL)`,
	Postgres: `CREATE TABLE rampart_users (
		name TEXT PRIMARY KEY,
		roles TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL,
		locked BOOLEAN NOT NULL DEFAULT FALSE,
		created_at BIGINT NOT NULL,
		password_changed_at BIGINT NOT NULL)`,
}}

// SQLStore is a Store in SQLite or PostgreSQL. It is safe for concurrent
// use.
type SQLStore struct {
	db  *sqldb.DB
	now func() time.Time

	qInsert, qLookup, qList, qSetPassword, qSetHash, qSetLocked, qSetRoles, qDelete string
}

var _ Store = (*SQLStore)(nil)

// NewSQLStore returns a store in db, migrating its schema first. now is the
// clock for timestamps; nil means time.Now. The caller keeps ownership of
// db and closes it after the store is no longer used.
func NewSQLStore(ctx context.Context, db *sqldb.DB, now func() time.Time) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("users: nil database")
	}
	if err := db.Apply(ctx, "users", migrations); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	d := db.Dialect
	return &SQLStore{
		db:  db,
		now: now,
		qInsert: d.Rebind(`INSERT INTO rampart_users (name, roles, password_hash, locked, created_at, password_changed_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`),
		qLookup:      d.Rebind(`SELECT name, roles, password_hash, locked, created_at, password_changed_at FROM rampart_users WHERE name = ?`),
		qList:        `SELECT name, roles, password_hash, locked, created_at, password_changed_at FROM rampart_users ORDER BY name`,
		qSetPassword: d.Rebind(`UPDATE rampart_users SET password_hash = ?, password_changed_at = ? WHERE name = ?`),
		qSetHash:     d.Rebind(`UPDATE rampart_users SET password_hash = ? WHERE name = ?`),
		qSetLocked:   d.Rebind(`UPDATE rampart_users SET locked = ? WHERE name = ?`),
		qSetRoles:    d.Rebind(`UPDATE rampart_users SET roles = ? WHERE name = ?`),
		qDelete:      d.Rebind(`DELETE FROM rampart_users WHERE name = ?`),
	}, nil
}

// Create implements Store.
func (s *SQLStore) Create(ctx context.Context, u User) error {
	name, err := CanonicalName(u.Name)
	if err != nil {
		return err
	}
	roles, err := CanonicalRoles(u.Roles)
	if err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return errors.New("users: empty password hash")
	}
	now := s.now().UnixMilli()
	res, err := s.db.ExecContext(ctx, s.qInsert, name, joinRoles(roles), u.PasswordHash, u.Locked, now, now)
	if err != nil {
		return fmt.Errorf("users: create %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("users: create %s: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	return nil
}

// Lookup implements Store.
func (s *SQLStore) Lookup(ctx context.Context, name string) (User, error) {
	name, err := CanonicalName(name)
	if err != nil {
		// Invalid names are never stored; answer like any unknown name.
		return User{}, ErrNotFound
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, s.qLookup, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("users: lookup: %w", err)
	}
	return u, nil
}

// List implements Store.
func (s *SQLStore) List(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, s.qList)
	if err != nil {
		return nil, fmt.Errorf("users: list: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: list: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: list: %w", err)
	}
	return out, nil
}

// SetPassword implements Store.
func (s *SQLStore) SetPassword(ctx context.Context, name, hash string, byUser bool) error {
	if hash == "" {
		return errors.New("users: empty password hash")
	}
	if byUser {
		return s.update(ctx, s.qSetPassword, name, hash, s.now().UnixMilli())
	}
	return s.update(ctx, s.qSetHash, name, hash)
}

// SetLocked implements Store.
func (s *SQLStore) SetLocked(ctx context.Context, name string, locked bool) error {
	return s.update(ctx, s.qSetLocked, name, locked)
}

// SetRoles implements Store.
func (s *SQLStore) SetRoles(ctx context.Context, name string, roles []string) error {
	roles, err := CanonicalRoles(roles)
	if err != nil {
		return err
	}
	return s.update(ctx, s.qSetRoles, name, joinRoles(roles))
}

// Delete implements Store.
func (s *SQLStore) Delete(ctx context.Context, name string) error {
	return s.update(ctx, s.qDelete, name)
}

// update runs query with args followed by the canonical name, and maps "no
// row changed" to ErrNotFound.
func (s *SQLStore) update(ctx context.Context, query, name string, args ...any) error {
	name, err := CanonicalName(name)
	if err != nil {
		return ErrNotFound
	}
	res, err := s.db.ExecContext(ctx, query, append(args, name)...)
	if err != nil {
		return fmt.Errorf("users: update %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("users: update %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(sc scanner) (User, error) {
	var u User
	var roles string
	var created, changed int64
	if err := sc.Scan(&u.Name, &roles, &u.PasswordHash, &u.Locked, &created, &changed); err != nil {
		return User{}, err
	}
	u.Roles = splitRoles(roles)
	u.Created = time.UnixMilli(created).UTC()
	u.PasswordChanged = time.UnixMilli(changed).UTC()
	return u, nil
}
