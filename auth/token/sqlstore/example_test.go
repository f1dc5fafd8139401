package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/token/sqlstore"
	"github.com/rampartsec/rampart/internal/sqldb"
)

func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(dir, "rampart.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	store, err := sqlstore.New(ctx, db)
	if err != nil {
		panic(err)
	}
	tokens, err := token.New(token.Config{AccessTTL: 15 * time.Minute, RefreshTTL: 720 * time.Hour,
		InsecureEphemeralKey: true, Store: store})
	if err != nil {
		panic(err)
	}
	pair, _ := tokens.Issue(ctx, &auth.Identity{Subject: "alice"})
	next, err := tokens.Refresh(ctx, pair.RefreshToken)
	fmt.Println(err)
	_, _ = tokens.Refresh(ctx, next.RefreshToken)
	_, err = tokens.Refresh(ctx, pair.RefreshToken) // replayed after its successor was used
	fmt.Println(err)
	// Output:
	// <nil>
	// token: refresh token reused; family revoked
}
