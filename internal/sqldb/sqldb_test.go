package sqldb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/internal/testutil"
)

var steps = []sqldb.Migration{
	{SQLite: `CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		Postgres: `CREATE TABLE things (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL)`},
	{SQLite: `ALTER TABLE things ADD COLUMN note TEXT NOT NULL DEFAULT ''`,
		Postgres: `ALTER TABLE things ADD COLUMN note TEXT NOT NULL DEFAULT ''`},
}

// conformance runs the same checks on every dialect.
func conformance(t *testing.T, open func() *sqldb.DB) {
	ctx := context.Background()
	db := open()
	defer db.Close()

	// Concurrent first starts: exactly one migrates, none fails.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := open()
			defer other.Close()
			errs <- other.Apply(ctx, "things", steps[:1])
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Apply: %v", err)
		}
	}
	if _, err := db.ExecContext(ctx, db.Dialect.Rebind(`INSERT INTO things (name) VALUES (?)`), "kept"); err != nil {
		t.Fatal(err)
	}
	// An upgrade adds the second step and keeps the data.
	if err := db.Apply(ctx, "things", steps); err != nil {
		t.Fatal(err)
	}
	var name, note string
	if err := db.QueryRowContext(ctx, `SELECT name, note FROM things`).Scan(&name, &note); err != nil || name != "kept" {
		t.Fatalf("data after migration: %q %q %v", name, note, err)
	}
	// Idempotent.
	if err := db.Apply(ctx, "things", steps); err != nil {
		t.Fatal(err)
	}
	// An older binary refuses a newer schema.
	if err := db.Apply(ctx, "things", steps[:1]); !errors.Is(err, sqldb.ErrSchemaTooNew) {
		t.Fatalf("older binary: got %v, want ErrSchemaTooNew", err)
	}
	// A failing step leaves nothing half-applied.
	bad := append(append([]sqldb.Migration(nil), steps...), sqldb.Migration{SQLite: `CREATE TABLE broken (`, Postgres: `CREATE TABLE broken (`})
	if err := db.Apply(ctx, "things", bad); err == nil {
		t.Fatal("broken step applied")
	}
	if err := db.Apply(ctx, "things", steps); err != nil {
		t.Fatalf("after failed migration: %v", err)
	}
	statements(t, db)
}

// statements checks prepared statements: reused from many goroutines (so
// on several pooled connections), bounded by each call's context, a bad
// query reported with its text, and unusable after Close.
func statements(t *testing.T, db *sqldb.DB) {
	t.Helper()
	ctx := context.Background()
	p := db.Statements(ctx)
	count := p.Prepare(db.Dialect.Rebind(`SELECT COUNT(*) FROM things WHERE name = ?`))
	insert := p.Prepare(db.Dialect.Rebind(`INSERT INTO things (name) VALUES (?)`))
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := insert.ExecContext(ctx, "prepared"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("prepared insert: %v", err)
	}
	var n int
	if err := count.QueryRowContext(ctx, "prepared").Scan(&n); err != nil || n != 160 {
		t.Fatalf("prepared count: got %d, %v, want 160", n, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := count.QueryRowContext(cancelled, "prepared").Scan(&n); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: got %v, want context.Canceled", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := count.QueryRowContext(ctx, "prepared").Scan(&n); err == nil {
		t.Fatal("statement usable after Close")
	}

	bad := db.Statements(ctx)
	ok := bad.Prepare(`SELECT COUNT(*) FROM things`)
	if st := bad.Prepare("SELECT nope FROM missing_table\nWHERE 1 = 1"); st != nil {
		t.Fatal("a bad query was prepared")
	}
	if st := bad.Prepare(`SELECT 1`); st != nil {
		t.Fatal("Prepare after a failure prepared")
	}
	err := bad.Err()
	if err == nil || !strings.Contains(err.Error(), `"SELECT nope FROM missing_table …"`) {
		t.Fatalf("bad query: got %v, want an error naming the query", err)
	}
	if err := ok.QueryRowContext(ctx).Scan(&n); err == nil {
		t.Fatal("statements prepared before a failure stay open")
	}
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "test.db")
	conformance(t, func() *sqldb.DB {
		db, err := sqldb.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	conformance(t, func() *sqldb.DB {
		db, err := sqldb.OpenPostgres(context.Background(), pg.DSN)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestRebind(t *testing.T) {
	t.Parallel()
	got := sqldb.Postgres.Rebind(`SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?`)
	want := `SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2`
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := sqldb.SQLite.Rebind("x = ?"); got != "x = ?" {
		t.Errorf("sqlite: got %q", got)
	}
}

// TestOpenSQLiteCreatesPrivateFiles: a new database is mode 0600 in a new
// directory of mode 0700.
func TestOpenSQLiteCreatesPrivateFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "rampart.db")
	db, err := sqldb.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: got mode %04o, want %04o", p, got, want)
		}
	}
}
