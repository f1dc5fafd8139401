package users_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/sqldb"
)

func BenchmarkLookupSQLite(b *testing.B) {
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(b.TempDir(), "users.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Create(ctx, users.User{Name: "alice", Roles: []string{"admin"}, PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Lookup(ctx, "alice"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = users.CanonicalName("Alice.Smith@example.com")
	}
}
