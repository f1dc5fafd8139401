package gateway_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/logging"
)

// discardWriter is a minimal ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkProxy compares the gateway's zero-config handler with a bare
// httputil.ReverseProxy over the same loopback upstream; the difference is
// the gateway's own per-request cost.
func BenchmarkProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	bare := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	c := parseB(b, up.URL)
	g, err := gateway.New(c, gateway.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"gateway", g}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					r := httptest.NewRequest("GET", "/items/1", nil)
					r.RemoteAddr = "192.0.2.1:1234"
					tc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}

func parseB(b *testing.B, upstream string) *configT {
	b.Helper()
	c, err := parseConfig("upstream: " + upstream + "\nlog:\n  access: false\n")
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkInProcess compares a bare handler with the same handler served
// in-process by the gateway (Options.App) under the zero-config chain and
// under a full chain (a rate limit, session authentication on the route,
// CSRF, CORS): no network hop, so the difference is the chain's own cost
// per request.
func BenchmarkInProcess(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	zero, err := parseConfig("log:\n  access: false\n")
	if err != nil {
		b.Fatal(err)
	}
	full, err := parseConfig(`env: development
log: {access: false}
store: {sqlite: "` + b.TempDir() + `/rampart.db"}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
cors: {origins: ["https://app.example"]}
rate_limits: [{limit: 1000000, per: 1s}]
routes:
  - match: "GET /items/{id}"
    auth: optional
`)
	if err != nil {
		b.Fatal(err)
	}
	logged, err := parseConfig("log:\n  access: true\n")
	if err != nil {
		b.Fatal(err)
	}
	// The access log as rampart serve writes it: JSON, through the
	// buffered writer (here into io.Discard).
	lw := logging.NewWriter(io.Discard, 64<<10, time.Second)
	defer lw.Close()
	jsonLog, err := logging.New(lw, "json", "info", false)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *configT
		log  *slog.Logger
	}{{"bare", nil, nil}, {"gateway-zero-config", zero, nil}, {"gateway-full-chain", full, nil},
		{"gateway-zero-config-access-log", logged, jsonLog}} {
		var h http.Handler = app
		if tc.c != nil {
			g, err := gateway.New(tc.c, gateway.Options{App: app, Logger: tc.log})
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			h = g
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					r := httptest.NewRequest("GET", "/items/1", nil)
					r.RemoteAddr = "192.0.2.1:1234"
					h.ServeHTTP(w, r)
				}
			})
		})
	}
}
