package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// appHandler is the application of the two-mode tests: it describes each
// request as JSON (like echoUpstream), fails on /boom with internals in the
// body, echoes WebSocket messages on /ws and streams server-sent events on
// /events, flushing each.
func appHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "sid=abc; Path=/")
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "panic: pq: password authentication failed for user \"admin\" at db.internal:5432", 500)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		user := ""
		if id := gateway.Identity(r); id != nil {
			user = id.Subject
		}
		w.Header().Set("X-Context-User", user)
		_ = json.NewEncoder(w).Encode(seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath,
			Query: r.URL.RawQuery, Host: r.Host, Header: r.Header, Body: n})
	})
	return mux
}

// startMode runs a gateway for yaml in front of appHandler: behind a
// real HTTP server it proxies to ("proxy"), or in-process ("app").
func startMode(t *testing.T, mode, yaml string) *harness {
	t.Helper()
	if mode == "proxy" {
		up := httptest.NewServer(appHandler())
		t.Cleanup(up.Close)
		return start(t, parse(t, up.URL, yaml))
	}
	c, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	logs := &testutil.Buffer{}
	g, err := gateway.New(c, gateway.Options{App: appHandler(), Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() { srv.Close(); _ = g.Close() })
	return &harness{url: srv.URL, g: g, logs: logs}
}

// TestBothModes runs one table of end-to-end security checks against the
// gateway proxying to an application and against the same application
// served in-process: every policy must hold the same in both.
func TestBothModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "rampart.db")
	seedUser(t, db, "alice", "editor")
	schema := filepath.Join(dir, "note.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["title"],"additionalProperties":false,"properties":{"title":{"type":"string","maxLength":20}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`env: development
store: {sqlite: %q}
login_protection: {delay: 1ms}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /boom"
    auth: none
  - match: "GET /cookie"
    auth: none
  - match: "GET /events"
    auth: none
  - match: "GET /ws"
    auth: none
  - match: "POST /notes"
    auth: none
    validate: {body_schema: %q}
  - match: "GET /notes"
  - match: "GET /admin"
    roles: [admin]
`, db, schema)
	for _, mode := range []string{"proxy", "app"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := startMode(t, mode, yaml)
			alice := sessionLogin(t, h.url, "alice")
			type check func(t *testing.T, resp *http.Response, body string)
			status := func(want int) check {
				return func(t *testing.T, resp *http.Response, body string) {
					t.Helper()
					if resp.StatusCode != want {
						t.Errorf("got %d, want %d: %s", resp.StatusCode, want, body)
					}
				}
			}
			cases := []struct {
				name   string
				req    func() *http.Request
				checks []check
			}{
				{"security headers on the application's answer", func() *http.Request { return withCookie("GET", h.url+"/public", nil) },
					[]check{status(200), func(t *testing.T, resp *http.Response, _ string) {
						for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
							if resp.Header.Get(k) == "" {
								t.Errorf("no %s", k)
							}
						}
					}}},
				{"the application's cookies are hardened", func() *http.Request { return withCookie("GET", h.url+"/cookie", nil) },
					[]check{status(200), func(t *testing.T, resp *http.Response, _ string) {
						if c := resp.Header.Get("Set-Cookie"); !strings.Contains(strings.ToLower(c), "samesite=lax") {
							t.Errorf("Set-Cookie %q: not hardened", c)
						}
					}}},
				{"routes deny by default", func() *http.Request { return withCookie("GET", h.url+"/not-declared", nil) }, []check{status(404)}},
				{"cross-site post refused", func() *http.Request {
					req, _ := http.NewRequest("POST", h.url+"/notes", strings.NewReader(`{"title":"x"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Origin", "https://evil.example")
					req.Header.Set("Sec-Fetch-Site", "cross-site")
					return req
				}, []check{status(403)}},
				{"invalid body refused", func() *http.Request {
					req, _ := http.NewRequest("POST", h.url+"/notes", strings.NewReader(`{"title":"x","admin":true}`))
					req.Header.Set("Content-Type", "application/json")
					return req
				}, []check{status(400)}},
				{"valid body passes", func() *http.Request {
					req, _ := http.NewRequest("POST", h.url+"/notes", strings.NewReader(`{"title":"x"}`))
					req.Header.Set("Content-Type", "application/json")
					return req
				}, []check{status(200)}},
				{"anonymous refused on a protected route", func() *http.Request { return withCookie("GET", h.url+"/notes", nil) }, []check{status(401)}},
				{"role required", func() *http.Request { return withCookie("GET", h.url+"/admin", alice) }, []check{status(403)}},
				{"identity reaches the application, spoofed copies do not", func() *http.Request {
					req := withCookie("GET", h.url+"/notes", alice)
					req.Header.Set("X-Rampart-User", "root")
					req.Header.Set("X-Rampart-Roles", "admin")
					req.Header.Set("X-Forwarded-For", "203.0.113.9")
					req.Header.Set("X-Original-URL", "/admin")
					return req
				}, []check{status(200), func(t *testing.T, resp *http.Response, body string) {
					s := decodeSeen(t, body)
					if s.Header.Get("X-Rampart-User") != "alice" || s.Header.Get("X-Rampart-Roles") != "editor" {
						t.Errorf("identity headers %q %q, want alice/editor", s.Header.Get("X-Rampart-User"), s.Header.Get("X-Rampart-Roles"))
					}
					if strings.Contains(s.Header.Get("X-Forwarded-For"), "203.0.113.9") || s.Header.Get("X-Original-Url") != "" {
						t.Errorf("client's forwarding headers reached the application: %v", s.Header)
					}
					if mode == "app" && resp.Header.Get("X-Context-User") != "alice" {
						t.Errorf("identity in the context: %q", resp.Header.Get("X-Context-User"))
					}
				}}},
				{"a client cannot nominate Rampart's headers away", func() *http.Request {
					req := withCookie("GET", h.url+"/notes", alice)
					req.Header.Set("Connection", "X-Rampart-User, X-Request-Id")
					return req
				}, []check{status(200), func(t *testing.T, _ *http.Response, body string) {
					if s := decodeSeen(t, body); s.Header.Get("X-Rampart-User") != "alice" || s.Header.Get("X-Request-Id") == "" {
						t.Errorf("headers removed through Connection: %v", s.Header)
					}
				}}},
				{"the shield hides internals of a 500", func() *http.Request { return withCookie("GET", h.url+"/boom", nil) },
					[]check{status(500), func(t *testing.T, resp *http.Response, body string) {
						if strings.Contains(body, "password") || strings.Contains(body, "db.internal") {
							t.Errorf("internals leaked: %s", body)
						}
						if resp.Header.Get("X-Request-Id") == "" {
							t.Error("no incident id")
						}
					}}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := do(t, &http.Client{Timeout: 10 * time.Second}, tc.req())
					for _, c := range tc.checks {
						c(t, resp, body)
					}
				})
			}
			t.Run("server-sent events stream", func(t *testing.T) {
				resp, err := http.Get(h.url + "/events")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				br := bufio.NewReader(resp.Body)
				t0 := time.Now()
				line, err := br.ReadString('\n')
				if err != nil || line != "data: 0\n" {
					t.Fatalf("first event: %q %v", line, err)
				}
				// The first event arrives before the stream ends (300 ms):
				// flushed, not buffered.
				if took := time.Since(t0); took > 250*time.Millisecond {
					t.Errorf("first event after %v: not flushed", took)
				}
			})
			t.Run("websocket echo", func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.url, "http")+"/ws", nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				for _, msg := range []string{"one", "two"} {
					if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
						t.Fatal(err)
					}
					_, got, err := c.Read(ctx)
					if err != nil || string(got) != msg {
						t.Fatalf("echo: got %q %v, want %q", got, err, msg)
					}
				}
			})
		})
	}
}

// TestUpstreamRequiredWithoutApp: a configuration with no upstream is
// refused unless the application is served in-process.
func TestUpstreamRequiredWithoutApp(t *testing.T) {
	t.Parallel()
	c, err := config.Parse("t.yaml", []byte("env: development\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := gateway.Check(c); err == nil || !strings.Contains(err.Error(), "upstream: required") {
		t.Errorf("Check: got %v, want upstream required", err)
	}
	if _, err := gateway.New(c, gateway.Options{}); err == nil || !strings.Contains(err.Error(), "upstream: required") {
		t.Errorf("New: got %v, want upstream required", err)
	}
	g, err := gateway.New(c, gateway.Options{App: http.NotFoundHandler()})
	if err != nil {
		t.Fatalf("New with App: %v", err)
	}
	defer g.Close()
	if !g.Ready() {
		t.Error("an in-process application is not ready")
	}
}
