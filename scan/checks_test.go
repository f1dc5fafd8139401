package scan_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/audit/severity"
	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/scan"
)

// corsSite answers like a CORS handler that allows the origins allow
// accepts, with credentials when creds is set.
func corsSite(allow func(origin string) bool, creds bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && allow(o) {
			w.Header().Set("Access-Control-Allow-Origin", o)
			if creds {
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}
		}
		page(goodHeaders).ServeHTTP(w, r)
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	exact, err := cors.New(cors.Config{Origins: []string{"https://app.example.com"}, Credentials: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		h    http.Handler
		want map[string]scan.Status
	}{
		{"no CORS", page(goodHeaders), map[string]scan.Status{
			"cors-arbitrary-origin": scan.Pass, "cors-null-origin": scan.Pass, "cors-lookalike-origin": scan.Pass, "cors-credentials": scan.Pass}},
		{"rampart's cors with an exact list", exact.Handler(page(goodHeaders)), map[string]scan.Status{
			"cors-arbitrary-origin": scan.Pass, "cors-null-origin": scan.Pass, "cors-lookalike-origin": scan.Pass, "cors-credentials": scan.Pass}},
		{"public", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			page(goodHeaders).ServeHTTP(w, r)
		}), map[string]scan.Status{"cors-arbitrary-origin": scan.Pass, "cors-credentials": scan.Pass}},
		{"reflects any origin", corsSite(func(string) bool { return true }, false), map[string]scan.Status{
			"cors-arbitrary-origin": scan.Warn, "cors-null-origin": scan.Warn, "cors-lookalike-origin": scan.Skip, "cors-credentials": scan.Pass}},
		{"reflects any origin with credentials", corsSite(func(string) bool { return true }, true), map[string]scan.Status{
			"cors-arbitrary-origin": scan.Warn, "cors-credentials": scan.Fail}},
		{"null with credentials", corsSite(func(o string) bool { return o == "null" }, true), map[string]scan.Status{
			"cors-arbitrary-origin": scan.Pass, "cors-null-origin": scan.Warn, "cors-lookalike-origin": scan.Pass, "cors-credentials": scan.Fail}},
		{"suffix match", corsSite(func(o string) bool { return strings.HasSuffix(o, "127.0.0.1") }, false), map[string]scan.Status{
			"cors-arbitrary-origin": scan.Pass, "cors-lookalike-origin": scan.Fail, "cors-credentials": scan.Pass}},
		{"substring match with credentials", corsSite(func(o string) bool { return strings.Contains(o, "127.0.0.1") }, true), map[string]scan.Status{
			"cors-arbitrary-origin": scan.Pass, "cors-null-origin": scan.Pass, "cors-lookalike-origin": scan.Fail, "cors-credentials": scan.Fail}},
		{"preflight only", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
				w.Header().Set("Access-Control-Allow-Credentials", "true")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			page(goodHeaders).ServeHTTP(w, r)
		}), map[string]scan.Status{"cors-arbitrary-origin": scan.Warn, "cors-credentials": scan.Fail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := run(t, scan.Config{URL: serve(t, tt.h)})
			expect(t, rep, tt.want)
			if c, _ := rep.Check("cors-credentials"); c.Status == scan.Fail && c.Severity != severity.Critical {
				t.Errorf("cors-credentials: got severity %s, want critical", c.Severity)
			}
		})
	}
}

func TestLookalikeOrigins(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var origins []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		origins = append(origins, r.Header.Get("Origin"))
		mu.Unlock()
		page(goodHeaders).ServeHTTP(w, r)
	})
	u := serve(t, h)
	run(t, scan.Config{URL: strings.Replace(u, "127.0.0.1", "localhost", 1)})
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"https://evil.example", "null", "https://localhost.evil.example", "https://evillocalhost"} {
		found := false
		for _, o := range origins {
			found = found || o == want
		}
		if !found {
			t.Errorf("no probe with Origin %s; got %q", want, origins)
		}
	}
}

func TestCookies(t *testing.T) {
	t.Parallel()
	all := []string{"cookie-secure", "cookie-httponly", "cookie-samesite", "cookie-prefix", "cookie-expiry"}
	tests := []struct {
		name    string
		cookies []string
		want    map[string]scan.Status
		detail  map[string]string
	}{
		{"none", nil, map[string]scan.Status{
			"cookie-secure": scan.Pass, "cookie-httponly": scan.Pass, "cookie-samesite": scan.Pass, "cookie-prefix": scan.Pass, "cookie-expiry": scan.Pass}, nil},
		{"rampart's session cookie", []string{"__Host-rampart_session=abc; Path=/; Secure; HttpOnly; SameSite=Lax"}, map[string]scan.Status{
			"cookie-secure": scan.Pass, "cookie-httponly": scan.Pass, "cookie-samesite": scan.Pass, "cookie-prefix": scan.Pass, "cookie-expiry": scan.Pass}, nil},
		{"express-session defaults", []string{"connect.sid=s%3Aabc; Path=/; HttpOnly"}, map[string]scan.Status{
			"cookie-secure": scan.Fail, "cookie-httponly": scan.Pass, "cookie-samesite": scan.Warn, "cookie-prefix": scan.Warn, "cookie-expiry": scan.Pass},
			map[string]string{"cookie-secure": "connect.sid"}},
		{"session readable by scripts", []string{"PHPSESSID=abc; Path=/; Secure; SameSite=Strict"}, map[string]scan.Status{
			"cookie-httponly": scan.Fail, "cookie-secure": scan.Pass}, nil},
		{"csrf token readable on purpose", []string{"XSRF-TOKEN=abc; Path=/; Secure; SameSite=Strict"}, map[string]scan.Status{
			"cookie-httponly": scan.Pass, "cookie-prefix": scan.Pass}, nil},
		{"other cookie without Secure", []string{"theme=dark; Path=/"}, map[string]scan.Status{
			"cookie-secure": scan.Warn, "cookie-httponly": scan.Pass, "cookie-samesite": scan.Pass}, nil},
		{"invalid SameSite", []string{"__Host-sid=a; Path=/; Secure; HttpOnly; SameSite=Lox"}, map[string]scan.Status{
			"cookie-samesite": scan.Warn}, map[string]string{"cookie-samesite": "invalid SameSite"}},
		{"session SameSite=None", []string{"__Host-sid=a; Path=/; Secure; HttpOnly; SameSite=None"}, map[string]scan.Status{
			"cookie-samesite": scan.Warn}, map[string]string{"cookie-samesite": "SameSite=None"}},
		{"__Host- with Domain", []string{"__Host-sid=a; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax"}, map[string]scan.Status{
			"cookie-prefix": scan.Fail}, map[string]string{"cookie-prefix": "with Domain"}},
		{"__Secure- without Secure", []string{"__Secure-token=a; Path=/; HttpOnly; SameSite=Lax"}, map[string]scan.Status{
			"cookie-prefix": scan.Fail}, map[string]string{"cookie-prefix": "without Secure"}},
		{"ten-year remember-me", []string{"remember_me=1; Max-Age=315360000; Path=/; Secure; HttpOnly; SameSite=Lax"}, map[string]scan.Status{
			"cookie-expiry": scan.Warn}, map[string]string{"cookie-expiry": "remember_me (3650 days)"}},
		{"far Expires on a plain cookie", []string{"prefs=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/; Secure"}, map[string]scan.Status{
			"cookie-expiry": scan.Warn}, map[string]string{"cookie-expiry": "cookies that outlive 400 days"}},
		{"huge Max-Age", []string{"__Host-sid=1; Max-Age=99999999999999999999999; Path=/; Secure; HttpOnly; SameSite=Lax"}, map[string]scan.Status{
			"cookie-expiry": scan.Warn}, nil},
		{"a week-long session is fine", []string{"__Host-sid=1; Max-Age=604800; Path=/; Secure; HttpOnly; SameSite=Lax"}, map[string]scan.Status{
			"cookie-expiry": scan.Pass}, nil},
		{"a deletion is not a cookie", []string{"sessionid=; Max-Age=0; Path=/"}, map[string]scan.Status{
			"cookie-secure": scan.Pass, "cookie-httponly": scan.Pass}, nil},
		{"nameless lines are ignored", []string{"=abc", "garbage"}, map[string]scan.Status{
			"cookie-secure": scan.Pass}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/" && r.Method == http.MethodGet && r.Header.Get("Origin") == "" {
					for _, c := range tt.cookies {
						w.Header().Add("Set-Cookie", c)
					}
				}
				page(goodHeaders).ServeHTTP(w, r)
			})
			rep := run(t, scan.Config{URL: serve(t, h)})
			expect(t, rep, tt.want)
			for id, sub := range tt.detail {
				if c, _ := rep.Check(id); !strings.Contains(c.Detail, sub) {
					t.Errorf("%s: got detail %q, want it to contain %q", id, c.Detail, sub)
				}
			}
			for _, id := range all {
				if _, ok := rep.Check(id); !ok {
					t.Errorf("%s missing from the report", id)
				}
			}
		})
	}
}

// loginSite throttles POST /login after limit attempts (0: never), with
// status code.
func loginSite(limit, code int) (*counter, http.Handler) {
	var mu sync.Mutex
	n := 0
	c := &counter{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/login" {
			page(goodHeaders).ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		n++
		over := limit > 0 && n >= limit
		mu.Unlock()
		if over {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(code)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})}
	return c, c
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		limit, code int
		path        string
		budget      int
		want        scan.Status
		wantLogins  int
		detail      string
	}{
		{"throttled at the fifth", 5, http.StatusTooManyRequests, "/login", 0, scan.Pass, 5, "throttled with 429 at attempt 5 (Retry-After: 60)"},
		{"throttled at once", 1, http.StatusTooManyRequests, "/login", 0, scan.Pass, 1, "at attempt 1"},
		{"503 with Retry-After", 3, http.StatusServiceUnavailable, "/login", 0, scan.Pass, 3, "throttled with 503"},
		{"never throttled", 0, 0, "/login", 0, scan.Fail, scan.LoginAttempts, "20 POSTs to /login in a row (answers 20×401), none throttled"},
		{"limit beyond the burst", 25, http.StatusTooManyRequests, "/login", 0, scan.Fail, scan.LoginAttempts, "none throttled"},
		{"budget allows part of the burst", 0, 0, "/login", 18, scan.Warn, 18 - 8, "raise --max-requests"},
		{"budget too small", 0, 0, "/login", 12, scan.Skip, 0, "the burst needs at least 5"},
		{"wrong path", 0, 0, "/signin", 0, scan.Errored, 0, "answered 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := loginSite(tt.limit, tt.code)
			rep := run(t, scan.Config{URL: serve(t, h), LoginPath: tt.path, MaxRequests: tt.budget})
			ch, _ := rep.Check("login-rate-limit")
			if ch.Status != tt.want || !strings.Contains(ch.Detail, tt.detail) {
				t.Errorf("got %s %q, want %s containing %q", ch.Status, ch.Detail, tt.want, tt.detail)
			}
			logins := 0
			for _, p := range c.paths {
				if p == "POST /login" {
					logins++
				}
			}
			if logins != tt.wantLogins {
				t.Errorf("login POSTs: got %d, want %d", logins, tt.wantLogins)
			}
		})
	}
	rep := run(t, scan.Config{URL: serve(t, page(goodHeaders))})
	if c, _ := rep.Check("login-rate-limit"); c.Status != scan.Skip || !strings.Contains(c.Detail, "--login PATH") {
		t.Errorf("without a login path: got %s %q, want skip naming --login", c.Status, c.Detail)
	}
}

func TestLeaks(t *testing.T) {
	t.Parallel()
	site := func(notFound, badJSON string, status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPost:
				w.WriteHeader(status)
				_, _ = w.Write([]byte(badJSON))
			case r.URL.Path != "/":
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(notFound))
			default:
				page(goodHeaders).ServeHTTP(w, r)
			}
		})
	}
	tests := []struct {
		name string
		h    http.Handler
		want map[string]scan.Status
		sub  map[string]string
	}{
		{"neutral", site("Not Found", `{"error":"invalid JSON"}`, 400), map[string]scan.Status{
			"leak-not-found": scan.Pass, "leak-malformed-json": scan.Pass, "leak-banner": scan.Pass}, nil},
		{"express default pages", site("<pre>Cannot GET /x</pre>", "<pre>SyntaxError: Unexpected end of JSON input<br> &nbsp; &nbsp;at JSON.parse (&lt;anonymous&gt;)<br> &nbsp; &nbsp;at parse (/srv/app/node_modules/body-parser/lib/types/json.js:92:19)</pre>", 400),
			map[string]scan.Status{"leak-not-found": scan.Pass, "leak-malformed-json": scan.Fail},
			map[string]string{"leak-malformed-json": "node-stack: SyntaxError: Unexpected end of JSON input at JSON.parse (<anonymous>)"}},
		{"sql error on 500 with a secret", site("nope", `{"error":"ER_PARSE_ERROR: You have an error in your SQL syntax","password":"hunter2"}`, 500),
			map[string]scan.Status{"leak-malformed-json": scan.Fail}, map[string]string{"leak-malformed-json": `"password":"[redacted]"`}},
		{"python traceback on 404", site("Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 14, in index", "{}", 400),
			map[string]scan.Status{"leak-not-found": scan.Fail}, map[string]string{"leak-not-found": "python-traceback"}},
		{"apache banner", site("<hr><address>Apache/2.4.41 (Ubuntu) Server at example.com Port 80</address>", "{}", 400),
			map[string]scan.Status{"leak-not-found": scan.Pass, "leak-banner": scan.Warn}, map[string]string{"leak-banner": "Apache/2.4.41"}},
		{"nginx banner", site("<hr><center>nginx/1.18.0</center>", "<center>nginx/1.18.0</center>", 400),
			map[string]scan.Status{"leak-banner": scan.Warn}, map[string]string{"leak-banner": "nginx/1.18.0"}},
		{"tomcat banner", site("<h3>Apache Tomcat/9.0.41</h3>", "{}", 400),
			map[string]scan.Status{"leak-banner": scan.Warn}, map[string]string{"leak-banner": "Apache Tomcat/9.0.41"}},
		{"unversioned product name", site("<center>nginx</center>", "{}", 400),
			map[string]scan.Status{"leak-banner": scan.Pass}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := run(t, scan.Config{URL: serve(t, tt.h)})
			expect(t, rep, tt.want)
			for id, sub := range tt.sub {
				if c, _ := rep.Check(id); !strings.Contains(c.Detail, sub) {
					t.Errorf("%s: got detail %q, want it to contain %q", id, c.Detail, sub)
				}
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	with := func(extra map[string]string) http.Handler {
		h := map[string]string{}
		for k, v := range goodHeaders {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return page(h)
	}
	tests := []struct {
		name string
		h    http.Handler
		want map[string]scan.Status
	}{
		{"good", with(nil), map[string]scan.Status{
			"csp": scan.Pass, "x-content-type-options": scan.Pass, "frame-options": scan.Pass, "referrer-policy": scan.Pass,
			"cross-origin-resource-policy": scan.Pass, "cross-origin-opener-policy": scan.Pass, "subresource-integrity": scan.Pass,
			"x-powered-by": scan.Pass, "server-version": scan.Pass}},
		{"nothing", page(nil), map[string]scan.Status{
			"csp": scan.Fail, "x-content-type-options": scan.Warn, "frame-options": scan.Fail, "referrer-policy": scan.Pass,
			"cross-origin-opener-policy": scan.Warn}},
		{"unsafe inline script", with(map[string]string{"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'"}),
			map[string]scan.Status{"csp": scan.Fail}},
		{"unsafe eval", with(map[string]string{"Content-Security-Policy": "default-src 'self' 'unsafe-eval'; frame-ancestors 'none'"}),
			map[string]scan.Status{"csp": scan.Warn}},
		{"leaking referrer", with(map[string]string{"Referrer-Policy": "unsafe-url"}), map[string]scan.Status{"referrer-policy": scan.Warn}},
		{"x-powered-by", with(map[string]string{"X-Powered-By": "PHP/8.1.2"}), map[string]scan.Status{"x-powered-by": scan.Warn}},
		{"aspnet version", with(map[string]string{"X-AspNet-Version": "4.0.30319"}), map[string]scan.Status{"x-powered-by": scan.Warn}},
		{"server version", with(map[string]string{"Server": "Apache/2.4.41 (Ubuntu)"}), map[string]scan.Status{"server-version": scan.Warn}},
		{"server without version", with(map[string]string{"Server": "nginx"}), map[string]scan.Status{"server-version": scan.Pass}},
		{"coop unsafe", with(map[string]string{"Cross-Origin-Opener-Policy": "unsafe-none"}), map[string]scan.Status{"cross-origin-opener-policy": scan.Warn}},
		{"corp invalid", with(map[string]string{"Cross-Origin-Resource-Policy": "everyone"}), map[string]scan.Status{"cross-origin-resource-policy": scan.Warn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, run(t, scan.Config{URL: serve(t, tt.h)}), tt.want)
		})
	}
}

// TestControlCharacters: what a site sends cannot put escape sequences or
// fake lines into a report. (net/http already refuses C0 controls in
// headers; C1 controls and bodies are the scan's job.)
func TestControlCharacters(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "evil/1.0 \u009b2J\u009b31mPASS")
		w.Header().Add("Set-Cookie", "sess\u009b0mion=1; Path=/")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("Error\n    at parse (/app/lib/x.js:1:2)\x1b[2J\r\n  PASS  leak-malformed-json"))
			return
		}
		page(nil).ServeHTTP(w, r)
	})
	rep := run(t, scan.Config{URL: serve(t, h)})
	for _, c := range rep.Checks {
		if strings.ContainsAny(c.Detail, "\x1b\u009b\n\r") {
			t.Errorf("%s: detail carries control characters: %q", c.ID, c.Detail)
		}
	}
	if c, _ := rep.Check("leak-malformed-json"); c.Status != scan.Fail {
		t.Errorf("leak-malformed-json: got %s, want fail", c.Status)
	}
}

// TestFinalURL: probes go to where the URL redirects, and the redirects are
// counted.
func TestFinalURL(t *testing.T) {
	t.Parallel()
	c := &counter{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/app/", http.StatusFound)
			return
		}
		page(goodHeaders).ServeHTTP(w, r)
	})}
	u := serve(t, c)
	rep := run(t, scan.Config{URL: u})
	if want := u + "/app/"; rep.FinalURL != want {
		t.Errorf("final URL: got %s, want %s", rep.FinalURL, want)
	}
	if rep.Requests != c.count() {
		t.Errorf("requests: got %d, server saw %d", rep.Requests, c.count())
	}
	parsed, _ := url.Parse(rep.FinalURL)
	if parsed.Path != "/app/" {
		t.Errorf("got %s", parsed.Path)
	}
}
