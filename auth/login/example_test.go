package login_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/auth/login"
	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/sqldb"
)

// Example wires users, sessions, the login endpoints and a route rule in
// front of an application, as the gateway does.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "rampart-example-")
	defer os.RemoveAll(dir)
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(dir, "rampart.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	userStore, _ := users.NewSQLStore(ctx, db, nil)
	sessionStore, _ := session.NewSQLStore(ctx, db, nil)
	sessions, _ := session.New(sessionStore, session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour})

	h, _ := password.NewHasher(password.Params{})
	hash, _ := h.Hash("violet kettle marches north")
	_ = userStore.Create(ctx, users.User{Name: "alice", Roles: []string{"admin"}, PasswordHash: hash})

	logins, err := login.New(login.Config{Users: userStore, Sessions: sessions, Hasher: h})
	if err != nil {
		panic(err)
	}
	admin, err := auth.New(auth.Config{
		Auth:           auth.ModeRequired,
		Roles:          []string{"admin"},
		Authenticators: []auth.Authenticator{sessions},
		LoginURL:       logins.LoginPath(),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/.rampart/", logins.Handler())
	mux.Handle("/admin/", admin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", r.Header.Get("X-Rampart-User"))
	})))

	// A browser that is not logged in is sent to the login page.
	r := httptest.NewRequest("GET", "/admin/", nil)
	r.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Location"))

	// It logs in with the form and comes back.
	form := strings.NewReader("username=alice&password=violet+kettle+marches+north&next=%2Fadmin%2F")
	r = httptest.NewRequest("POST", "/.rampart/login", form)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Location"))

	r = httptest.NewRequest("GET", "/admin/", nil)
	r.AddCookie(w.Result().Cookies()[0])
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Print(w.Body)
	// Output:
	// 303 /.rampart/login?next=%2Fadmin%2F
	// 303 /admin/
	// hello alice
}
