package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/token/sqlstore"
)

// BenchmarkRotate measures one refresh-token exchange in SQLite: a
// transaction with a read, a conditional update and an insert.
func BenchmarkRotate(b *testing.B) {
	s, err := sqlstore.New(context.Background(), openSQLite(b))
	if err != nil {
		b.Fatal(err)
	}
	benchRotate(b, s)
}

func benchRotate(b *testing.B, s token.Store) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	hash := func(i uint64) [sha256.Size]byte {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], i)
		return sha256.Sum256(buf[:])
	}
	f := token.Family{ID: "bench", Subject: "alice", Roles: []string{"admin"}, Created: now, Expires: now.Add(24 * time.Hour)}
	if err := s.CreateFamily(ctx, f, token.RefreshToken{Hash: hash(0), FamilyID: "bench", Expires: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	var i uint64
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Rotate(ctx, hash(i), token.RefreshToken{Hash: hash(i + 1), Expires: now.Add(time.Hour)}, now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
