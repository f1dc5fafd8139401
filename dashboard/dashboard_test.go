package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/dashboard"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHandlerHeaders checks that every answer — the page, its assets, a
// 404 and a 405 — carries the page's own strict CSP and the headers that
// keep it from being cached, sniffed, framed or leaking a referrer.
func TestHandlerHeaders(t *testing.T) {
	t.Parallel()
	h := dashboard.Handler()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Frame-Options":         "DENY",
	}
	tests := []struct {
		name, method, path string
		code               int
		contentType        string
	}{
		{"page", "GET", "/", 200, "text/html; charset=utf-8"},
		{"page HEAD", "HEAD", "/", 200, "text/html; charset=utf-8"},
		{"script", "GET", "/ui/app.js", 200, "text/javascript; charset=utf-8"},
		{"stylesheet", "GET", "/ui/app.css", 200, "text/css; charset=utf-8"},
		{"unknown path", "GET", "/nope", 404, ""},
		{"asset directory", "GET", "/ui/", 404, ""},
		{"the embedded file's own name", "GET", "/assets/index.html", 404, ""},
		{"traversal", "GET", "/ui/../ui/app.js", 404, ""},
		{"POST", "POST", "/", 405, ""},
		{"DELETE an asset", "DELETE", "/ui/app.js", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := get(t, h, tt.method, tt.path)
			b := body(t, res)
			if res.StatusCode != tt.code {
				t.Fatalf("got %d, want %d", res.StatusCode, tt.code)
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
			if tt.contentType != "" && res.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type: got %q, want %q", res.Header.Get("Content-Type"), tt.contentType)
			}
			if tt.method == "HEAD" && b != "" {
				t.Errorf("HEAD answered a body of %d bytes", len(b))
			}
			if tt.code == 405 && res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow: got %q", res.Header.Get("Allow"))
			}
		})
	}
}

// TestPageHasNothingInline reads the page and its assets as a reviewer
// would: the CSP forbids inline script and style, so none may be there;
// nothing may come from another origin; and the script never turns a
// string into markup or code, since event values are attacker-chosen.
func TestPageHasNothingInline(t *testing.T) {
	t.Parallel()
	h := dashboard.Handler()
	page := body(t, get(t, h, "GET", "/"))
	js := body(t, get(t, h, "GET", "/ui/app.js"))
	css := body(t, get(t, h, "GET", "/ui/app.css"))

	for _, s := range regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		if strings.TrimSpace(s[1]) != "" {
			t.Errorf("inline script in the page: %.80q", s[1])
		}
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<style\b`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`), // inline event handlers
		regexp.MustCompile(`(?i)javascript:`),
		regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"(https?:)?//`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the page has %q, which its CSP forbids or which leaves the origin", m)
		}
	}
	for _, bad := range []string{
		"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
		"setAttribute('style'", `setAttribute("style"`, "srcdoc", "createContextualFragment", "DOMParser",
	} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	for _, m := range regexp.MustCompile(`https?://[^\s'"]+`).FindAllString(js+css, -1) {
		if m != "http://www.w3.org/2000/svg" {
			t.Errorf("the assets name another origin: %s", m)
		}
	}
	if strings.Contains(css, "@import") || strings.Contains(css, "url(") {
		t.Error("the stylesheet loads something else")
	}
	for _, ref := range []string{`src="ui/app.js"`, `href="ui/app.css"`} {
		if !strings.Contains(page, ref) {
			t.Errorf("the page does not load %s", ref)
		}
	}
}

// TestPageShowsEveryPanel checks the page has a place for each thing the
// dashboard must show; the browser test checks each is filled.
func TestPageShowsEveryPanel(t *testing.T) {
	t.Parallel()
	page := body(t, get(t, dashboard.Handler(), "GET", "/"))
	for _, id := range []string{"chart-traffic", "chart-policy", "windows", "top-client_ip", "top-route", "top-user",
		"events", "detail", "locks", "lock-lookup", "config", "findings", "upstream", "filters", "f-policy", "f-ip", "login-form", "token"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("the page has no #%s", id)
		}
	}
	if !strings.Contains(page, `name="token"`) || !strings.Contains(page, `action="session"`) {
		t.Error("the token form does not post the field token to session")
	}
}

// TestStatic names exactly the files the handler serves: what an admin
// listener may serve without credentials, and nothing more.
func TestStatic(t *testing.T) {
	t.Parallel()
	h := dashboard.Handler()
	for _, p := range []string{"/", "/ui/app.js", "/ui/app.css", "/ui/", "/ui", "/stats", "/events", "/events/stream",
		"/login-locks", "/metrics", "/index.html", "/ui/app.js/", "//", "/ui/../stats", ""} {
		served := get(t, h, "GET", "/"+strings.TrimPrefix(p, "/")).StatusCode == 200
		if p == "" {
			served = false
		}
		if got := dashboard.Static(p); got != served {
			t.Errorf("Static(%q) = %v, but the handler answers it: %v", p, got, served)
		}
	}
}
