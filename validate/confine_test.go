package validate_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/validate"
)

// TestRefConfinedToDocumentTree: a document's $refs may read files in its
// own directory tree only: "../", absolute paths and symlinks pointing out
// are load errors that name no file content.
func TestRefConfinedToDocumentTree(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.json")
	if err := os.WriteFile(secret, []byte(`{"type":"string","enum":["TOP-SECRET-VALUE"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "schemas"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schemas", "item.json"), []byte(`{"type":"object","properties":{"n":{"type":"integer"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "schemas", "link.json")); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(dir, secret)
	doc := func(ref string) string {
		return `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "` + ref + `"}
      responses: {"200": {description: ok}}
`
	}
	write := func(name, ref string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc(ref)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := validate.Load(write("ok.yaml", "schemas/item.json"), validate.Options{}); err != nil {
		t.Fatalf("a reference inside the tree: %v", err)
	}
	for name, ref := range map[string]string{
		"dotdot":   rel,
		"absolute": secret,
		"symlink":  "schemas/link.json",
		"proc":     "/proc/self/environ",
	} {
		_, err := validate.Load(write(name+".yaml", ref), validate.Options{})
		if err == nil {
			t.Errorf("%s: a reference out of the tree (%s) loaded", name, ref)
			continue
		}
		if strings.Contains(err.Error(), "TOP-SECRET") {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
	}
}

// TestEnumValuesNotEchoed: a 400 quotes short, plain enum values only.
func TestEnumValuesNotEchoed(t *testing.T) {
	t.Parallel()
	doc := `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      parameters:
        - {name: short, in: query, schema: {type: string, enum: [red, green]}}
        - {name: long, in: query, schema: {type: string, enum: ["https://internal.example.com/admin?token=abcdef0123456789"]}}
      responses: {"200": {description: ok}}
`
	spec, err := validate.Parse("doc.yaml", []byte(doc), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Handler(upstream)
	for q, want := range map[string]string{"short=blue": `red`, "long=x": "allowed values"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/a?"+q, nil))
		body := w.Body.String()
		if w.Code != 400 || !strings.Contains(body, want) || strings.Contains(body, "internal.example") {
			t.Errorf("%s: %d %s", q, w.Code, body)
		}
	}
}

// TestLargeDocumentLoadsInLinearTime: 20,000 operations (about 3 MB) load
// well within the bound stated in docs/validation.md.
func TestLargeDocumentLoadsInLinearTime(t *testing.T) {
	if testing.Short() {
		t.Skip("large document")
	}
	t.Parallel()
	n := largeDocOps
	if testutil.RaceEnabled {
		n /= 5 // the race detector slows compilation several times over
	}
	var b strings.Builder
	b.WriteString("openapi: 3.1.0\ninfo: {title: big, version: \"1\"}\npaths:\n")
	for i := range n {
		b.WriteString("  /r" + itoa(i) + "/{id}:\n    get:\n      operationId: op" + itoa(i) +
			"\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1}}\n        - {name: q, in: query, schema: {type: string, maxLength: 20}}\n      responses: {\"200\": {description: ok}}\n")
	}
	start := time.Now()
	spec, err := validate.Parse("big.yaml", []byte(b.String()), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(spec.Routes()); got != n {
		t.Fatalf("%d routes, want %d", got, n)
	}
	for _, r := range spec.Routes() {
		if _, err := spec.Validator(r.Method, r.Pattern, validate.Config{}); err != nil {
			t.Fatal(err)
		}
	}
	el := time.Since(start)
	t.Logf("%d operations, %d bytes: loaded and compiled in %v", n, b.Len(), el)
	if el > time.Minute {
		t.Errorf("loading took %v", el)
	}
}

// largeDocOps is the size of TestLargeDocumentLoadsInLinearTime's document.
var largeDocOps = 20000
