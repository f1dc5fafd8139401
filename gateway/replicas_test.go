package gateway_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/testutil"
)

// TestReplicasShareSessionsAndRevocations runs two real gateway processes
// with users in one real PostgreSQL and sessions and refresh tokens in one
// real Redis: a session made on one replica works on the other, a logout on
// one ends it on both, and a refresh token used on one cannot be replayed
// on the other.
func TestReplicasShareSessionsAndRevocations(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	rd := testutil.StartRedis(t)
	ctx := context.Background()
	st, err := users.NewSQLStore(ctx, pg.Open(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := password.NewHasher(password.Params{})
	hash, _ := h.Hash(testPassword)
	if err := st.Create(ctx, users.User{Name: "erin", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	const limit = 10
	startReplicas(t, 2, rd.URL(), limit, pg.DSN).checkShared(t, limit)
}

// writeEd25519 writes a fresh Ed25519 private key, readable by its owner
// only.
func writeEd25519(t *testing.T, path string) {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
