package shield_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
	"github.com/rampartsec/rampart/shield"
)

func newShield(t *testing.T, c shield.Config) (*shield.Shield, *testutil.Buffer) {
	t.Helper()
	logs := &testutil.Buffer{}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	s, err := shield.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, logs
}

func reply(status int, ctype, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("X-Powered-By", "Express")
		w.Header().Set("Set-Cookie", "sid=s3cr3t; HttpOnly")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// Leak samples, as the real frameworks print them.
const (
	nodeStack  = `{"error":"boom","stack":"TypeError: Cannot read properties of undefined (reading 'id')\n    at /usr/src/app/routes/users.js:42:17\n    at Layer.handle [as handle_request] (/usr/src/app/node_modules/express/lib/router/layer.js:95:5)"}`
	expressDev = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><pre>Error: boom<br> &nbsp; &nbsp;at /app/app.js:12:9<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)</pre></body></html>`
	goPanic    = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]\n\ngoroutine 18 [running]:\nmain.handler(0xc000010000)\n\t/home/deploy/app/main.go:27 +0x1d\n"
	pyTrace    = "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 14, in index\n    user = User.objects.get(pk=pk)\nDoesNotExist: User matching query does not exist.\n"
	sqlErr     = `{"error":"ER_PARSE_ERROR: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1","sql":"SELECT * FROM users WHERE name = '''"}`
	pgErr      = `{"message":"syntax error at or near \"'\"","code":"42601"}`
	javaStack  = "java.lang.NullPointerException\n\tat com.example.web.UserController.show(UserController.java:57)\n\tat java.base/java.lang.Thread.run(Thread.java:833)"
	dotnet     = "System.InvalidOperationException: Sequence contains no elements\n   at Shop.Controllers.CartController.Get(Int32 id) in C:\\src\\Shop\\Controllers\\CartController.cs:line 31"
	django     = `<html><body><p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p></body></html>`
	phpErr     = "<b>Fatal error</b>:  Uncaught Error: Call to undefined function foo() in /var/www/html/index.php:3\nStack trace:\n#0 {main}\n  thrown in <b>/var/www/html/index.php</b> on line <b>3</b>"
	rubyErr    = "NoMethodError (undefined method `name' for nil:NilClass):\n  app/controllers/users_controller.rb:12:in `show'"
	pathOnly   = `{"error":"ENOENT: no such file or directory, open '/home/deploy/app/config/secrets.json'"}`
)

func TestShield(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		config     shield.Config
		h          http.Handler
		accept     string
		wantStatus int
		replaced   bool
		reason     string
	}{
		{"500 replaced", shield.Config{}, reply(500, "application/json", nodeStack), "application/json", 500, true, "status"},
		{"503 replaced", shield.Config{}, reply(503, "text/plain", "db down"), "", 503, true, "status"},
		{"express dev page 500 html", shield.Config{}, reply(500, "text/html; charset=utf-8", expressDev), "text/html", 500, true, "status"},
		{"200 untouched even with a stack", shield.Config{}, reply(200, "application/json", nodeStack), "", 200, false, ""},
		{"302 untouched", shield.Config{}, reply(302, "text/html", "moved"), "", 302, false, ""},
		{"plain 404 passes", shield.Config{}, reply(404, "text/html", "<h1>Not found</h1><p>Cannot GET /app/users</p>"), "", 404, false, ""},
		{"400 validation message passes", shield.Config{}, reply(400, "application/json", `{"error":"name is required"}`), "", 400, false, ""},
		{"400 node stack", shield.Config{}, reply(400, "application/json", nodeStack), "", 400, true, "leak:node-stack"},
		{"400 express dev page", shield.Config{}, reply(400, "text/html", expressDev), "text/html", 400, true, "leak:node-stack"},
		{"400 sql error", shield.Config{}, reply(400, "application/json", sqlErr), "", 400, true, "leak:sql-error"},
		{"422 postgres error", shield.Config{}, reply(422, "application/json", pgErr), "", 422, true, "leak:sql-error"},
		{"400 go panic", shield.Config{}, reply(400, "text/plain", goPanic), "", 400, true, "leak:go-panic"},
		{"400 python traceback", shield.Config{}, reply(400, "text/plain", pyTrace), "", 400, true, "leak:python-traceback"},
		{"409 java stack", shield.Config{}, reply(409, "text/plain", javaStack), "", 409, true, "leak:java-stack"},
		{"400 dotnet stack", shield.Config{}, reply(400, "text/plain", dotnet), "", 400, true, "leak:dotnet-stack"},
		{"404 django debug", shield.Config{}, reply(404, "text/html", django), "", 404, true, "leak:debug-page"},
		{"400 php error", shield.Config{}, reply(400, "text/html", phpErr), "", 400, true, "leak:php-error"},
		{"400 ruby stack", shield.Config{}, reply(400, "text/plain", rubyErr), "", 400, true, "leak:ruby-stack"},
		{"403 source path", shield.Config{}, reply(403, "application/json", pathOnly), "", 403, true, "leak:source-path"},
		{"no content type is inspected", shield.Config{}, reply(400, "", pyTrace), "", 400, true, "leak:python-traceback"},
		{"image is not inspected", shield.Config{}, reply(404, "image/png", pyTrace), "", 404, false, ""},
		{"500 not shielded when statuses exclude it but leak found", shield.Config{Statuses: "502-504"}, reply(500, "text/plain", goPanic), "", 500, true, "leak:go-panic"},
		{"500 clean passes when excluded", shield.Config{Statuses: "502-504"}, reply(500, "text/plain", "try later"), "", 500, false, ""},
		{"404 shielded by config", shield.Config{Statuses: "5xx, 404"}, reply(404, "text/html", "<p>nothing</p>"), "", 404, true, "status"},
		{"inspection off", shield.Config{Inspect: new(bool)}, reply(400, "text/plain", pyTrace), "", 400, false, ""},
		{"custom signature", shield.Config{Signatures: []string{`ACME-ERR-\d+`}}, reply(400, "text/plain", "failed: ACME-ERR-1234"), "", 400, true, "leak:custom-0"},
		{"brotli error body is replaced", shield.Config{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "br")
			w.WriteHeader(400)
			_, _ = w.Write([]byte{0x1b, 0x03})
		}), "", 400, true, "encoding"},
		{"gzip leak found", shield.Config{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write([]byte(pyTrace))
			_ = zw.Close()
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(400)
			_, _ = w.Write(b.Bytes())
		}), "", 400, true, "leak:python-traceback"},
		{"panic before writing", shield.Config{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			panic("database password=hunter2 rejected")
		}), "", 500, true, "panic"},
		{"panic while holding a 4xx", shield.Config{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(400)
			_, _ = w.Write([]byte("partial"))
			panic("later")
		}), "", 500, true, "panic"},
		{"rampart's own problem passes", shield.Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, r, problem.Problem{Status: 502, Policy: "upstream"})
		}), "", 502, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var reasons []string
			tt.config.OnIncident = func(r string) { reasons = append(reasons, r) }
			s, logs := newShield(t, tt.config)
			r := httptest.NewRequest("GET", "/orders?token=abc", nil)
			r = r.WithContext(requestid.NewContext(r.Context(), "inc-"+strings.ReplaceAll(tt.name, " ", "-")))
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			rec.Header().Set("X-Outer", "kept") // set by outer middleware
			s.Handler(tt.h).ServeHTTP(rec, r)
			body := rec.Body.String()
			if rec.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", rec.Code, tt.wantStatus)
			}
			if rec.Header().Get("X-Outer") != "kept" {
				t.Errorf("outer header lost")
			}
			_ = s.Close()
			if !tt.replaced {
				if len(reasons) != 0 {
					t.Errorf("reasons: got %v, want none", reasons)
				}
				return
			}
			if len(reasons) != 1 || reasons[0] != tt.reason {
				t.Errorf("reasons: got %v, want [%s]", reasons, tt.reason)
			}
			for _, leak := range []string{"at /", ".js:", "goroutine", "Traceback", "SQL", "syntax", "java.lang", ".cs", "DEBUG", "hunter2", "Express", "s3cr3t", "/home/", "ACME", "partial"} {
				if strings.Contains(body, leak) {
					t.Errorf("body leaks %q:\n%s", leak, body)
				}
			}
			for _, k := range []string{"X-Powered-By", "Set-Cookie", "Content-Encoding"} {
				if v := rec.Header().Get(k); v != "" {
					t.Errorf("%s: got %q, want removed", k, v)
				}
			}
			id := requestid.FromContext(r.Context())
			if !strings.Contains(body, id) {
				t.Errorf("incident id %q not in body:\n%s", id, body)
			}
			if tt.accept == "text/html" && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Errorf("content type: got %q, want html", rec.Header().Get("Content-Type"))
			}
			var line map[string]any
			for _, l := range logs.Lines() {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["request_id"] == id {
					line = m
				}
			}
			if line == nil {
				t.Fatalf("incident %s not in the log:\n%s", id, logs.String())
			}
			if line["reason"] != tt.reason {
				t.Errorf("logged reason: got %v, want %s", line["reason"], tt.reason)
			}
			if strings.Contains(logs.String(), "s3cr3t") || strings.Contains(logs.String(), "hunter2") {
				t.Errorf("secret in the log: %s", logs.String())
			}
		})
	}
}

func TestLeakedExcerptIsLoggedRedacted(t *testing.T) {
	t.Parallel()
	s, logs := newShield(t, shield.Config{})
	body := `{"error":"boom","password":"hunter2","access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","url":"https://db.example/x?api_key=k3y&x=1","dsn":"postgres://app:pa55@db:5432/app","stack":"Error: boom\n    at /usr/src/app/app.js:1:1"}`
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(requestid.NewContext(r.Context(), "inc-redact"))
	h := reply(500, "application/json", body)
	s.Handler(h).ServeHTTP(httptest.NewRecorder(), r)
	_ = s.Close()
	log := logs.String()
	for _, secret := range []string{"hunter2", "eyJhbGciOiJIUzI1NiJ9", "k3y", "pa55", "s3cr3t"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q:\n%s", secret, log)
		}
	}
	for _, kept := range []string{"inc-redact", `"status":500`, "/usr/src/app/app.js:1:1", "x=1", "[redacted]", "Express"} {
		if !strings.Contains(log, kept) {
			t.Errorf("log misses %q:\n%s", kept, log)
		}
	}
}

func TestLargeErrorBodyStreamsAfterWindow(t *testing.T) {
	t.Parallel()
	s, _ := newShield(t, shield.Config{InspectBytes: 1024})
	big := strings.Repeat("harmless text. ", 1000)
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(400)
		for i := 0; i < len(big); i += 100 {
			_, _ = w.Write([]byte(big[i:min(i+100, len(big))]))
		}
	})
	rec := httptest.NewRecorder()
	s.Handler(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 400 || rec.Body.String() != big {
		t.Errorf("got %d with %d bytes, want 400 with the %d original bytes", rec.Code, rec.Body.Len(), len(big))
	}
}

func TestFlushWhileHoldingSendsNothing(t *testing.T) {
	t.Parallel()
	s, _ := newShield(t, shield.Config{})
	srv := httptest.NewServer(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(500)
		_, _ = w.Write([]byte("Traceback (most recent call last):\n"))
		http.NewResponseController(w).Flush()
		w.(http.Flusher).Flush()
		_, _ = w.Write([]byte(pyTrace))
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	if res.StatusCode != 500 || strings.Contains(b.String(), "Traceback") {
		t.Errorf("got %d %q, want a neutral 500", res.StatusCode, b.String())
	}
}

func TestPanicAfterStatusAbortsConnection(t *testing.T) {
	t.Parallel()
	s, logs := newShield(t, shield.Config{})
	srv := httptest.NewServer(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		_, _ = w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		panic("late")
	})))
	srv.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err == nil {
		var b bytes.Buffer
		_, err = b.ReadFrom(res.Body)
		_ = res.Body.Close()
	}
	if err == nil {
		t.Error("got a complete response, want a broken one")
	}
	if !testutil.WaitFor(2*time.Second, func() bool { return strings.Contains(logs.String(), `"reason":"panic"`) }) {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

func TestQueueNeverBlocks(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	var drops int
	s, err := shield.New(shield.Config{
		QueueSize:    2,
		Logger:       slog.New(blockingHandler{block}),
		OnLogDropped: func() { drops++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler(reply(500, "text/plain", "x"))
	done := make(chan struct{})
	go func() {
		for range 20 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("requests waited for the log")
	}
	close(block)
	_ = s.Close()
	// One incident is in the blocked handler, two fit the queue.
	if drops < 17 || uint64(drops) != s.Dropped() {
		t.Errorf("drops: got %d (Dropped %d), want at least 17", drops, s.Dropped())
	}
}

type blockingHandler struct{ ch chan struct{} }

func (b blockingHandler) Enabled(_ context.Context, _ slog.Level) bool { return true }
func (b blockingHandler) Handle(context.Context, slog.Record) error {
	<-b.ch
	return nil
}
func (b blockingHandler) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b blockingHandler) WithGroup(string) slog.Handler      { return b }

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config shield.Config
		want   string
	}{
		{"2xx status", shield.Config{Statuses: "200"}, "outside 400-599"},
		{"3xx class", shield.Config{Statuses: "3xx"}, "not a status"},
		{"bad range", shield.Config{Statuses: "510-500"}, "invalid range"},
		{"garbage", shield.Config{Statuses: "five hundred"}, "not a status"},
		{"negative window", shield.Config{InspectBytes: -1}, "inspect_bytes"},
		{"huge window", shield.Config{InspectBytes: 1 << 30}, "inspect_bytes"},
		{"negative excerpt", shield.Config{ExcerptBytes: -1}, "excerpt_bytes"},
		{"negative queue", shield.Config{QueueSize: -1}, "queue_size"},
		{"bad signature", shield.Config{Signatures: []string{"("}}, "signatures[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := shield.New(tt.config)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "shield: ") {
				t.Errorf("got %v, want a shield error containing %q", err, tt.want)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	off := false
	s, _ := newShield(t, shield.Config{Shield: &off})
	rec := httptest.NewRecorder()
	s.Handler(reply(500, "text/plain", goPanic)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Body.String() != goPanic {
		t.Errorf("disabled shield changed the body: %q", rec.Body.String())
	}
}

func TestLeak(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		"TypeError: x\n    at Object.<anonymous> (/srv/app/index.js:3:9)": "node-stack",
		`{"ok":true,"message":"at 3pm"}`:                                  "",
		"goroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d":    "go-panic",
	} {
		got, found := shield.Leak([]byte(body))
		if found != (want != "") || (found && got != want) {
			t.Errorf("Leak(%q): got %q %v, want %q", body, got, found, want)
		}
	}
}

// TestDefaultLoggerKeepsIncidents: a Shield built without a Logger logs
// through slog.Default, so a Go program that never set one still finds the
// original error behind an incident id. (Not parallel: it swaps the
// process's default logger.)
func TestDefaultLoggerKeepsIncidents(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	s, err := shield.New(shield.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(requestid.NewContext(r.Context(), "inc-default"))
	s.Handler(reply(500, "text/plain", "Error: boom\n    at /srv/app.js:7:3")).ServeHTTP(httptest.NewRecorder(), r)
	_ = s.Close()
	if log := buf.String(); !strings.Contains(log, "inc-default") || !strings.Contains(log, "/srv/app.js:7:3") {
		t.Errorf("the incident was not logged through slog.Default:\n%s", log)
	}
}
