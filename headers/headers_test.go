package headers_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/headers"
	"github.com/rampartsec/rampart/problem"
)

func ptr[T any](v T) *T { return &v }

func mustNew(t *testing.T, c headers.Config) *headers.Policy {
	t.Helper()
	p, err := headers.New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// helmetDefaults are the headers the helmet preset sends over HTTPS:
// helmet 8's helmet(), as recorded from a real Express app (the node test
// checks them against the live one), with one documented deviation:
// Referrer-Policy strict-origin-when-cross-origin instead of no-referrer.
var helmetDefaults = map[string]string{
	"Content-Security-Policy":           "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
	"Cross-Origin-Opener-Policy":        "same-origin",
	"Cross-Origin-Resource-Policy":      "same-origin",
	"Origin-Agent-Cluster":              "?1",
	"Referrer-Policy":                   "strict-origin-when-cross-origin",
	"Strict-Transport-Security":         "max-age=31536000; includeSubDomains",
	"X-Content-Type-Options":            "nosniff",
	"X-Dns-Prefetch-Control":            "off",
	"X-Download-Options":                "noopen",
	"X-Frame-Options":                   "SAMEORIGIN",
	"X-Permitted-Cross-Domain-Policies": "none",
	"X-Xss-Protection":                  "0",
}

func TestPresets(t *testing.T) {
	t.Parallel()
	strictCSP := "default-src 'none';base-uri 'none';connect-src 'self';font-src 'self';form-action 'self';frame-ancestors 'none';img-src 'self' data:;manifest-src 'self';media-src 'self';object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self';upgrade-insecure-requests;worker-src 'self'"
	tests := []struct {
		name   string
		config headers.Config
		want   map[string]string
	}{
		{"zero config is helmet", headers.Config{}, helmetDefaults},
		{"helmet by name", headers.Config{Preset: "helmet"}, helmetDefaults},
		{"none sends nothing", headers.Config{Preset: "none"}, map[string]string{}},
		{"strict", headers.Config{Preset: "strict"}, map[string]string{
			"Content-Security-Policy":           strictCSP,
			"Cross-Origin-Embedder-Policy":      "require-corp",
			"Cross-Origin-Opener-Policy":        "same-origin",
			"Cross-Origin-Resource-Policy":      "same-origin",
			"Origin-Agent-Cluster":              "?1",
			"Permissions-Policy":                "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=(), xr-spatial-tracking=()",
			"Referrer-Policy":                   "same-origin",
			"Strict-Transport-Security":         "max-age=63072000; includeSubDomains; preload",
			"X-Content-Type-Options":            "nosniff",
			"X-Dns-Prefetch-Control":            "off",
			"X-Download-Options":                "noopen",
			"X-Frame-Options":                   "DENY",
			"X-Permitted-Cross-Domain-Policies": "none",
			"X-Xss-Protection":                  "0",
		}},
		{"strict with a CDN falls back to credentialless", headers.Config{Preset: "strict", CSP: headers.Directives{"img-src": {"'self'", "https://cdn.example.com"}}}, map[string]string{
			"Cross-Origin-Embedder-Policy": "credentialless",
		}},
		{"report-only", headers.Config{CSPReportOnly: true}, map[string]string{
			"Content-Security-Policy-Report-Only": helmetDefaults["Content-Security-Policy"],
		}},
		{"report uri", headers.Config{ReportURI: "/.rampart/csp-report"}, map[string]string{
			"Content-Security-Policy": strings.Replace(helmetDefaults["Content-Security-Policy"], "object-src 'none';", "object-src 'none';report-to rampart-csp;report-uri /.rampart/csp-report;", 1),
			"Reporting-Endpoints":     `rampart-csp="/.rampart/csp-report"`,
		}},
		{"hsts overrides", headers.Config{HSTS: headers.HSTS{MaxAge: 2 * 365 * 24 * time.Hour, Preload: ptr(true)}}, map[string]string{
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
		}},
		{"hsts without subdomains", headers.Config{HSTS: headers.HSTS{IncludeSubdomains: ptr(false)}}, map[string]string{
			"Strict-Transport-Security": "max-age=31536000",
		}},
		{"csp directive override and removal", headers.Config{CSP: headers.Directives{"script-src": {"'self'", "https://cdn.example.com"}, "upgrade-insecure-requests": nil, "style-src": {"'self'"}}}, map[string]string{
			"Content-Security-Policy": "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' https://cdn.example.com;script-src-attr 'none';style-src 'self'",
		}},
		{"set replaces a value", headers.Config{Set: map[string]string{"referrer-policy": "strict-origin-when-cross-origin", "X-Frame-Options": "DENY"}}, map[string]string{
			"Referrer-Policy": "strict-origin-when-cross-origin",
			"X-Frame-Options": "DENY",
		}},
		{"set adds a header", headers.Config{Set: map[string]string{"Permissions-Policy": "camera=()"}}, map[string]string{
			"Permissions-Policy": "camera=()",
		}},
		{"remove drops a header", headers.Config{Remove: []string{"X-Download-Options", "Strict-Transport-Security"}}, map[string]string{
			"X-Download-Options":        "",
			"Strict-Transport-Security": "",
		}},
		{"server replaced by fixed value", headers.Config{Server: "rampart"}, map[string]string{"Server": "rampart"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustNew(t, tt.config).Header()
			for k, want := range tt.want {
				if g := got.Get(k); g != want {
					t.Errorf("%s: got %q, want %q", k, g, want)
				}
			}
			if tt.name == "none sends nothing" && len(got) != 0 {
				t.Errorf("got %v, want no headers", got)
			}
			if strings.HasPrefix(tt.name, "helmet") || tt.name == "zero config is helmet" {
				if len(got) != len(helmetDefaults) {
					t.Errorf("got %d headers, want %d: %v", len(got), len(helmetDefaults), got)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config headers.Config
		want   string
	}{
		{"unknown preset", headers.Config{Preset: "paranoid"}, "preset must be helmet, strict or none"},
		{"camelCase directive", headers.Config{CSP: headers.Directives{"scriptSrc": {"'self'"}}}, `did you mean "script-src"`},
		{"typo directive", headers.Config{CSP: headers.Directives{"scirpt-src": {"'self'"}}}, `did you mean "script-src"`},
		{"unquoted self", headers.Config{CSP: headers.Directives{"img-src": {"self"}}}, `must be quoted`},
		{"unknown keyword", headers.Config{CSP: headers.Directives{"img-src": {"'selfie'"}}}, "unknown keyword"},
		{"fixed nonce", headers.Config{CSP: headers.Directives{"script-src": {"'nonce-abc'"}}}, "fixed nonce"},
		{"bad hash", headers.Config{CSP: headers.Directives{"script-src": {"'sha256-!!!'"}}}, "not valid base64"},
		{"directive injection", headers.Config{CSP: headers.Directives{"script-src": {"'self';script-src"}}}, "not allowed"},
		{"space injection", headers.Config{CSP: headers.Directives{"script-src": {"'self' *"}}}, "not allowed"},
		{"none with others", headers.Config{CSP: headers.Directives{"object-src": {"'none'", "'self'"}}}, "'none' must be the only source"},
		{"empty source list", headers.Config{CSP: headers.Directives{"img-src": {}}}, "empty source list"},
		{"valueless with value", headers.Config{CSP: headers.Directives{"upgrade-insecure-requests": {"yes"}}}, "takes no value"},
		{"default-src removed", headers.Config{CSP: headers.Directives{"default-src": nil}}, "default-src is required"},
		{"bad host", headers.Config{CSP: headers.Directives{"img-src": {"https://exa mple.com"}}}, "not allowed"},
		{"bad port", headers.Config{CSP: headers.Directives{"img-src": {"https://example.com:99999x"}}}, "invalid port"},
		{"bad sandbox", headers.Config{CSP: headers.Directives{"sandbox": {"allow-everything"}}}, "unknown token"},
		{"set csp", headers.Config{Set: map[string]string{"Content-Security-Policy": "default-src *"}}, "use the csp key"},
		{"set hsts", headers.Config{Set: map[string]string{"Strict-Transport-Security": "max-age=1"}}, "use the hsts key"},
		{"set crlf", headers.Config{Set: map[string]string{"X-Test": "a\r\nSet-Cookie: x=1"}}, "invalid header value"},
		{"set bad name", headers.Config{Set: map[string]string{"X Test": "a"}}, "not a valid header name"},
		{"xfo allow-from", headers.Config{Set: map[string]string{"X-Frame-Options": "ALLOW-FROM https://a.example"}}, "frame-ancestors"},
		{"xfo typo", headers.Config{Set: map[string]string{"X-Frame-Options": "SAMEORGIN"}}, "must be one of"},
		{"referrer typo", headers.Config{Set: map[string]string{"Referrer-Policy": "no-referer"}}, "unknown policy"},
		{"set and remove", headers.Config{Set: map[string]string{"X-Frame-Options": "DENY"}, Remove: []string{"x-frame-options"}}, "both set and remove"},
		{"remove and keep", headers.Config{Remove: []string{"X-Frame-Options"}, KeepUpstream: []string{"X-Frame-Options"}}, "both remove and keep_upstream"},
		{"preload without subdomains", headers.Config{HSTS: headers.HSTS{Preload: ptr(true), IncludeSubdomains: ptr(false)}}, "preload needs"},
		{"preload short max-age", headers.Config{HSTS: headers.HSTS{Preload: ptr(true), MaxAge: time.Hour}}, "preload needs"},
		{"negative max-age", headers.Config{HSTS: headers.HSTS{MaxAge: -time.Second}}, "must not be negative"},
		{"report uri relative scheme", headers.Config{ReportURI: "//evil.example/r"}, "report_uri"},
		{"report uri quote", headers.Config{ReportURI: `/r"x`}, "report_uri contains"},
		{"bad nonce header", headers.Config{NonceHeader: "X Nonce"}, "nonce_header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := headers.New(tt.config)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "headers: ") {
				t.Errorf("got %q, want the package prefix", err)
			}
		})
	}
}

func TestValidSources(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"'self'", "*", "https:", "data:", "blob:", "wss:", "https://cdn.example.com", "*.example.com",
		"https://*.example.com:443/path/", "example.com:*", "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
		"'strict-dynamic'", "'unsafe-hashes'", "'report-sample'", "'wasm-unsafe-eval'",
	} {
		t.Run(src, func(t *testing.T) {
			t.Parallel()
			d := headers.Directives{"default-src": {"'self'"}, "script-src": {src}}
			if _, err := d.Build(); err != nil {
				t.Errorf("got %v, want %s accepted", err, src)
			}
		})
	}
}

// upstream answers like a careless application: weak or missing security
// headers, and headers that advertise its stack.
func upstream(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Powered-By", "Express")
		h.Set("Server", "nginx/1.18.0")
		h.Set("X-AspNet-Version", "4.0.30319")
		h.Set("X-AspNetMvc-Version", "5.2")
		h.Set("X-Runtime", "0.012")
		h.Set("X-Debug-Token", "abc")
		h.Set("X-Debug-Token-Link", "/_profiler/abc")
		h.Set("X-Frame-Options", "ALLOWALL")
		h.Set("Content-Security-Policy", "default-src *")
		h.Set("Strict-Transport-Security", "max-age=0")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-App", "kept")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<p>hello</p>"))
	})
}

// plainCSP is csp as sent over plain HTTP: without upgrade-insecure-requests.
func plainCSP(csp string) string {
	return strings.Replace(strings.Replace(csp, ";upgrade-insecure-requests", "", 1), "upgrade-insecure-requests;", "", 1)
}

// checkHelmet checks the helmet preset's headers on a response to a
// plain-HTTP request.
func checkHelmet(t *testing.T, h http.Header) {
	t.Helper()
	for k, want := range helmetDefaults {
		if k == "Content-Security-Policy" {
			want = plainCSP(want)
		}
		if got := h.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %q, want [%q]", k, got, want)
		}
	}
	for _, k := range []string{"X-Powered-By", "Server", "X-Aspnet-Version", "X-Aspnetmvc-Version", "X-Runtime", "X-Debug-Token", "X-Debug-Token-Link"} {
		if v := h.Values(k); len(v) > 0 {
			t.Errorf("%s: got %q, want removed", k, v)
		}
	}
}

func TestHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	p := mustNew(t, headers.Config{})
	deny := func(status int, policy string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.Write(w, r, problem.Problem{Status: status, Policy: policy})
		})
	}
	tests := []struct {
		name   string
		h      http.Handler
		status int
	}{
		{"200 from upstream", upstream(200), 200},
		{"404 from upstream", upstream(404), 404},
		{"500 from upstream", upstream(500), 500},
		{"403 forbidden by a policy", deny(403, "access"), 403},
		{"429 rate limited by a policy", deny(429, "ratelimit"), 429},
		{"400 validation error", deny(400, "validate"), 400},
		{"502 bad gateway", deny(502, "upstream"), 502},
		{"empty handler", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), 200},
		{"write without WriteHeader", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Powered-By", "PHP/8")
			_, _ = w.Write([]byte("x"))
		}), 200},
		{"flush before write", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Server", "leaky")
			w.(http.Flusher).Flush()
		}), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(p.Handler(tt.h))
			defer srv.Close()
			res, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", res.StatusCode, tt.status)
			}
			checkHelmet(t, res.Header)
		})
	}
}

func TestThroughReverseProxy(t *testing.T) {
	t.Parallel()
	app := httptest.NewServer(upstream(200))
	t.Cleanup(app.Close)
	u, _ := url.Parse(app.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	badGateway := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "127.0.0.1:1"})
	badGateway.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		problem.Write(w, r, problem.Problem{Status: http.StatusBadGateway, Policy: "upstream"})
	}
	tests := []struct {
		name   string
		h      http.Handler
		status int
	}{
		{"proxied 200", rp, 200},
		{"unreachable upstream 502", badGateway, 502},
	}
	p := mustNew(t, headers.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(p.Handler(tt.h))
			defer srv.Close()
			res, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", res.StatusCode, tt.status)
			}
			checkHelmet(t, res.Header)
			if tt.status == 200 && res.Header.Get("X-App") != "kept" {
				t.Errorf("X-App: got %q, want kept", res.Header.Get("X-App"))
			}
		})
	}
}

func TestKeepUpstreamAndOverride(t *testing.T) {
	t.Parallel()
	base := mustNew(t, headers.Config{})
	route, err := base.With(headers.Override{
		KeepUpstream: []string{"Content-Security-Policy", "Server"},
		Remove:       []string{"X-Frame-Options"},
		Set:          map[string]string{"Cross-Origin-Resource-Policy": "cross-origin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	route.Handler(upstream(200)).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	h := rec.Result().Header
	for k, want := range map[string]string{
		"Content-Security-Policy":      "default-src *",
		"Server":                       "nginx/1.18.0",
		"X-Frame-Options":              "",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"X-Powered-By":                 "",
		"Strict-Transport-Security":    helmetDefaults["Strict-Transport-Security"],
	} {
		if got := strings.Join(h.Values(k), "|"); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	// The base policy is unchanged.
	if got := base.Header().Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("base X-Frame-Options: got %q, want SAMEORIGIN", got)
	}
	// An app that manages its CSP but sends none on this response still
	// gets rampart's.
	rec = httptest.NewRecorder()
	route.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })).
		ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Result().Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != plainCSP(helmetDefaults["Content-Security-Policy"]) {
		t.Errorf("CSP without upstream value: got %q", got)
	}
	// Keeping an upstream header added with Add (as a reverse proxy does)
	// drops rampart's copy.
	rec = httptest.NewRecorder()
	route.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Content-Security-Policy", "default-src 'none'")
		w.WriteHeader(200)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Result().Header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != "default-src 'none'" {
		t.Errorf("CSP added by upstream: got %q", got)
	}

	if _, err := base.With(headers.Override{CSP: headers.Directives{"img-src": {"self"}}}); err == nil || !strings.Contains(err.Error(), "route override") {
		t.Errorf("got %v, want a route override error", err)
	}
}

var nonceRE = regexp.MustCompile(`'nonce-([A-Za-z0-9_-]{22})'`)

func TestNonce(t *testing.T) {
	t.Parallel()
	p := mustNew(t, headers.Config{Preset: "strict"})
	var seenCtx, seenHeader string
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenCtx = headers.NonceFromContext(r.Context())
		seenHeader = strings.Join(r.Header.Values(headers.DefaultNonceHeader), ",")
	})
	seen := map[string]bool{}
	for range 50 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(headers.DefaultNonceHeader, "attacker-chosen")
		rec := httptest.NewRecorder()
		p.Handler(app).ServeHTTP(rec, r)
		csp := rec.Result().Header.Get("Content-Security-Policy")
		m := nonceRE.FindAllStringSubmatch(csp, -1)
		if len(m) != 2 || m[0][1] != m[1][1] {
			t.Fatalf("want one nonce in script-src and style-src, got %q", csp)
		}
		nonce := m[0][1]
		if !strings.Contains(csp, "script-src 'self' 'nonce-"+nonce+"'") || !strings.Contains(csp, "style-src 'self' 'nonce-"+nonce+"'") {
			t.Errorf("nonce not in script-src and style-src: %q", csp)
		}
		if strings.Contains(csp, "default-src 'none' 'nonce") {
			t.Errorf("nonce added to default-src 'none': %q", csp)
		}
		if seenCtx != nonce || seenHeader != nonce {
			t.Fatalf("app got context %q and header %q, want %q", seenCtx, seenHeader, nonce)
		}
		if seen[nonce] {
			t.Fatalf("nonce %q repeated", nonce)
		}
		seen[nonce] = true
	}

	// Without nonces the client's copy is still removed.
	helmet := mustNew(t, headers.Config{})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set(headers.DefaultNonceHeader, "attacker-chosen")
	helmet.Handler(app).ServeHTTP(httptest.NewRecorder(), r)
	if seenHeader != "" || seenCtx != "" {
		t.Errorf("got header %q and context %q, want none", seenHeader, seenCtx)
	}
}

func TestNonceWithoutScriptSrc(t *testing.T) {
	t.Parallel()
	p := mustNew(t, headers.Config{Nonce: ptr(true), CSP: headers.Directives{"script-src": nil, "style-src": nil}})
	rec := httptest.NewRecorder()
	p.Handler(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	csp := rec.Result().Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'self';") {
		t.Errorf("default-src must not get the nonce: %q", csp)
	}
	if !regexp.MustCompile(`;script-src 'self' 'nonce-[\w-]+'`).MatchString(csp) {
		t.Errorf("script-src must be derived from default-src with the nonce: %q", csp)
	}
}

func TestHandlerPanicStillSetsHeaders(t *testing.T) {
	t.Parallel()
	p := mustNew(t, headers.Config{})
	rec := httptest.NewRecorder()
	func() {
		defer func() { _ = recover() }()
		p.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			panic("boom")
		})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	}()
	// An outer recoverer writes its 500 with the map as the policy left it.
	problem.Write(rec, httptest.NewRequest("GET", "/", nil), problem.Problem{Status: 500})
	checkHelmet(t, rec.Result().Header)
}

func TestSharedValuesAreNotCorrupted(t *testing.T) {
	t.Parallel()
	p := mustNew(t, headers.Config{})
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("X-Frame-Options", "ALLOWALL")
		w.Header().Add("Referrer-Policy", "unsafe-url")
	}))
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		checkHelmet(t, rec.Result().Header)
	}
}

// TestNestedRoutePolicyTakesOver: a route's override nested inside the
// gateway-wide policy decides the route's headers alone — no header of the
// outer policy survives that the route removed, and only one CSP (with the
// route's nonce) is sent.
func TestNestedRoutePolicyTakesOver(t *testing.T) {
	t.Parallel()
	nonce := true
	outer, err := headers.New(headers.Config{Nonce: &nonce})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := outer.With(headers.Override{
		Remove: []string{"X-Frame-Options"},
		CSP:    headers.Directives{"frame-ancestors": {"https://partner.example"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var seenNonce string
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenNonce = r.Header.Get("X-Rampart-CSP-Nonce")
		w.Header().Set("X-Frame-Options", "ALLOWALL")
		_, _ = w.Write([]byte("ok"))
	})
	h := outer.Handler(inner.Handler(app))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/embed", nil))
	if v := w.Header().Values("Content-Security-Policy"); len(v) != 1 || !strings.Contains(v[0], "frame-ancestors https://partner.example") {
		t.Fatalf("CSP: got %q, want one policy with the route's frame-ancestors", v)
	}
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), "'nonce-"+seenNonce+"'") || seenNonce == "" {
		t.Errorf("CSP nonce %q not the one the app received", seenNonce)
	}
	if v := w.Header().Get("X-Frame-Options"); v != "" {
		t.Errorf("X-Frame-Options: got %q, want removed on this route", v)
	}
	if w.Header().Get("Strict-Transport-Security") == "" {
		t.Error("route lost the headers it did not override")
	}
}

// TestUpgradeInsecureRequestsOnlyOverHTTPS: upgrade-insecure-requests is
// sent where the site is served over HTTPS — TLS, or what Secure says (a
// trusted proxy) — and never over plain HTTP, where it would send the
// page's forms to an https:// nobody serves.
func TestUpgradeInsecureRequestsOnlyOverHTTPS(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	forwarded := func(r *http.Request) bool { return r.Header.Get("X-Test-Proto") == "https" }
	for _, preset := range []string{"helmet", "strict"} {
		for _, tt := range []struct {
			name   string
			secure func(*http.Request) bool
			req    func() *http.Request
			want   bool
		}{
			{"plain http", nil, func() *http.Request { return httptest.NewRequest("GET", "http://app.test/", nil) }, false},
			{"tls", nil, func() *http.Request { return httptest.NewRequest("GET", "https://app.test/", nil) }, true},
			{"proxy says https", forwarded, func() *http.Request {
				r := httptest.NewRequest("GET", "http://app.test/", nil)
				r.Header.Set("X-Test-Proto", "https")
				return r
			}, true},
			{"proxy says nothing", forwarded, func() *http.Request { return httptest.NewRequest("GET", "http://app.test/", nil) }, false},
		} {
			t.Run(preset+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				p := mustNew(t, headers.Config{Preset: preset, Secure: tt.secure})
				rec := httptest.NewRecorder()
				p.Handler(ok).ServeHTTP(rec, tt.req())
				csp := rec.Result().Header.Get("Content-Security-Policy")
				if csp == "" || !strings.Contains(csp, "default-src") {
					t.Fatalf("CSP: got %q", csp)
				}
				if got := strings.Contains(csp, "upgrade-insecure-requests"); got != tt.want {
					t.Errorf("upgrade-insecure-requests sent: got %v, want %v (CSP %q)", got, tt.want, csp)
				}
				if preset == "strict" && !strings.Contains(csp, "'nonce-") {
					t.Errorf("strict CSP lost its nonce: %q", csp)
				}
			})
		}
	}
}
