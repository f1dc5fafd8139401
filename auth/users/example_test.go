package users_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/sqldb"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "rampart-example-")
	defer os.RemoveAll(dir)
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(dir, "rampart.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	store, err := users.NewSQLStore(ctx, db, nil) // migrates the schema
	if err != nil {
		panic(err)
	}
	h, _ := password.NewHasher(password.Params{})
	hash, _ := h.Hash("violet kettle marches north")
	if err := store.Create(ctx, users.User{Name: "Alice", Roles: []string{"admin"}, PasswordHash: hash}); err != nil {
		panic(err)
	}
	u, err := store.Lookup(ctx, "alice")
	fmt.Println(u.Name, u.Roles, err)
	_, err = store.Lookup(ctx, "mallory")
	fmt.Println(err)
	// Output:
	// alice [admin] <nil>
	// users: no such user
}
