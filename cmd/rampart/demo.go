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
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/demo"
	"github.com/rampartsec/rampart/internal/sqldb"
)

func runDemo(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("demo", "demo [--listen ADDR] [--admin ADDR|off] [--print-config]",
		`Start a small built-in notes app on a loopback port and the gateway in front
of it, with embedded defaults: nothing to install. Open the printed URL and
try the requests it suggests to see each protection work. The gateway
listens on loopback only; --listen :8080 opens it to the network.`)
	listen := fs.String("listen", demo.DefaultListen, "gateway listen `ADDR` (:8080 for every interface)")
	admin := fs.String("admin", config.DefaultAdminListen, "admin listen `ADDR`, or off")
	printConfig := fs.Bool("print-config", false, "print the configuration the demo runs with, as a starting point for one's own, and exit")
	if done, code := c.parseFlags(fs, args); done {
		return code
	}
	if done, code := c.noArgs(fs); done {
		return code
	}
	if *printConfig {
		_, _ = c.stdout.Write(demo.Config(demo.Settings{Listen: *listen, Admin: *admin,
			Upstream: "http://127.0.0.1:3000", OpenAPI: "./openapi.yaml", SQLite: "./rampart.db"}))
		return exitOK
	}

	appLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return c.errorf(exitFindings, "starting the demo app: %v", err)
	}
	app := &http.Server{Handler: demo.New(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = app.Serve(appLn) }()
	defer app.Close()

	appURL := "http://" + appLn.Addr().String()
	// The demo API's OpenAPI document is the URL allow-list and the
	// validation schema; users and sessions live in an embedded database.
	specDir, err := os.MkdirTemp("", "rampart-demo-")
	if err != nil {
		return c.errorf(exitFindings, "%v", err)
	}
	defer os.RemoveAll(specDir)
	set := demo.Settings{Listen: *listen, Admin: *admin, Upstream: appURL,
		OpenAPI: filepath.Join(specDir, "openapi.yaml"), SQLite: filepath.Join(specDir, "rampart.db")}
	if err := os.WriteFile(set.OpenAPI, demo.OpenAPI, 0o600); err != nil {
		return c.errorf(exitFindings, "%v", err)
	}
	pw, err := seedDemoUser(ctx, set.SQLite)
	if err != nil {
		return c.errorf(exitFindings, "creating the demo user: %v", err)
	}
	cfg, err := config.Parse("rampart demo", demo.Config(set))
	if err != nil {
		return c.configError(err)
	}
	return c.serve(ctx, cfg, nil, false, func(g *gateway.Gateway) {
		c.printDemoBanner(cfg, appURL, pw)
	})
}

// demoConfig is the demo's configuration — the same text `rampart demo
// --print-config` prints — with the gateway in front of the app at appURL
// and its OpenAPI document and embedded database in dir. `rampart
// selftest` is run on it by the tests.
func demoConfig(appURL, dir string) (*config.Config, error) {
	set := demo.Settings{Listen: "127.0.0.1:8080", Admin: "127.0.0.1:9090", Upstream: appURL,
		OpenAPI: filepath.Join(dir, "openapi.yaml"), SQLite: filepath.Join(dir, "rampart.db")}
	if err := os.WriteFile(set.OpenAPI, demo.OpenAPI, 0o600); err != nil {
		return nil, err
	}
	return config.Parse("rampart demo", demo.Config(set))
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
	if host, _, err := net.SplitHostPort(cfg.Listen); err == nil && isLoopback(host) {
		fmt.Fprintln(w, "\nThe gateway listens on loopback only. To reach it from another machine, a VM or a")
		fmt.Fprintln(w, "container, start it with --listen :8080 (login works over plain HTTP on any host name).")
	}
	fmt.Fprintln(w, "rampart demo --print-config prints this configuration, a starting point for your own.")
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

// isLoopback reports whether host is a loopback name or address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
