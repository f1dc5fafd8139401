package session_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth/session"
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
	store, err := session.NewSQLStore(ctx, db, nil)
	if err != nil {
		panic(err)
	}
	sessions, err := session.New(store, session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour})
	if err != nil {
		panic(err)
	}

	// After checking the password, a login handler starts the session.
	w := httptest.NewRecorder()
	if _, err := sessions.Login(w, httptest.NewRequest("POST", "/login", nil), "alice", []string{"admin"}); err != nil {
		panic(err)
	}
	setCookie := w.Header().Get("Set-Cookie")
	fmt.Println(strings.SplitN(setCookie, "=", 2)[0], strings.SplitN(setCookie, ";", 2)[1])

	// Later requests carry the cookie.
	r := httptest.NewRequest("GET", "/notes", nil)
	r.AddCookie(w.Result().Cookies()[0])
	id, _ := sessions.Authenticate(r)
	fmt.Println(id.Subject, id.Roles, id.Method)

	// Logout ends it on the server: a copied cookie is worthless.
	_ = sessions.Logout(httptest.NewRecorder(), r)
	id, _ = sessions.Authenticate(r)
	fmt.Println(id == nil)
	// Output:
	// __Host-rampart-session  Path=/; Secure; HttpOnly; SameSite=Lax
	// alice [admin] session
	// true
}
