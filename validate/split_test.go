package validate_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/validate"
)

// TestSplitKeepsPropertyNamedLikeKeywords: a property named "default" or
// "enum" whose schema is a $ref still resolves, and an enum value that
// looks like a reference stays a value.
func TestSplitKeepsPropertyNamedLikeKeywords(t *testing.T) {
	t.Parallel()
	doc := `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                default: {$ref: "#/components/schemas/N"}
                kind: {enum: [{$ref: "#/not/a/ref"}]}
      responses: {"200": {description: ok}}
components:
  schemas:
    N: {type: integer}
`
	spec, err := validate.Parse("doc.yaml", []byte(doc), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := spec.Validator("POST", "/a", validate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := v.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for body, want := range map[string]int{
		`{"default": 3}`:                       200,
		`{"default": "x"}`:                     400,
		`{"kind": {"$ref": "#/not/a/ref"}}`:    200,
		`{"kind": {"$ref": "#/components/x"}}`: 400,
	} {
		r := httptest.NewRequest("POST", "/a", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%s: %d %s, want %d", body, w.Code, w.Body, want)
		}
	}
}
