// Command jsonapi is a JSON API served in-process behind the whole
// Rampart chain: bearer tokens from /.rampart/token, a request body checked
// against a JSON Schema before the handler sees it, rate limits, security
// headers and neutral errors — from one configuration and one call.
//
//	go run ./examples/jsonapi
//	curl -s -XPOST localhost:8081/.rampart/token -d '{"username":"demo","password":"…"}'
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/sqldb"
)

// configYAML is the whole security configuration. In a real service it is
// a file: config.Load("rampart.yaml").
const configYAML = `env: development
store: {sqlite: %q}
auth:
  tokens: {access_ttl: 5m, refresh_ttl: 24h}
rate_limits: [{limit: 100, per: 1m}]
routes:
  - match: "POST /notes"
    validate: {body_schema: %q}
  - match: "GET /notes/{id}"
`

const noteSchema = `{"type":"object","required":["title"],"additionalProperties":false,
 "properties":{"title":{"type":"string","minLength":1,"maxLength":80},"body":{"type":"string","maxLength":2000}}}`

// app is the service itself: plain net/http, no security code.
func app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		var n struct{ Title, Body string }
		_ = json.NewDecoder(r.Body).Decode(&n) // already validated
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"title": n.Title, "owner": gateway.Identity(r).Subject})
	})
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": r.PathValue("id"), "owner": gateway.Identity(r).Subject})
	})
	return mux
}

// newGateway builds the gateway around app with its state in dir and one
// user, demo, with password pw.
func newGateway(dir, pw string) (*gateway.Gateway, error) {
	db := filepath.Join(dir, "rampart.db")
	schema := filepath.Join(dir, "note.schema.json")
	if err := os.WriteFile(schema, []byte(noteSchema), 0o600); err != nil {
		return nil, err
	}
	if err := createUser(db, "demo", pw); err != nil {
		return nil, err
	}
	cfg, err := config.Parse("jsonapi.yaml", []byte(fmt.Sprintf(configYAML, db, schema)))
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
	dir, err := os.MkdirTemp("", "jsonapi-")
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
	fmt.Printf("listening on http://localhost:8081 (user demo, password %q)\n", pw)
	log.Fatal(http.ListenAndServe("localhost:8081", gw))
}
