package canonical_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/access/canonical"
)

func TestPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
		err  error
	}{
		// Already canonical: returned as is.
		{"root", "/", "/", nil},
		{"simple", "/public/index.html", "/public/index.html", nil},
		{"trailing slash kept", "/admin/", "/admin/", nil},
		{"case kept", "/ADMIN", "/ADMIN", nil},
		{"sub-delims raw", "/a!$&'()*+,=:@~b", "/a!$&'()*+,=:@~b", nil},
		{"dots inside a segment", "/a/.../b..c/.well-known", "/a/.../b..c/.well-known", nil},
		{"encoded percent stays encoded", "/a%25d", "/a%25d", nil},
		{"encoded question mark canonical but flagged", "/a%3Fb", "/a%3Fb", canonical.ErrEncodedDelimiter},
		{"encoded hash canonical but flagged", "/a%23b", "/a%23b", canonical.ErrEncodedDelimiter},
		{"encoded lower-case question mark rewritten and flagged", "/public/a%3fb", "/public/a%3Fb", canonical.ErrEncodedDelimiter},
		{"upper-case UTF-8 escapes", "/caf%C3%A9", "/caf%C3%A9", nil},
		{"lone percent escaped", "/100%25", "/100%25", nil},
		{"percent then one hex digit", "/x%252", "/x%252", nil},

		// Rewritten to the canonical spelling.
		{"unreserved decoded", "/%61dmin", "/admin", nil},
		{"tilde and dash decoded", "/%7Euser%2Dx", "/~user-x", nil},
		{"sub-delim decoded", "/a%21b%2Bc", "/a!b+c", nil},
		{"lower-case hex upper-cased", "/caf%c3%a9", "/caf%C3%A9", nil},
		{"raw UTF-8 encoded", "/café", "/caf%C3%A9", nil},
		{"raw quote encoded", `/a"b<c>`, "/a%22b%3Cc%3E", nil},
		{"raw brackets encoded", "/a[b]{c}|^`", "/a%5Bb%5D%7Bc%7D%7C%5E%60", nil},
		{"space encoded", "/a b", "/a%20b", nil},
		{"encoded dot inside segment", "/a%2ejs", "/a.js", nil},

		// Refused.
		{"empty", "", "", canonical.ErrNotOriginForm},
		{"relative", "admin", "", canonical.ErrNotOriginForm},
		{"absolute-form", "http://host/admin", "", canonical.ErrNotOriginForm},
		{"asterisk", "*", "", canonical.ErrNotOriginForm},
		{"leading backslash", `\admin`, "", canonical.ErrNotOriginForm},
		{"dot-dot", "/public/../admin", "", canonical.ErrDotSegment},
		{"dot", "/public/./admin", "", canonical.ErrDotSegment},
		{"trailing dot-dot", "/public/..", "", canonical.ErrDotSegment},
		{"trailing dot", "/public/.", "", canonical.ErrDotSegment},
		{"root dot", "/.", "", canonical.ErrDotSegment},
		{"encoded dot-dot", "/public/%2e%2e/admin", "", canonical.ErrDotSegment},
		{"upper encoded dot-dot", "/public/%2E%2E/admin", "", canonical.ErrDotSegment},
		{"mixed dot-dot", "/public/.%2e/admin", "", canonical.ErrDotSegment},
		{"encoded dot", "/public/%2e/admin", "", canonical.ErrDotSegment},
		{"double slash", "//admin", "", canonical.ErrEmptySegment},
		{"inner double slash", "/public//admin", "", canonical.ErrEmptySegment},
		{"triple slash", "/a///", "", canonical.ErrEmptySegment},
		{"encoded slash", "/public/..%2fadmin", "", canonical.ErrEncodedSlash},
		{"upper encoded slash", "/public%2Fadmin", "", canonical.ErrEncodedSlash},
		{"backslash", `/public/..\admin`, "", canonical.ErrBackslash},
		{"encoded backslash", "/public/..%5cadmin", "", canonical.ErrBackslash},
		{"path parameter", "/admin;x=1", "/admin;x=1", canonical.ErrPathParameter},
		{"matrix parameter", "/items/;id=5;color=blue", "/items/;id=5;color=blue", canonical.ErrPathParameter},
		{"matrix parameter respelled", "/it%65ms/;id=%41", "/items/;id=A", canonical.ErrPathParameter},
		{"encoded path parameter", "/admin%3Bx=1", "", canonical.ErrPathParameter},
		{"encoded path parameter lower case", "/admin%3bx=1", "", canonical.ErrPathParameter},
		{"tomcat traversal", "/public/..;/admin", "", canonical.ErrDotSegment},
		{"tomcat traversal with parameter", "/public/..;jsessionid=x/admin", "", canonical.ErrDotSegment},
		{"tomcat dot", "/public/.;/admin", "", canonical.ErrDotSegment},
		{"tomcat encoded dots", "/public/%2e%2e;/admin", "", canonical.ErrDotSegment},
		{"three dots then parameter", "/public/...;/admin", "/public/...;/admin", canonical.ErrPathParameter},
		{"encoded semicolon", "/admin%3bx", "", canonical.ErrPathParameter},
		{"NUL", "/admin%00", "", canonical.ErrControl},
		{"NUL before extension", "/admin%00.png", "", canonical.ErrControl},
		{"raw tab", "/a\tb", "", canonical.ErrControl},
		{"encoded CR LF", "/a%0d%0aSet-Cookie:x", "", canonical.ErrControl},
		{"DEL", "/a%7f", "", canonical.ErrControl},
		{"overlong slash", "/a%c0%afb", "", canonical.ErrInvalidUTF8},
		{"overlong dot", "/%c0%ae%c0%ae/admin", "", canonical.ErrInvalidUTF8},
		{"surrogate", "/%ed%a0%80", "", canonical.ErrInvalidUTF8},
		{"truncated", "/caf%c3", "", canonical.ErrInvalidUTF8},
		{"stray continuation", "/%80", "", canonical.ErrInvalidUTF8},
		{"raw invalid byte", "/a\xffb", "", canonical.ErrInvalidUTF8},
		{"past U+10FFFF", "/%f4%90%80%80", "", canonical.ErrInvalidUTF8},
		{"double-encoded dot", "/public/%252e%252e/admin", "", canonical.ErrDoubleEncoding},
		{"double-encoded slash", "/public%252fadmin", "", canonical.ErrDoubleEncoding},
		{"triple-encoded", "/x%25252e", "", canonical.ErrDoubleEncoding},
		{"double-encoded hex digits encoded", "/x%25%32%65", "", canonical.ErrDoubleEncoding},
		{"bad escape", "/x%zz", "", canonical.ErrBadEscape},
		{"short escape", "/x%2", "", canonical.ErrBadEscape},
		{"fragment", "/public#/../admin", "", canonical.ErrDelimiter},
		{"query mark", "/a?b", "", canonical.ErrDelimiter},
		{"fullwidth dots", "/public/%EF%BC%8E%EF%BC%8E/admin", "", canonical.ErrLookalike},
		{"fullwidth solidus", "/public%EF%BC%8Fadmin", "", canonical.ErrLookalike},
		{"raw fullwidth reverse solidus", "/public＼admin", "", canonical.ErrLookalike},
		{"division slash", "/a%E2%88%95b", "", canonical.ErrLookalike},
		{"one dot leader", "/%E2%80%A4%E2%80%A4/admin", "", canonical.ErrLookalike},
		{"presentation form two dot leader", "/public/%EF%B8%B0/admin", "", canonical.ErrLookalike},
		{"horizontal ellipsis", "/public/%E2%80%A6", "", canonical.ErrLookalike},
		{"presentation form ellipsis", "/public/%EF%B8%99", "", canonical.ErrLookalike},
		{"account of", "/a%E2%84%80b", "", canonical.ErrLookalike},
		{"digit full stop", "/a%E2%92%88", "", canonical.ErrLookalike},
		{"yen sign best-fit backslash", "/public/..%C2%A5admin", "", canonical.ErrLookalike},
		{"fullwidth question mark", "/a%EF%BC%9Fb", "", canonical.ErrLookalike},
		{"fullwidth number sign", "/a%EF%BC%83b", "", canonical.ErrLookalike},
		{"fullwidth semicolon", "/a%EF%BC%9Bb", "", canonical.ErrLookalike},
		{"fullwidth percent", "/a%EF%BC%85%32%65", "", canonical.ErrLookalike},
		{"greek question mark", "/a%CD%BEb", "", canonical.ErrLookalike},
		{"ideographic full stop", "/%E3%80%82%E3%80%82/admin", "", canonical.ErrLookalike},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := canonical.Path(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Path(%q) error: got %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("Path(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if err != nil && got == "" {
				return
			}
			again, err2 := canonical.Path(got)
			if err2 != err || again != got {
				t.Errorf("not idempotent: Path(%q) = %q, %v", got, again, err2)
			}
			if err != nil {
				return
			}
			again, err = canonical.Path(got)
			if err != nil || again != got {
				t.Errorf("not idempotent: Path(%q) = %q, %v", got, again, err)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		requestURI string
		wantURI    string
		wantPath   string
		wantEsc    string
		err        error
	}{
		{"canonical untouched", "GET", "/public/a?x=1", "/public/a?x=1", "/public/a", "/public/a", nil},
		{"query kept verbatim", "GET", "/%61?q=%2e%2e/../x;y", "/a?q=%2e%2e/../x;y", "/a", "/a", nil},
		{"empty query kept", "GET", "/%61?", "/a?", "/a", "/a", nil},
		{"escapes normalised", "GET", "/caf%c3%a9", "/caf%C3%A9", "/café", "/caf%C3%A9", nil},
		{"sub-delims keep raw spelling", "GET", "/a%21b", "/a!b", "/a!b", "/a!b", nil},
		{"encoded question mark", "GET", "/a%3fb?c", "/a%3Fb?c", "/a?b", "/a%3Fb", canonical.ErrEncodedDelimiter},
		{"encoded hash", "GET", "/a%23b", "/a%23b", "/a#b", "/a%23b", canonical.ErrEncodedDelimiter},
		{"absolute-form", "GET", "http://other.example/admin", "", "", "", canonical.ErrNotOriginForm},
		{"asterisk-form", "OPTIONS", "*", "", "", "", canonical.ErrNotOriginForm},
		{"authority-form", "CONNECT", "app.example.com:443", "", "", "", canonical.ErrNotOriginForm},
		{"traversal", "GET", "/public/..%2fadmin", "", "", "", canonical.ErrEncodedSlash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := serverRequest(t, tc.method, tc.requestURI)
			err := canonical.Request(r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error: got %v, want %v", err, tc.err)
			}
			if err != nil && err != canonical.ErrEncodedDelimiter {
				if r.RequestURI != tc.requestURI {
					t.Errorf("refused request modified: got %q, want %q", r.RequestURI, tc.requestURI)
				}
				return
			}
			if r.RequestURI != tc.wantURI {
				t.Errorf("RequestURI: got %q, want %q", r.RequestURI, tc.wantURI)
			}
			if r.URL.Path != tc.wantPath {
				t.Errorf("URL.Path: got %q, want %q", r.URL.Path, tc.wantPath)
			}
			if got := r.URL.EscapedPath(); got != tc.wantEsc {
				t.Errorf("URL.EscapedPath: got %q, want %q", got, tc.wantEsc)
			}
		})
	}
}

// serverRequest builds r as net/http's server would for a request line with
// this target.
func serverRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	u, err := url.ParseRequestURI(target)
	if err != nil && target != "*" && method != http.MethodConnect {
		t.Fatalf("ParseRequestURI(%q): %v", target, err)
	}
	if u == nil {
		u = &url.URL{Path: target}
	}
	return &http.Request{Method: method, URL: u, RequestURI: target, Header: http.Header{}, Host: "app.example.com"}
}

func TestRequestInProcess(t *testing.T) {
	t.Parallel()
	// A request built in process has no RequestURI: the URL is the source.
	r, err := http.NewRequest("GET", "http://app.example.com/%61dmin", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := canonical.Request(r); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if r.URL.Path != "/admin" || r.RequestURI != "" {
		t.Errorf("got path %q and RequestURI %q, want /admin and empty", r.URL.Path, r.RequestURI)
	}
	r, _ = http.NewRequest("GET", "http://app.example.com/a/..%2fb", nil)
	if err := canonical.Request(r); !errors.Is(err, canonical.ErrEncodedSlash) {
		t.Errorf("got %v, want %v", err, canonical.ErrEncodedSlash)
	}
}

// TestRequestResyncsURL covers a URL that disagrees with the request target
// (changed by something that ran earlier): the target wins, and r.URL is
// made to agree with what was checked.
func TestRequestResyncsURL(t *testing.T) {
	t.Parallel()
	r := serverRequest(t, "GET", "/public/a")
	r.URL.Path = "/admin"
	if err := canonical.Request(r); err != nil {
		t.Fatal(err)
	}
	if r.URL.Path != "/public/a" || r.URL.EscapedPath() != "/public/a" {
		t.Errorf("got %q, want /public/a", r.URL.Path)
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	var seen string
	h := canonical.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.EscapedPath()
	}))
	tests := []struct {
		name, target string
		wantStatus   int
		wantSeen     string
	}{
		{"allowed", "/public/%7euser", 200, "/public/~user"},
		{"refused", "/public/..%2fadmin", 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen = ""
			r := httptest.NewRequest("GET", tc.target, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Errorf("status: got %d, want %d", w.Code, tc.wantStatus)
			}
			if seen != tc.wantSeen {
				t.Errorf("handler saw: got %q, want %q", seen, tc.wantSeen)
			}
			if tc.wantStatus == 400 {
				if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type: got %q, want application/problem+json", ct)
				}
				if strings.Contains(w.Body.String(), "slash") {
					t.Errorf("reason leaked to the client: %s", w.Body)
				}
			}
		})
	}
}

// TestServeMuxNeverRedirects checks the property the gateway relies on:
// http.ServeMux's own cleaning is a no-op on every canonical path, so it
// never answers a canonical path with a redirect.
func TestServeMuxNeverRedirects(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /public/{path...}", func(w http.ResponseWriter, r *http.Request) {})
	for _, p := range []string{"/", "/public/", "/public/a/b/", "/a/.../b", "/caf%C3%A9", "/a!b", "/x%25zz", "/public/%3F%23"} {
		c, err := canonical.Path(p)
		if err != nil && err != canonical.ErrEncodedDelimiter {
			t.Fatalf("Path(%q): %v", p, err)
		}
		r := serverRequest(t, "GET", c)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code/100 == 3 {
			t.Errorf("ServeMux redirected canonical path %q to %q", c, w.Header().Get("Location"))
		}
	}
}

// TestInspect: Inspect reports a raw ';' and an encoded '?' or '#' as
// findings, after canonicalising the request, where Request refuses them.
func TestInspect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target  string
		want    canonical.Findings
		wantErr error
		path    string
	}{
		{"/it%65ms/;id=5?x=1", canonical.Findings{PathParameter: true}, nil, "/items/;id=5"},
		{"/a%3Fb/;x", canonical.Findings{PathParameter: true, EncodedDelimiter: true}, nil, "/a?b/;x"},
		{"/a%3Fb", canonical.Findings{EncodedDelimiter: true}, nil, "/a?b"},
		{"/a%3Bb", canonical.Findings{}, canonical.ErrPathParameter, ""},
		{"/a/..;/b", canonical.Findings{}, canonical.ErrDotSegment, ""},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", tc.target, nil)
		f, err := canonical.Inspect(r)
		if err != tc.wantErr || f != tc.want {
			t.Errorf("Inspect(%q) = %+v, %v; want %+v, %v", tc.target, f, err, tc.want, tc.wantErr)
			continue
		}
		if err == nil && r.URL.Path != tc.path {
			t.Errorf("Inspect(%q): path %q, want %q", tc.target, r.URL.Path, tc.path)
		}
		if err == nil && tc.want.PathParameter {
			if err := canonical.Request(httptest.NewRequest("GET", tc.target, nil)); err != canonical.ErrPathParameter {
				t.Errorf("Request(%q) = %v, want ErrPathParameter", tc.target, err)
			}
		}
	}
}
