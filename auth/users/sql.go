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

	// Prepared once (see sqldb.Statements).
	stmts                                                                           *sqldb.Statements
	qInsert, qLookup, qList, qSetPassword, qSetHash, qSetLocked, qSetRoles, qDelete *sql.Stmt
}

var _ Store = (*SQLStore)(nil)

// NewSQLStore returns a store in db, migrating its schema first and
// preparing its statements. now is the clock for timestamps; nil means
// time.Now. The caller keeps ownership of db, calls Close when the store is
// no longer used, and closes db after it.
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
	p := db.Statements(ctx)
	s := &SQLStore{
		db:    db,
		now:   now,
		stmts: p,
		qInsert: p.Prepare(d.Rebind(`INSERT INTO rampart_users (name, roles, password_hash, locked, created_at, password_changed_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`)),
		qLookup:      p.Prepare(d.Rebind(`SELECT name, roles, password_hash, locked, created_at, password_changed_at FROM rampart_users WHERE name = ?`)),
		qList:        p.Prepare(`SELECT name, roles, password_hash, locked, created_at, password_changed_at FROM rampart_users ORDER BY name`),
		qSetPassword: p.Prepare(d.Rebind(`UPDATE rampart_users SET password_hash = ?, password_changed_at = ? WHERE name = ?`)),
		qSetHash:     p.Prepare(d.Rebind(`UPDATE rampart_users SET password_hash = ? WHERE name = ?`)),
		qSetLocked:   p.Prepare(d.Rebind(`UPDATE rampart_users SET locked = ? WHERE name = ?`)),
		qSetRoles:    p.Prepare(d.Rebind(`UPDATE rampart_users SET roles = ? WHERE name = ?`)),
		qDelete:      p.Prepare(d.Rebind(`DELETE FROM rampart_users WHERE name = ?`)),
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return s, nil
}

// Close releases the prepared statements. The database stays open: its
// owner closes it after the store.
func (s *SQLStore) Close() error { return s.stmts.Close() }

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
	res, err := s.qInsert.ExecContext(ctx, name, joinRoles(roles), u.PasswordHash, u.Locked, now, now)
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
	u, err := scanUser(s.qLookup.QueryRowContext(ctx, name))
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
	rows, err := s.qList.QueryContext(ctx)
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
func (s *SQLStore) update(ctx context.Context, query *sql.Stmt, name string, args ...any) error {
	name, err := CanonicalName(name)
	if err != nil {
		return ErrNotFound
	}
	res, err := query.ExecContext(ctx, append(args, name)...)
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
