package auth_test

import (
	"testing"

	"github.com/rampartsec/rampart/auth"
)

func TestRedirectsSanitize(t *testing.T) {
	t.Parallel()
	rd, err := auth.NewRedirects([]string{"https://app.example.com", "http://localhost:3000"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target string
		ok           bool
	}{
		{"path", "/notes", true},
		{"path with query", "/notes?id=3&x=%2F", true},
		{"root", "/", true},
		{"encoded space", "/my%20notes", true},
		{"allowed origin", "https://app.example.com/dashboard", true},
		{"allowed origin, no path", "https://app.example.com", true},
		{"allowed origin any case", "HTTPS://APP.example.com/x", true},
		{"allowed localhost origin", "http://localhost:3000/", true},

		{"empty", "", false},
		{"protocol-relative", "//evil.com", false},
		{"protocol-relative with path", "//evil.com/login", false},
		{"triple slash", "///evil.com", false},
		{"backslash", "/\\evil.com", false},
		{"double backslash", "\\\\evil.com", false},
		{"slash backslash mixed", "/\\/evil.com", false},
		{"scheme without slashes", "https:evil.com", false},
		{"scheme with one slash", "https:/evil.com", false},
		{"javascript", "javascript:alert(1)", false},
		{"javascript upper", "JaVaScRiPt:alert(1)", false},
		{"javascript after whitespace", " javascript:alert(1)", false},
		{"data", "data:text/html,<script>alert(1)</script>", false},
		{"bare host", "evil.com", false},
		{"encoded double slash", "/%2F%2Fevil.com", false},
		{"encoded double slash lower", "/%2f%2fevil.com", false},
		{"encoded backslash", "/%5Cevil.com", false},
		{"encoded backslash lower", "/%5cevil.com", false},
		{"double-encoded slash", "/%252F%252Fevil.com", false},
		{"double-encoded backslash", "/%255Cevil.com", false},
		{"tab inside", "/\t/evil.com", false},
		{"newline inside", "/\n/evil.com", false},
		{"carriage return inside", "/\r/evil.com", false},
		{"encoded tab", "/%09/evil.com", false},
		{"encoded newline", "/%0a/evil.com", false},
		{"leading space", " /notes", false},
		{"nul", "/notes\x00", false},
		{"non-ascii", "/nötes", false},
		{"dot segments to double slash", "/..//evil.com", false},
		{"encoded dot segments", "/%2e%2e//evil.com", false},
		{"other origin", "https://evil.com/", false},
		{"lookalike origin", "https://app.example.com.evil.com/", false},
		{"allowed host, other scheme", "http://app.example.com/", false},
		{"allowed host, other port", "https://app.example.com:8443/", false},
		{"userinfo trick", "https://app.example.com@evil.com/", false},
		{"userinfo on allowed", "https://user@app.example.com/", false},
		{"allowed origin, encoded slashes in path", "https://app.example.com/%2F%2Fevil.com", false},
		{"bad escape", "/%zz", false},
		{"query only", "?next=//evil.com", false},
		{"too long", "/" + string(make([]byte, 4096)), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := rd.Sanitize(tc.target)
			if ok != tc.ok {
				t.Fatalf("Sanitize(%q): got ok=%v, want %v", tc.target, ok, tc.ok)
			}
			if ok && got != tc.target {
				t.Errorf("got %q, want %q", got, tc.target)
			}
		})
	}
}

func TestNilRedirectsAllowPathsOnly(t *testing.T) {
	t.Parallel()
	var rd *auth.Redirects
	if _, ok := rd.Sanitize("/x"); !ok {
		t.Error("got false for a path, want true")
	}
	if _, ok := rd.Sanitize("https://app.example.com/"); ok {
		t.Error("got true for an absolute URL with no allow-list, want false")
	}
}

func TestNewRedirectsRefusesBadOrigins(t *testing.T) {
	t.Parallel()
	for _, o := range []string{"app.example.com", "https://*.example.com", "ftp://x", "https://a.com/path", "https://u@a.com", "https://"} {
		if _, err := auth.NewRedirects([]string{o}); err == nil {
			t.Errorf("NewRedirects(%q): got nil error", o)
		}
	}
}
