package validate_test

import (
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
	h := spec.Handler(upstream)
	for _, tc := range []reqCase{
		{body: `{"default": 3}`, status: 200},
		{body: `{"default": "x"}`, status: 400, field: "/default"},
		{body: `{"kind": {"$ref": "#/not/a/ref"}}`, status: 200},
		{body: `{"kind": {"$ref": "#/components/x"}}`, status: 400, field: "/kind"},
	} {
		tc.method, tc.target, tc.ctype = "POST", "/a", "application/json"
		runCase(t, h, tc)
	}
}
