package cors_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/cors"
)

// upstream is an application with the classic CORS bug: it reflects any
// Origin with credentials. The policy must replace its answer.
var upstream = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Methods", "*")
	}
	w.Header().Add("Vary", "Accept-Encoding")
	w.Header().Set("X-Upstream", "yes")
	_, _ = w.Write([]byte("hello"))
})

func mustNew(t testing.TB, c cors.Config) *cors.Policy {
	t.Helper()
	p, err := cors.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func serve(p *cors.Policy, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	p.Handler(upstream).ServeHTTP(w, r)
	return w
}

var appConfig = cors.Config{
	Origins:       []string{"https://app.example.com", "http://localhost:3000", "https://*.example.org"},
	Credentials:   true,
	Methods:       []string{"GET", "POST", "PUT", "DELETE"},
	Headers:       []string{"Content-Type", "Authorization"},
	ExposeHeaders: []string{"X-Request-Id"},
	MaxAge:        10 * time.Minute,
}

func TestActualRequests(t *testing.T) {
	t.Parallel()
	p := mustNew(t, appConfig)
	tests := []struct {
		name      string
		method    string
		origin    []string
		headers   map[string]string
		wantACAO  string
		wantCreds string
	}{
		{"no origin is not CORS", "GET", nil, nil, "", ""},
		{"simple GET from allowed origin", "GET", []string{"https://app.example.com"}, nil, "https://app.example.com", "true"},
		{"POST from allowed origin", "POST", []string{"https://app.example.com"}, nil, "https://app.example.com", "true"},
		{"allowed origin with port", "GET", []string{"http://localhost:3000"}, nil, "http://localhost:3000", "true"},
		{"subdomain pattern", "GET", []string{"https://tenant.example.org"}, nil, "https://tenant.example.org", "true"},
		{"deep subdomain pattern", "GET", []string{"https://a.b.example.org"}, nil, "https://a.b.example.org", "true"},
		{"pattern apex", "GET", []string{"https://example.org"}, nil, "", ""},
		{"arbitrary origin not reflected", "GET", []string{"https://evil.net"}, nil, "", ""},
		{"suffix look-alike", "GET", []string{"https://app.example.com.evil.net"}, nil, "", ""},
		{"prefix look-alike", "GET", []string{"https://evilapp.example.com"}, nil, "", ""},
		{"pattern look-alike", "GET", []string{"https://evilexample.org"}, nil, "", ""},
		{"pattern suffix attack", "GET", []string{"https://example.org.evil.net"}, nil, "", ""},
		{"scheme differs", "GET", []string{"http://app.example.com"}, nil, "", ""},
		{"port differs", "GET", []string{"http://localhost:3001"}, nil, "", ""},
		{"port missing", "GET", []string{"http://localhost"}, nil, "", ""},
		{"explicit default port", "GET", []string{"https://app.example.com:443"}, nil, "", ""},
		{"uppercase host", "GET", []string{"https://APP.example.com"}, nil, "", ""},
		{"trailing slash", "GET", []string{"https://app.example.com/"}, nil, "", ""},
		{"null origin", "GET", []string{"null"}, nil, "", ""},
		{"empty origin", "GET", []string{""}, nil, "", ""},
		{"two origin headers", "GET", []string{"https://app.example.com", "https://evil.net"}, nil, "", ""},
		{"origin list in one header", "GET", []string{"https://app.example.com https://evil.net"}, nil, "", ""},
		{"OPTIONS without request method is an actual request", "OPTIONS", []string{"https://app.example.com"}, nil, "https://app.example.com", "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, "https://api.example.com/items", nil)
			for _, o := range tt.origin {
				r.Header.Add("Origin", o)
			}
			w := serve(p, r)
			h := w.Header()
			if w.Code != 200 || w.Body.String() != "hello" || h.Get("X-Upstream") != "yes" {
				t.Fatalf("request did not reach the handler: got %d %q", w.Code, w.Body)
			}
			if got := strings.Join(h.Values("Access-Control-Allow-Origin"), "|"); got != tt.wantACAO {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, tt.wantACAO)
			}
			if got := strings.Join(h.Values("Access-Control-Allow-Credentials"), "|"); got != tt.wantCreds {
				t.Errorf("Access-Control-Allow-Credentials: got %q, want %q", got, tt.wantCreds)
			}
			if h.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("the handler's Access-Control-Allow-Methods survived: %q", h.Get("Access-Control-Allow-Methods"))
			}
			wantExpose := ""
			if tt.wantACAO != "" {
				wantExpose = "X-Request-Id"
			}
			if got := h.Get("Access-Control-Expose-Headers"); got != wantExpose {
				t.Errorf("Access-Control-Expose-Headers: got %q, want %q", got, wantExpose)
			}
			if vary := strings.Join(h.Values("Vary"), ", "); !strings.Contains(vary, "Origin") || !strings.Contains(vary, "Accept-Encoding") {
				t.Errorf("Vary: got %q, want Origin and the handler's Accept-Encoding", vary)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	p := mustNew(t, appConfig)
	pna := mustNew(t, cors.Config{Origins: []string{"https://app.example.com"}, PrivateNetwork: true})
	tests := []struct {
		name    string
		policy  *cors.Policy
		origin  string
		method  string
		headers []string
		pna     bool
		wantErr error
	}{
		{"allowed", p, "https://app.example.com", "PUT", []string{"content-type,authorization"}, false, nil},
		{"allowed, spaces and case", p, "https://app.example.com", "DELETE", []string{" Content-Type , AUTHORIZATION "}, false, nil},
		{"allowed, several lines", p, "https://app.example.com", "POST", []string{"content-type", "authorization"}, false, nil},
		{"allowed, no headers", p, "https://tenant.example.org", "GET", nil, false, nil},
		{"disallowed origin", p, "https://evil.net", "PUT", nil, false, cors.ErrOriginNotAllowed},
		{"look-alike origin", p, "https://app.example.com.evil.net", "PUT", nil, false, cors.ErrOriginNotAllowed},
		{"null origin", p, "null", "PUT", nil, false, cors.ErrNullOrigin},
		{"malformed origin", p, "https://app.example.com/x", "PUT", nil, false, cors.ErrMalformedOrigin},
		{"method not allowed", p, "https://app.example.com", "PATCH", nil, false, cors.ErrMethodNotAllowed},
		{"method case matters", p, "https://app.example.com", "put", nil, false, cors.ErrMethodNotAllowed},
		{"header not allowed", p, "https://app.example.com", "PUT", []string{"content-type,x-admin"}, false, cors.ErrHeaderNotAllowed},
		{"private network refused by default", p, "https://app.example.com", "PUT", nil, true, cors.ErrPrivateNetwork},
		{"private network allowed", pna, "https://app.example.com", "POST", []string{"content-type"}, true, nil},
		{"private network from other origin", pna, "https://evil.net", "POST", nil, true, cors.ErrOriginNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("OPTIONS", "https://api.example.com/items", nil)
			r.Header.Set("Origin", tt.origin)
			r.Header.Set("Access-Control-Request-Method", tt.method)
			for _, h := range tt.headers {
				r.Header.Add("Access-Control-Request-Headers", h)
			}
			if tt.pna {
				r.Header.Set("Access-Control-Request-Private-Network", "true")
			}
			if err := tt.policy.Check(r); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Check: got %v, want %v", err, tt.wantErr)
			}
			w := serve(tt.policy, r)
			h := w.Header()
			if h.Get("X-Upstream") != "" {
				t.Fatal("preflight reached the handler")
			}
			vary := strings.Join(h.Values("Vary"), ", ")
			for _, v := range []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"} {
				if !strings.Contains(vary, v) {
					t.Errorf("Vary: got %q, want it to contain %s", vary, v)
				}
			}
			if tt.wantErr != nil {
				if w.Code != http.StatusForbidden {
					t.Errorf("status: got %d, want 403", w.Code)
				}
				for k := range h {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("refused preflight carries %s: %q", k, h.Get(k))
					}
				}
				return
			}
			if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
				t.Errorf("status: got %d with %d bytes, want 204 and no body", w.Code, w.Body.Len())
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.origin {
				t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, tt.origin)
			}
			if tt.policy == p {
				want := map[string]string{
					"Access-Control-Allow-Credentials": "true",
					"Access-Control-Allow-Methods":     "GET, POST, PUT, DELETE",
					"Access-Control-Allow-Headers":     "Content-Type, Authorization",
					"Access-Control-Max-Age":           "600",
				}
				for k, v := range want {
					if got := h.Get(k); got != v {
						t.Errorf("%s: got %q, want %q", k, got, v)
					}
				}
			}
			wantPNA := ""
			if tt.pna {
				wantPNA = "true"
			}
			if got := h.Get("Access-Control-Allow-Private-Network"); got != wantPNA {
				t.Errorf("Access-Control-Allow-Private-Network: got %q, want %q", got, wantPNA)
			}
		})
	}
}

func TestWildcard(t *testing.T) {
	t.Parallel()
	p := mustNew(t, cors.Config{Origins: []string{"*"}, Headers: []string{"*"}})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", "https://anyone.example")
	w := serve(p, r)
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin: got %q, want *", got)
	}
	if got := w.Header().Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("Access-Control-Allow-Credentials: got %q, want none", got)
	}
	if !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
		t.Error("Vary: Origin missing under *")
	}
	pre := httptest.NewRequest("OPTIONS", "/", nil)
	pre.Header.Set("Origin", "https://anyone.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "x-anything")
	w = serve(p, pre)
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "*" || w.Header().Get("Access-Control-Allow-Headers") != "*" {
		t.Errorf("wildcard preflight: got %d %v", w.Code, w.Header())
	}
	// null is never covered by "*": it must be listed by name.
	nr := httptest.NewRequest("GET", "/", nil)
	nr.Header.Set("Origin", "null")
	if got := serve(p, nr).Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("null under *: got %q, want none", got)
	}
	withNull := mustNew(t, cors.Config{Origins: []string{"*", "null"}})
	if got := serve(withNull, nr).Header().Get("Access-Control-Allow-Origin"); got != "null" {
		t.Errorf("null listed by name: got %q, want null", got)
	}
}

func TestNewRejectsUnsafeConfigs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    cors.Config
		want string
	}{
		{"star with credentials", cors.Config{Origins: []string{"*"}, Credentials: true}, `"*" cannot be combined with credentials`},
		{"null with credentials", cors.Config{Origins: []string{"null"}, Credentials: true}, `"null" cannot be combined with credentials`},
		{"star header with credentials", cors.Config{Origins: []string{"https://a.com"}, Credentials: true, Headers: []string{"*"}}, "headers[0]"},
		{"star expose with credentials", cors.Config{Origins: []string{"https://a.com"}, Credentials: true, ExposeHeaders: []string{"*"}}, "expose_headers[0]"},
		{"star and others", cors.Config{Origins: []string{"*", "https://a.com"}}, "remove the other entries"},
		{"bad origin", cors.Config{Origins: []string{"https://a.com/"}}, "origins[0]"},
		{"regex-like origin", cors.Config{Origins: []string{"https://.*\\.example\\.com"}}, "origins[0]"},
		{"substring origin", cors.Config{Origins: []string{"example.com"}}, "origins[0]"},
		{"star method", cors.Config{Methods: []string{"*"}}, "methods[0]"},
		{"trace", cors.Config{Methods: []string{"GET", "trace"}}, "methods[1]: TRACE"},
		{"bad header", cors.Config{Headers: []string{"X Bad"}}, "headers[0]"},
		{"max age too small", cors.Config{MaxAge: time.Millisecond}, "max_age"},
		{"max age too large", cors.Config{MaxAge: 48 * time.Hour}, "max_age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := cors.New(tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "cors: ") {
				t.Errorf("New: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestZeroConfig(t *testing.T) {
	t.Parallel()
	p := mustNew(t, cors.Config{})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", "https://evil.net")
	w := serve(p, r)
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("zero config reflected an origin: %q", got)
	}
	pre := httptest.NewRequest("OPTIONS", "/", nil)
	pre.Header.Set("Origin", "https://evil.net")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	if w := serve(p, pre); w.Code != 403 {
		t.Errorf("zero config preflight: got %d, want 403", w.Code)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	p := mustNew(t, cors.Config{Origins: []string{"https://app.example.com"}})
	pre := httptest.NewRequest("OPTIONS", "/", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type")
	w := serve(p, pre)
	h := w.Header()
	if w.Code != 204 || h.Get("Access-Control-Allow-Methods") != "GET, HEAD, POST" || h.Get("Access-Control-Max-Age") != "600" ||
		h.Get("Access-Control-Allow-Credentials") != "" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("defaults: got %d %v", w.Code, h)
	}
	pre.Header.Set("Access-Control-Request-Headers", "authorization")
	if err := p.Check(pre); !errors.Is(err, cors.ErrHeaderNotAllowed) {
		t.Errorf("Authorization by default: got %v, want ErrHeaderNotAllowed", err)
	}
}

func TestOnDecisionCounts(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	counts := map[string]int{}
	c := appConfig
	c.OnDecision = func(r *http.Request, d cors.Decision) {
		mu.Lock()
		defer mu.Unlock()
		counts[d.Outcome.String()]++
	}
	p := mustNew(t, c)
	req := func(method, origin, acrm string, sfs string) *http.Request {
		r := httptest.NewRequest(method, "http://api.example.com/", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if acrm != "" {
			r.Header.Set("Access-Control-Request-Method", acrm)
		}
		if sfs != "" {
			r.Header.Set("Sec-Fetch-Site", sfs)
		}
		return r
	}
	for _, r := range []*http.Request{
		req("GET", "", "", ""),
		req("POST", "http://api.example.com", "", ""),
		req("POST", "https://api.example.com", "", "same-origin"),
		req("GET", "https://app.example.com", "", ""),
		req("GET", "https://evil.net", "", ""),
		req("OPTIONS", "https://app.example.com", "PUT", ""),
		req("OPTIONS", "https://evil.net", "PUT", ""),
		req("OPTIONS", "https://app.example.com", "PATCH", ""),
	} {
		serve(p, r)
	}
	want := map[string]int{"not_cors": 3, "allowed": 1, "refused": 1, "preflight_allowed": 1, "preflight_refused": 2}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: got %d, want %d", k, counts[k], v)
		}
	}
}

func TestBehindReverseProxy(t *testing.T) {
	t.Parallel()
	app := httptest.NewServer(upstream)
	defer app.Close()
	u, _ := url.Parse(app.URL)
	p := mustNew(t, appConfig)
	front := httptest.NewServer(p.Handler(httputil.NewSingleHostReverseProxy(u)))
	defer front.Close()
	for _, tt := range []struct{ origin, want string }{
		{"https://app.example.com", "https://app.example.com"},
		{"https://evil.net", ""},
	} {
		req, _ := http.NewRequest("GET", front.URL, nil)
		req.Header.Set("Origin", tt.origin)
		resp, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := strings.Join(resp.Header.Values("Access-Control-Allow-Origin"), "|"); got != tt.want {
			t.Errorf("origin %s through the proxy: got ACAO %q, want %q", tt.origin, got, tt.want)
		}
		if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "" {
			t.Errorf("upstream's Access-Control-Allow-Methods leaked: %q", got)
		}
	}
}

func TestStreamingAndEmptyResponses(t *testing.T) {
	t.Parallel()
	p := mustNew(t, appConfig)
	for name, h := range map[string]http.Handler{
		"no write": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}),
		"flush first": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush through the policy: %v", err)
			}
		}),
		"early hints": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Access-Control-Allow-Origin", "https://evil.net")
			w.WriteHeader(http.StatusCreated)
		}),
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Origin", "https://app.example.com")
			w := httptest.NewRecorder()
			p.Handler(h).ServeHTTP(w, r)
			if got := strings.Join(w.Header().Values("Access-Control-Allow-Origin"), "|"); got != "https://app.example.com" {
				t.Errorf("got ACAO %q, want the policy's", got)
			}
		})
	}
}
