package validate

import (
	"strings"
	"testing"
)

// Path templates are matched by hand because ServeMux cannot express
// parameters inside a segment.
func TestPathTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl, pattern, path string
		want                string // "a=…,b=…" or "-" for no match
	}{
		{"/items/{id}", "/items/{id}", "/items/7", "7"},
		{"/items/{id}", "/items/{id}", "/items/", "-"},
		{"/items/", "/items/{$}", "/items/", ""},
		{"/", "/{$}", "/", ""},
		{"/files/{name}.json", "/files/{p1}", "/files/a.b.json", "a.b"},
		{"/files/{name}.json", "/files/{p1}", "/files/.json", "-"},
		{"/files/{name}.json", "/files/{p1}", "/files/a.jsonx", "-"},
		{"/r/{a}-{b}", "/r/{p1}", "/r/x-y-z", "x,y-z"},
		{"/r/{a}-{b}", "/r/{p1}", "/r/-y", "-"},
		{"/r/v{major}.{minor}/x", "/r/{p1}/x", "/r/v1.2/x", "1,2"},
		{"/u/{user-id}", "/u/{p1}", "/u/42", "42"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			tp, err := parseTemplate(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if tp.pattern != tt.pattern {
				t.Errorf("pattern: got %q, want %q", tp.pattern, tt.pattern)
			}
			vals, ok := tp.match(strings.Split(tt.path[1:], "/"))
			got := "-"
			if ok {
				got = strings.Join(vals, ",")
			}
			if got != tt.want {
				t.Errorf("match: got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"items", "/a/{x", "/a/x}", "/a/{x}{y}", "/a/{}", "/a/{x}/{x}", "/a b"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("parseTemplate(%q): got nil error", bad)
		}
	}
}
