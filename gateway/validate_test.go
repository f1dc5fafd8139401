package gateway_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenAPIThroughGateway: the document's operations are the routes,
// requests are validated before they reach the upstream, and nothing it
// does not declare is reachable.
func TestOpenAPIThroughGateway(t *testing.T) {
	t.Parallel()
	spec, err := filepath.Abs("../validate/testdata/items-3.1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	schema := filepath.Join(dir, "hook.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","required":["event"],"properties":{"event":{"type":"string","enum":["push","ping"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `openapi: `+spec+`
routes:
  - match: "GET /items/{itemId}"
    validate: {strict: true}
  - match: "POST /hooks/github"
    csrf: "off"
    validate:
      body_schema: `+schema+`
`))
	tests := []struct {
		name, method, path, ctype, body string
		want                            int
		field                           string // a pointer or parameter the problem must name
	}{
		{"valid create", "POST", "/items", "application/json", `{"name":"pen","quantity":3,"price":1.5}`, 200, ""},
		{"decimal where integer", "POST", "/items", "application/json", `{"name":"pen","quantity":2.5,"price":1.5}`, 400, "/quantity"},
		{"missing required", "POST", "/items", "application/json", `{"name":"pen","price":1.5}`, 400, ""},
		{"unknown property", "POST", "/items", "application/json", `{"name":"pen","quantity":1,"price":1,"admin":true}`, 400, ""},
		{"duplicate key", "POST", "/items", "application/json", `{"name":"pen","name":"x","quantity":1,"price":1}`, 400, ""},
		{"malformed JSON", "POST", "/items", "application/json", `{"name":`, 400, ""},
		{"wrong content type", "POST", "/items", "text/plain", `hello`, 415, ""},
		{"path parameter type", "GET", "/items/abc", "", "", 400, "id"},
		{"valid get", "GET", "/items/7", "", "", 200, ""},
		{"undeclared path", "GET", "/admin", "", "", 404, ""},
		{"undeclared method", "PATCH", "/items/7", "application/json", `{}`, 405, ""},
		{"inline schema ok", "POST", "/hooks/github", "application/json", `{"event":"push"}`, 200, ""},
		{"inline schema refused", "POST", "/hooks/github", "application/json", `{"event":"delete"}`, 400, "/event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.url+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, body := do(t, nil, req)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == 200 {
				if s := decodeSeen(t, body); s.Path != tc.path {
					t.Errorf("upstream path: got %q", s.Path)
				}
				return
			}
			assertNeutral(t, resp, body, tc.want)
			if tc.field != "" {
				var p struct {
					Errors []struct{ Pointer, Parameter, Detail string }
				}
				_ = json.Unmarshal([]byte(body), &p)
				found := false
				for _, e := range p.Errors {
					found = found || e.Pointer == tc.field || e.Parameter == tc.field
				}
				if !found {
					t.Errorf("problem does not name %s: %s", tc.field, body)
				}
			}
		})
	}
}
