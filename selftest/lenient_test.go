package selftest

import (
	"net/http"
	"slices"
	"testing"
)

func TestLenientPaths(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"/%61dmin/x", "/admin/x"},
		{"/ADMIN/x", "/admin/x"},
		{"/a/..;/admin/x", "/admin/x"},
		{"/a/%2e%2e/admin", "/admin"},
		{"/a/%252e%252e/admin", "/admin"},
		{"/%c1%a1dmin", "/admin"},
		{"/%EF%BD%81dmin", "/admin"},
		{"/%D0%B0dmin", "/admin"},
		{"/%C4%B1nternal", "/internal"},
		{"/admin./x", "/admin/x"},
		{"/admin%20/x", "/admin/x"},
		{"\\admin\\x", "/admin/x"},
		{"//admin//x", "/admin/x"},
		{"http://h.example/admin/x?y", "/admin/x"},
	} {
		if got := lenientPaths(tc.target); !slices.Contains(got, tc.want) {
			t.Errorf("lenientPaths(%q) = %q, want it to include %q", tc.target, got, tc.want)
		}
	}
}

func TestMatchLenient(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/admin/{path...}", "/admin/x/y", true},
		{"/admin/{path...}", "/admin", true},
		{"/admin/{path...}", "/administrator", false},
		{"/api/items/{id}", "/api/items/1", true},
		{"/api/items/{id}", "/api/items", false},
		{"/api/items/{id}", "/api/items/1/x", false},
		{"/{$}", "/", true},
		{"/{$}", "/x", false},
		{"/Admin/", "/admin/x", true},
	} {
		if got := matchLenient(tc.pattern, tc.path); got != tc.want {
			t.Errorf("matchLenient(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

func TestJudgeRedirect(t *testing.T) {
	vars := map[string]string{"host": "app.example.com"}
	for _, tc := range []struct {
		next string
		held bool
	}{
		{"/notes", true},
		{"https://app.example.com/x", true},
		{"//evil.example/", false},
		{"/\\evil.example", false},
		{"/\t/evil.example", false},
		{"https:evil.example", false}, // off-site on an http page: judged as the worse reading
		{"javascript:alert(1)", false},
		{"https://app.example.com@evil.example/", false},
	} {
		ex := &exchange{Status: 303, Header: http.Header{"Location": {tc.next}}}
		if held, _ := judgeRedirect(ex, vars); held != tc.held {
			t.Errorf("redirect to %q: held %v, want %v", tc.next, held, tc.held)
		}
	}
}

func FuzzLenientPaths(f *testing.F) {
	for _, s := range []string{"/%61dmin/x", "/a/..;/b", "/%c1%a1", "/%EF%BD%81", "\\x", "http://h/x?y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		for _, p := range lenientPaths(target) {
			_ = matchLenient("/admin/{path...}", p)
		}
	})
}
