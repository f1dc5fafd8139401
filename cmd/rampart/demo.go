package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/token"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/demo"
	"github.com/rampartsec/rampart/internal/sqldb"
)

func runDemo(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("demo", "demo [--listen ADDR] [--admin ADDR|off]",
		`Start a small built-in notes app on a loopback port and the gateway in front
of it, with embedded defaults: nothing to install. Open the printed URL and
try the requests it suggests to see each protection work.`)
	listen := fs.String("listen", config.DefaultListen, "gateway listen `ADDR`")
	admin := fs.String("admin", config.DefaultAdminListen, "admin listen `ADDR`, or off")
	if done, code := c.parseFlags(fs, args); done {
		return code
	}
	if done, code := c.noArgs(fs); done {
		return code
	}

	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return c.errorf(exitFindings, "starting the demo app: %v", err)
	}
	app := &http.Server{Handler: demo.New(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = app.Serve(appLn) }()
	defer app.Close()

	appURL := "http://" + appLn.Addr().String()
	specDir, err := os.MkdirTemp("", "rampart-demo-")
	if err != nil {
		return c.errorf(exitFindings, "%v", err)
	}
	defer os.RemoveAll(specDir)
	cfg, err := demoConfig(appURL, specDir)
	if err != nil {
		return c.errorf(exitFindings, "demo configuration: %v", err)
	}
	cfg.Listen = *listen
	cfg.Admin.Listen = *admin
	pw, err := seedDemoUser(ctx, cfg.Store.SQLite)
	if err != nil {
		return c.errorf(exitFindings, "creating the demo user: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return c.configError(err)
	}
	return c.serve(ctx, cfg, nil, false, func(g *gateway.Gateway) {
		c.printDemoBanner(cfg, appURL, pw)
	})
}

// demoConfig is the demo's configuration: the gateway in front of the
// app at appURL, its OpenAPI document and embedded database in dir.
// `rampart selftest` is run on it by the tests.
func demoConfig(appURL, dir string) (*config.Config, error) {
	cfg := config.Default()
	cfg.Env = config.Development
	u, err := config.ParseUpstream(appURL)
	if err != nil {
		return nil, err
	}
	cfg.Upstream = config.Upstreams{u}
	// The demo API's OpenAPI document is the URL allow-list and the
	// validation schema: undeclared paths such as the app's
	// /internal/debug are unreachable, bad requests get problem details.
	cfg.OpenAPI = filepath.Join(dir, "openapi.yaml")
	if err := os.WriteFile(cfg.OpenAPI, demo.OpenAPI, 0o600); err != nil {
		return nil, err
	}
	// Users and sessions in an embedded database, tokens signed with an
	// ephemeral key (development mode), and a demo user to log in with.
	cfg.Store.SQLite = filepath.Join(dir, "rampart.db")
	cfg.Auth.Sessions = &session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour}
	cfg.Auth.Tokens = &token.Config{AccessTTL: 15 * time.Minute, RefreshTTL: 24 * time.Hour}
	return cfg, nil
}

// demoUser is the user `rampart demo` creates.
const demoUser = "demo"

// seedDemoUser creates the demo user with a fresh random password and
// returns the password.
func seedDemoUser(ctx context.Context, dbPath string) (string, error) {
	db, err := sqldb.OpenSQLite(ctx, dbPath)
	if err != nil {
		return "", err
	}
	defer db.Close()
	st, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		return "", err
	}
	raw := make([]byte, 15)
	_, _ = rand.Read(raw)
	pw := strings.ToLower(base32.StdEncoding.EncodeToString(raw))
	h, err := password.NewHasher(password.Params{})
	if err != nil {
		return "", err
	}
	hash, err := h.Hash(pw)
	if err != nil {
		return "", err
	}
	return pw, st.Create(ctx, users.User{Name: demoUser, Roles: []string{"editor"}, PasswordHash: hash})
}

func (c *cli) printDemoBanner(cfg *config.Config, appURL, pw string) {
	base := "http://" + displayAddr(cfg.Listen)
	w := c.stdout
	fmt.Fprintf(w, "rampart demo: the gateway is at %s (demo app at %s)\n\n", base, appURL)
	fmt.Fprintf(w, "Demo user: %s  password: %s\n\n", demoUser, pw)
	fmt.Fprintln(w, "Try:")
	fmt.Fprintf(w, "  open %s/                          log in, then see the notes page through the gateway\n", base)
	fmt.Fprintf(w, "  curl -i %s/api/notes              no credentials: 401\n", base)
	fmt.Fprintf(w, "  curl -s -H 'Content-Type: application/json' -d '{\"username\":\"%s\",\"password\":\"%s\"}' %s/.rampart/token\n", demoUser, pw, base)
	fmt.Fprintf(w, "                                    an access token; then add -H 'Authorization: Bearer TOKEN' below\n")
	fmt.Fprintf(w, "  curl -i -H 'Authorization: Bearer TOKEN' %s/api/notes\n", base)
	fmt.Fprintf(w, "                                    the JSON API, with X-Rampart-User sent to the app\n")
	fmt.Fprintf(w, "  a wrong password 4 times in a row at %s/.rampart/login: locked out with 429 (login protection)\n", base)
	fmt.Fprintf(w, "  curl -i %s/internal/debug         not in the OpenAPI document: a neutral 404\n", base)
	fmt.Fprintf(w, "  curl -i -H 'Authorization: Bearer TOKEN' -H 'Content-Type: application/json' -d '{\"text\": 42}' %s/api/notes\n", base)
	fmt.Fprintf(w, "                                    invalid body: 400 problem details naming /text\n")
	fmt.Fprintf(w, "  curl -i -X PUT %s/api/notes       a declared path, wrong method: 405 with Allow\n", base)
	fmt.Fprintf(w, "  curl -i -X TRACE %s/              refused: 405\n", base)
	fmt.Fprintf(w, "  curl -i -H 'Authorization: Bearer TOKEN' %s/api/crash\n", base)
	fmt.Fprintf(w, "                                    the app leaks a stack trace: a neutral 500 with an incident id (the original is in the log)\n")
	fmt.Fprintf(w, "  curl -i -H 'Origin: https://evil.example' -d text=x %s/notes\n", base)
	fmt.Fprintf(w, "                                    a cross-site form post: refused by CSRF with 403\n")
	fmt.Fprintf(w, "  curl -sI %s/ | grep -i -e content-security -e strict-transport -e x-frame\n", base)
	fmt.Fprintf(w, "                                    helmet's security headers on every response\n")
	if cfg.Admin.Listen != "off" {
		fmt.Fprintf(w, "  curl http://%s/metrics      Prometheus metrics\n", displayAddr(cfg.Admin.Listen))
	}
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

// displayAddr turns ":8080" into "localhost:8080" for printing.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
