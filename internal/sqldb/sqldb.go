// Package sqldb opens Rampart's SQL databases — SQLite through a pure-Go
// driver (the embedded default, nothing to install) and PostgreSQL through
// pgx (for many replicas) — and applies each component's schema migrations
// safely at start.
//
// Components (users, sessions, refresh tokens, …) each own a list of
// migration steps. Apply records which steps ran in the table
// rampart_migrations, runs the missing ones in one transaction, and holds a
// lock while doing so, so two replicas starting at once cannot both migrate.
// A database whose recorded version is newer than the code knows is refused:
// an old binary must not write into a schema it does not understand.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect says which SQL flavour a DB speaks.
type Dialect int

// The supported dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is an open database and its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
}

// OpenSQLite opens (creating if needed) the SQLite database at path with
// settings for a concurrent server: WAL journal, a busy timeout, foreign
// keys on, and synchronous=NORMAL (durable across process crashes).
//
// A database file that does not exist yet is created mode 0600, in a
// directory created mode 0700 when that is missing too: it holds password
// hashes and session and token hashes. An existing file keeps its mode
// (the configuration audit warns about one readable by others).
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	return &DB{DB: db, Dialect: SQLite}, nil
}

// OpenPostgres connects to PostgreSQL at dsn (a postgres:// URL or a
// key=value string).
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqldb: open postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: connect to postgres: %w", &UnreachableError{Err: redactDSN(err, dsn)})
	}
	return &DB{DB: db, Dialect: Postgres}, nil
}

// UnreachableError is returned by OpenPostgres when the settings are
// usable but the server did not answer (down, refusing connections,
// refusing the credentials): a condition to retry, not a configuration
// mistake.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// redactDSN removes a password that a driver error may have echoed.
func redactDSN(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

// Rebind turns a query written with ? placeholders into the dialect's form
// ($1, $2, … for PostgreSQL). Write queries once, with ?, and Rebind them
// at construction time, not per call.
func (d Dialect) Rebind(query string) string {
	if d != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inQuote = !inQuote
		}
		if c == '?' && !inQuote {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Migration is one schema step, in both dialects. Steps are applied in
// order and never edited once released: add a new step instead.
type Migration struct {
	SQLite   string
	Postgres string
}

// ErrSchemaTooNew is returned when the database was migrated by a newer
// version of Rampart than this one.
var ErrSchemaTooNew = errors.New("sqldb: database schema is newer than this version of rampart")

// Apply brings component's schema up to date with steps. It is safe to call
// from several processes at once: on PostgreSQL a transaction-scoped
// advisory lock serialises migrations (DDL is transactional there); on
// SQLite the transaction starts with BEGIN IMMEDIATE, which takes the write
// lock.
func (db *DB) Apply(ctx context.Context, component string, steps []Migration) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fail := func(err error) error { return fmt.Errorf("sqldb: migrate %s: %w", component, err) }
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	if db.Dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("migrations")); err != nil {
			return fail(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS rampart_migrations (
		component TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fail(err)
	}
	var version int
	err = tx.QueryRowContext(ctx, db.Dialect.Rebind(`SELECT version FROM rampart_migrations WHERE component = ?`), component).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fail(err)
	}
	if version > len(steps) {
		return fmt.Errorf("%w: %s is at version %d, this binary knows %d", ErrSchemaTooNew, component, version, len(steps))
	}
	if version == len(steps) {
		return nil
	}
	for i := version; i < len(steps); i++ {
		stmt := steps[i].SQLite
		if db.Dialect == Postgres {
			stmt = steps[i].Postgres
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqldb: migrate %s to version %d: %w", component, i+1, err)
		}
	}
	upsert := `INSERT INTO rampart_migrations (component, version, applied_at) VALUES (?, ?, ?)
		ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at`
	if _, err := tx.ExecContext(ctx, db.Dialect.Rebind(upsert), component, len(steps), time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

func lockKey(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte("rampart:" + s))
	return int64(h.Sum64())
}

// createPrivate creates the file at path, empty and mode 0600, unless it
// exists; missing parent directories are created mode 0700. In-memory
// databases (":memory:", "file::memory:…") are left alone.
func createPrivate(path string) error {
	if path == "" || strings.Contains(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created meanwhile by another process
		}
		return err
	}
	return f.Close()
}

// Statements prepares the queries a store runs again and again, once, at
// construction. database/sql keeps a statement's prepared form on each
// pooled connection that ran it (and prepares it again on a connection that
// lacks it), so the database parses and plans each query once per
// connection instead of on every call — for SQLite, compiling the SELECT of
// a session lookup was a tenth of a busy gateway's CPU. Calls on a prepared
// statement take their context as before, so every bound on a call (such
// as store.sql_timeout) still applies, waiting for a connection included.
//
// Use it as: p := db.Statements(ctx); a := p.Prepare(q1); b :=
// p.Prepare(q2); if err := p.Err(); err != nil {…}. The first failure is
// kept and later Prepare calls do nothing; Err then closes what was
// prepared. The owner calls Close when it stops using the statements,
// before the database is closed. Statements is not safe for concurrent
// use while preparing; the prepared *sql.Stmt values are.
type Statements struct {
	ctx   context.Context
	db    *DB
	stmts []*sql.Stmt
	err   error
}

// Statements returns an empty set of statements prepared on db; ctx bounds
// their preparation only.
func (db *DB) Statements(ctx context.Context) *Statements {
	return &Statements{ctx: ctx, db: db}
}

// Prepare prepares query and returns it, or nil after a failure (reported
// by Err).
func (p *Statements) Prepare(query string) *sql.Stmt {
	if p.err != nil {
		return nil
	}
	st, err := p.db.PrepareContext(p.ctx, query)
	if err != nil {
		p.err = fmt.Errorf("sqldb: prepare %q: %w", firstLine(query), err)
		return nil
	}
	p.stmts = append(p.stmts, st)
	return st
}

// Err returns the first preparation failure, after closing every
// statement prepared so far; nil when all succeeded.
func (p *Statements) Err() error {
	if p.err != nil {
		_ = p.Close()
	}
	return p.err
}

// Close closes every prepared statement. It is safe to call more than once.
func (p *Statements) Close() error {
	var errs []error
	for _, st := range p.stmts {
		errs = append(errs, st.Close())
	}
	p.stmts = nil
	return errors.Join(errs...)
}

// firstLine shortens a query for an error message.
func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		q = q[:i] + " …"
	}
	return q
}
