package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/token/sqlstore"
	"github.com/rampartsec/rampart/auth/token/storetest"
	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/internal/testutil"
)

func openSQLite(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformanceSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) token.Store {
		s, err := sqlstore.New(context.Background(), openSQLite(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestConformancePostgres runs the suite against a real PostgreSQL server,
// each subtest in its own database: subtests run in parallel at different
// fixed instants, and one's pruning must not remove another's records.
func TestConformancePostgres(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	storetest.Run(t, func(t *testing.T) token.Store {
		s, err := sqlstore.New(context.Background(), pg.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewRejectsNilDatabase(t *testing.T) {
	t.Parallel()
	if _, err := sqlstore.New(context.Background(), nil); err == nil {
		t.Error("got nil error for a nil database")
	}
}

// TestStoresHashesOnly looks into the database: no refresh token, only its
// SHA-256, may be stored.
func TestStoresHashesOnly(t *testing.T) {
	t.Parallel()
	db := openSQLite(t)
	s, err := sqlstore.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	m, err := token.New(token.Config{AccessTTL: time.Minute, RefreshTTL: time.Hour, InsecureEphemeralKey: true, Store: s})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Issue(context.Background(), &auth.Identity{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := db.QueryRow(`SELECT hash FROM rampart_refresh_tokens`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(p.RefreshToken))
	if stored != hex.EncodeToString(sum[:]) || strings.Contains(stored, p.RefreshToken[4:]) {
		t.Errorf("stored %q, want the SHA-256 of the token", stored)
	}
}

// TestExpiredFamiliesArePruned checks that expired rows do not accumulate.
func TestExpiredFamiliesArePruned(t *testing.T) {
	t.Parallel()
	db := openSQLite(t)
	s, err := sqlstore.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	create := func(id string, at time.Time) {
		f := token.Family{ID: id, Subject: "u", Created: at, Expires: at.Add(time.Hour)}
		if err := s.CreateFamily(context.Background(), f, token.RefreshToken{Hash: sha256.Sum256([]byte(id)), FamilyID: id, Expires: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	create("old", base)
	create("new", base.Add(3*time.Hour)) // more than an hour later: prunes
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM rampart_token_families`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("got %d families, want 1 (the expired one pruned)", n)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM rampart_refresh_tokens`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("got %d tokens, want 1 (deleted with their family)", n)
	}
}
