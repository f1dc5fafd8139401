package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/demo"
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

	cfg := config.Default()
	cfg.Env = config.Development
	cfg.Listen = *listen
	cfg.Admin.Listen = *admin
	appURL := "http://" + appLn.Addr().String()
	u, err := config.ParseUpstream(appURL)
	if err != nil {
		return c.errorf(exitFindings, "demo app address: %v", err)
	}
	cfg.Upstream = config.Upstreams{u}
	// The demo API's OpenAPI document is the URL allow-list and the
	// validation schema: undeclared paths such as the app's
	// /internal/debug are unreachable, bad requests get problem details.
	specDir, err := os.MkdirTemp("", "rampart-demo-")
	if err != nil {
		return c.errorf(exitFindings, "%v", err)
	}
	defer os.RemoveAll(specDir)
	cfg.OpenAPI = filepath.Join(specDir, "openapi.yaml")
	if err := os.WriteFile(cfg.OpenAPI, demo.OpenAPI, 0o600); err != nil {
		return c.errorf(exitFindings, "%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return c.configError(err)
	}
	return c.serve(ctx, cfg, nil, false, func(g *gateway.Gateway) {
		c.printDemoBanner(cfg, appURL)
	})
}

func (c *cli) printDemoBanner(cfg *config.Config, appURL string) {
	base := "http://" + displayAddr(cfg.Listen)
	w := c.stdout
	fmt.Fprintf(w, "rampart demo: the gateway is at %s (demo app at %s)\n\n", base, appURL)
	fmt.Fprintln(w, "Try:")
	fmt.Fprintf(w, "  open %s/                          the notes page, through the gateway\n", base)
	fmt.Fprintf(w, "  curl -i %s/api/notes              the JSON API\n", base)
	fmt.Fprintf(w, "  curl -i %s/internal/debug         not in the OpenAPI document: a neutral 404\n", base)
	fmt.Fprintf(w, "  curl -i -H 'Content-Type: application/json' -d '{\"text\": 42}' %s/api/notes\n", base)
	fmt.Fprintf(w, "                                    invalid body: 400 problem details naming /text\n")
	fmt.Fprintf(w, "  curl -i -X PUT %s/api/notes       a declared path, wrong method: 405 with Allow\n", base)
	fmt.Fprintf(w, "  curl -i -X TRACE %s/              refused: 405\n", base)
	fmt.Fprintf(w, "  curl -i %s/api/crash              the app leaks a stack trace: a neutral 500 with an incident id (the original is in the log)\n", base)
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
