// Command webapp is a server-rendered application with sessions and CSRF
// tokens, served in-process behind the Rampart chain: the login page,
// session cookies, the CSRF token handed to the application to render in
// its forms, and every form post checked — with no security code in the
// application.
//
//	go run ./examples/webapp
package main

import (
	"context"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/sqldb"
)

const configYAML = `env: development
store: {sqlite: %q}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
csrf: {mode: both}
routes:
  - match: "GET /{$}"
  - match: "POST /notes"
`

// page renders the notes and a form carrying the CSRF token Rampart gives
// the application in X-Rampart-CSRF-Token (csrf.upstream_header).
var page = template.Must(template.New("page").Parse(`<!doctype html>
<title>Notes</title>
<p>Signed in as {{.User}}. <form method="post" action="/.rampart/logout"><button>Sign out</button></form>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="/notes">
  <input type="hidden" name="csrf_token" value="{{.Token}}">
  <label>Note <input name="text" required maxlength="200"></label>
  <button>Add</button>
</form>`))

// app is the application: it trusts the identity Rampart established and
// renders the token Rampart handed it.
func app() http.Handler {
	var mu sync.Mutex
	notes := map[string][]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		user := gateway.Identity(r).Subject
		mu.Lock()
		mine := append([]string(nil), notes[user]...)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, map[string]any{"User": user, "Notes": mine, "Token": r.Header.Get("X-Rampart-CSRF-Token")})
	})
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		user := gateway.Identity(r).Subject
		mu.Lock()
		notes[user] = append(notes[user], r.FormValue("text"))
		mu.Unlock()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	return mux
}

// newGateway builds the gateway around app with its state in dir and one
// user, demo, with password pw.
func newGateway(dir, pw string) (*gateway.Gateway, error) {
	db := filepath.Join(dir, "rampart.db")
	if err := createUser(db, "demo", pw); err != nil {
		return nil, err
	}
	cfg, err := config.Parse("webapp.yaml", []byte(fmt.Sprintf(configYAML, db)))
	if err != nil {
		return nil, err
	}
	return gateway.New(cfg, gateway.Options{App: app()})
}

// createUser adds a user as `rampart users add` would.
func createUser(dbPath, name, pw string) error {
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		return err
	}
	h, err := password.NewHasher(password.Params{})
	if err != nil {
		return err
	}
	hash, err := h.Hash(pw)
	if err != nil {
		return err
	}
	return st.Create(ctx, users.User{Name: name, PasswordHash: hash})
}

func main() {
	dir, err := os.MkdirTemp("", "webapp-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	const pw = "correct horse battery staple"
	gw, err := newGateway(dir, pw)
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close()
	fmt.Printf("open http://localhost:8082 and sign in as demo / %q\n", pw)
	log.Fatal(http.ListenAndServe("localhost:8082", gw))
}
