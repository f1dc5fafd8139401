package validate_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/validate"
)

func TestStrictMode(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"testdata/items-3.0.yaml", "testdata/items-3.1.yaml"} {
		spec, err := validate.Load(file, validate.Options{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		h := spec.Handler(upstream)
		h31 := map[string]string{"X-Tenant": tenant}
		cases := []reqCase{
			{name: "valid body", method: "POST", target: "/items", ctype: "application/json", body: validItem, status: 200},
			{name: "unknown query parameter", method: "GET", target: "/items?debug=1", header: h31, status: 400, field: "debug", detail: "not a known parameter"},
			{name: "unknown query parameter name is sanitised", method: "GET", target: "/items?%3Cscript%3E=1", header: h31, status: 400, field: "?script?", detail: "not a known parameter"},
			{name: "unknown nested property", method: "POST", target: "/items", ctype: "application/json", body: withField("dimensions", `{"width":1,"depth":3}`), status: 400, field: "/dimensions/depth", detail: "is not allowed"},
			{name: "unknown property behind ref", method: "POST", target: "/items", ctype: "application/json", body: withField("owner", `{"login":"a","role":"admin"}`), status: 400, field: "/owner/role", detail: "is not allowed"},
			{name: "oneOf branch properties are known", method: "POST", target: "/items", ctype: "application/json", body: withField("payment", `{"iban":"DE89370400440532013000"}`), status: 200},
			{name: "additionalProperties schema still allows", method: "POST", target: "/items", ctype: "application/json", body: withField("labels", `{"any":"thing"}`), status: 200},
			{name: "unknown property in file schema", method: "POST", target: "/shapes", ctype: "application/json", body: `{"kind":"circle","center":{"x":1,"y":2,"z":3}}`, status: 400, field: "/center/z", detail: "is not allowed"},
			{name: "unknown top-level property in file schema", method: "POST", target: "/shapes", ctype: "application/json", body: `{"kind":"circle","color":"red"}`, status: 400, field: "/color", detail: "is not allowed"},
		}
		for _, tc := range cases {
			t.Run(strings.TrimPrefix(file, "testdata/")+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				runCase(t, h, tc)
			})
		}
		t.Run(strings.TrimPrefix(file, "testdata/")+"/an invalid declared property is not also unknown", func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/items", strings.NewReader(withField("dimensions", `{"width":-1}`)))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 400 || strings.Contains(w.Body.String(), "is not allowed") || !strings.Contains(w.Body.String(), "at least 0") {
				t.Errorf("got %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestStrictAllOf(t *testing.T) {
	t.Parallel()
	// The classic trap of "additionalProperties: false" everywhere: with
	// allOf, each branch would refuse the other's properties. Strict mode
	// uses unevaluatedProperties, which sees through allOf.
	doc := `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              allOf:
                - {type: object, properties: {name: {type: string}}}
                - {type: object, properties: {age: {type: integer}}}
      responses: {"201": {description: ok}}
`
	spec, err := validate.Parse("pets.yaml", []byte(doc), validate.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Handler(upstream)
	runCase(t, h, reqCase{method: "POST", target: "/pets", ctype: "application/json", body: `{"name":"rex","age":3}`, status: 200})
	runCase(t, h, reqCase{method: "POST", target: "/pets", ctype: "application/json", body: `{"name":"rex","owner":"x"}`, status: 400, field: "/owner", detail: "is not allowed"})
}

func TestBodyLimitAndPassThrough(t *testing.T) {
	t.Parallel()
	spec, err := validate.Load("testdata/items-3.1.yaml", validate.Options{MaxBodyBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	h := spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		if r.ContentLength != int64(len(got)) {
			t.Errorf("content length: got %d, want %d", r.ContentLength, len(got))
		}
	}))
	t.Run("the upstream reads the same body", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/items", strings.NewReader(validItem))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || string(got) != validItem {
			t.Fatalf("got %d and %q", w.Code, got)
		}
	})
	t.Run("declared length over the limit", func(t *testing.T) {
		big := withField("note", `"`+strings.Repeat("x", 3000)+`"`)
		r := httptest.NewRequest("POST", "/items", strings.NewReader(big))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("got %d, want 413", w.Code)
		}
	})
	t.Run("chunked body over the limit", func(t *testing.T) {
		// An endless body: the validator must stop reading at the limit.
		r := httptest.NewRequest("POST", "/items", io.MultiReader(strings.NewReader(`{"name":"`), endless{}))
		r.ContentLength = -1
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("got %d, want 413", w.Code)
		}
	})
	t.Run("a route overrides the limit", func(t *testing.T) {
		v, err := spec.Validator("POST", "/items", validate.Config{MaxBodyBytes: 100})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", "/items", strings.NewReader(validItem))
		r.Header.Set("Content-Type", "application/json")
		err = v.Check(r)
		if !errors.Is(err, validate.ErrBodyTooLarge) {
			t.Fatalf("got %v, want ErrBodyTooLarge", err)
		}
	})
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestErrorsNeverEchoDangerousInput(t *testing.T) {
	t.Parallel()
	spec, err := validate.Load("testdata/items-3.1.yaml", validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Handler(upstream)
	attack := `<script>alert(1)</script>` + strings.Repeat("A", 5000)
	bodies := []string{
		withField("sku", `"`+attack+`"`),
		withField("color", `"`+attack+`"`),
		withField("email", `"`+attack+`"`),
		withField("quantity", `"`+attack+`"`),
		withField(attack, `1`),
	}
	for i, b := range bodies {
		r := httptest.NewRequest("POST", "/items", strings.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 400 {
			t.Fatalf("case %d: got %d, want 400", i, w.Code)
		}
		out := w.Body.String()
		if strings.Contains(out, "<script>") || strings.Contains(out, strings.Repeat("A", 41)) || len(out) > 2000 {
			t.Errorf("case %d: response reflects the input (%d bytes):\n%s", i, len(out), capped(out))
		}
		for _, leak := range []string{"file://", "testdata", ".yaml", "jsonschema", "components/schemas", "*big.Rat", "map["} {
			if strings.Contains(out, leak) {
				t.Errorf("case %d: response leaks %q:\n%s", i, leak, capped(out))
			}
		}
	}
}

func capped(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

func TestInlineConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "schemas", "item.json"), `{
		"type": "object",
		"required": ["name", "quantity"],
		"properties": {
			"name": {"type": "string", "maxLength": 10},
			"quantity": {"type": "integer", "minimum": 1},
			"size": {"$ref": "size.json"}
		}
	}`)
	writeFile(t, filepath.Join(dir, "schemas", "size.json"), `{"enum": ["S", "M", "L"]}`)
	var c validate.Config
	if err := yaml.Unmarshal([]byte(`
body_schema: schemas/item.json
strict: true
query:
  dry_run: {type: boolean}
  page: {type: integer, minimum: 1, maximum: 50}
  ids: {type: array, items: {type: integer}, max_items: 3}
path:
  id: {type: integer, format: int32}
headers:
  X-Request-Sig: {required: true, pattern: '^[a-f0-9]{64}$'}
`), &c); err != nil {
		t.Fatal(err)
	}
	c.BaseDir = dir
	var decisions []validate.Decision
	c.OnDecision = func(d validate.Decision) { decisions = append(decisions, d) }
	v, err := validate.New(c)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/items/{id}", v.Handler(upstream))
	sig := map[string]string{"X-Request-Sig": strings.Repeat("ab", 32)}
	cases := []reqCase{
		{name: "valid", method: "POST", target: "/api/items/7?page=2&dry_run=true&ids=1&ids=2", ctype: "application/json", body: `{"name":"a","quantity":1,"size":"M"}`, header: sig, status: 200},
		{name: "path parameter", method: "POST", target: "/api/items/x", ctype: "application/json", body: `{"name":"a","quantity":1}`, header: sig, status: 400, field: "id", detail: "must be an integer"},
		{name: "path int32", method: "POST", target: "/api/items/3000000000", ctype: "application/json", body: `{"name":"a","quantity":1}`, header: sig, status: 400, field: "id", detail: "between"},
		{name: "query maximum", method: "POST", target: "/api/items/7?page=99", ctype: "application/json", body: `{"name":"a","quantity":1}`, header: sig, status: 400, field: "page", detail: "at most 50"},
		{name: "query array", method: "POST", target: "/api/items/7?ids=1&ids=2&ids=3&ids=4", ctype: "application/json", body: `{"name":"a","quantity":1}`, header: sig, status: 400, field: "ids", detail: "at most 3 items"},
		{name: "strict query", method: "POST", target: "/api/items/7?admin=1", ctype: "application/json", body: `{"name":"a","quantity":1}`, header: sig, status: 400, field: "admin", detail: "not a known parameter"},
		{name: "header required", method: "POST", target: "/api/items/7", ctype: "application/json", body: `{"name":"a","quantity":1}`, status: 400, field: "X-Request-Sig", detail: "is required"},
		{name: "body schema", method: "POST", target: "/api/items/7", ctype: "application/json", body: `{"name":"a","quantity":0}`, header: sig, status: 400, field: "/quantity", detail: "at least 1"},
		{name: "body ref to file", method: "POST", target: "/api/items/7", ctype: "application/json", body: `{"name":"a","quantity":1,"size":"XL"}`, header: sig, status: 400, field: "/size", detail: "one of"},
		{name: "strict body", method: "POST", target: "/api/items/7", ctype: "application/json", body: `{"name":"a","quantity":1,"admin":true}`, header: sig, status: 400, field: "/admin", detail: "is not allowed"},
		{name: "content type", method: "POST", target: "/api/items/7", ctype: "text/xml", body: `<a/>`, header: sig, status: 415},
		{name: "body required", method: "POST", target: "/api/items/7", header: sig, status: 400, detail: "required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runCase(t, mux, tc) })
	}
	if len(decisions) != len(cases) || decisions[0].Status != 0 || decisions[1].Status != 400 {
		t.Errorf("decisions: got %+v", decisions)
	}
}

func TestInlineSchemaInYAML(t *testing.T) {
	t.Parallel()
	var c validate.Config
	if err := yaml.Unmarshal([]byte(`
body_schema:
  type: object
  required: [text]
  properties:
    text: {type: string, maxLength: 5}
    big: {type: integer, maximum: 9007199254740993}
content_types: ["application/json", "application/*+json"]
`), &c); err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(c)
	if err != nil {
		t.Fatal(err)
	}
	h := v.Handler(upstream)
	runCase(t, h, reqCase{method: "POST", target: "/", ctype: "application/merge-patch+json", body: `{"text":"hi","big":9007199254740993}`, status: 200})
	runCase(t, h, reqCase{method: "POST", target: "/", ctype: "application/json", body: `{"text":"too long"}`, status: 400, field: "/text", detail: "at most 5"})
	runCase(t, h, reqCase{method: "POST", target: "/", ctype: "application/json", body: `{"text":"a","big":9007199254740994}`, status: 400, field: "/big", detail: "at most 9007199254740993"})
}

func TestNoBodyConfigured(t *testing.T) {
	t.Parallel()
	v, err := validate.New(validate.Config{Query: map[string]validate.Param{"q": {MaxLength: ptr(3)}}})
	if err != nil {
		t.Fatal(err)
	}
	h := v.Handler(upstream)
	runCase(t, h, reqCase{method: "GET", target: "/?q=abc", status: 200})
	runCase(t, h, reqCase{method: "GET", target: "/?q=abcd", status: 400, field: "q", detail: "at most 3 characters"})
	runCase(t, h, reqCase{method: "POST", target: "/", ctype: "application/json", body: "{}", status: 415})
}

func ptr[T any](v T) *T { return &v }

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.json"), `{"type": "object", "properties": {"a": {"type": "strnig"}}}`)
	writeFile(t, filepath.Join(dir, "badre.json"), `{"type": "string", "pattern": "(?=lookahead)"}`)
	writeFile(t, filepath.Join(dir, "remote.json"), `{"$ref": "https://example.com/schema.json"}`)
	writeFile(t, filepath.Join(dir, "old.json"), `{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}`)
	writeFile(t, filepath.Join(dir, "syntax.yaml"), "type: object\n  properties: [\n")
	tests := []struct {
		name string
		c    validate.Config
		want string
	}{
		{"missing file", validate.Config{BodySchema: validate.Schema{File: "nope.json"}}, "nope.json"},
		{"YAML syntax", validate.Config{BodySchema: validate.Schema{File: "syntax.yaml"}}, "syntax.yaml"},
		{"invalid schema", validate.Config{BodySchema: validate.Schema{File: "bad.json"}}, "bad.json"},
		{"regexp the engine cannot run", validate.Config{BodySchema: validate.Schema{File: "badre.json"}}, "badre.json"},
		{"remote reference", validate.Config{BodySchema: validate.Schema{File: "remote.json"}}, "not allowed"},
		{"strict with draft-07", validate.Config{Strict: true, BodySchema: validate.Schema{File: "old.json"}}, "2019-09"},
		{"parameter type", validate.Config{Query: map[string]validate.Param{"a": {Type: "date"}}}, `query parameter "a": type must be`},
		{"array without items", validate.Config{Query: map[string]validate.Param{"a": {Type: "array"}}}, "needs items"},
		{"negative length", validate.Config{Query: map[string]validate.Param{"a": {MaxLength: ptr(-1)}}}, "must not be negative"},
		{"bad pattern", validate.Config{Path: map[string]validate.Param{"id": {Pattern: "("}}}, `path parameter "id"`},
		{"content type", validate.Config{ContentTypes: []string{"json"}}, "invalid media type"},
		{"path parameter not in the pattern", validate.Config{Match: "GET /items/{id}", Path: map[string]validate.Param{"item_id": {}}}, `"item_id" is not a wildcard`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.c.BaseDir = dir
			_, err := validate.New(tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "validate: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestSpecErrors(t *testing.T) {
	t.Parallel()
	head := "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
	tests := []struct {
		name, doc, want string
	}{
		{"swagger 2", "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", "Swagger 2.0"},
		{"unknown version", "openapi: 4.0.0\npaths: {}\n", "not supported"},
		{"not an object", "- a\n", "must be an object"},
		{"no paths", head + "paths: {}\n", "no operations"},
		{"undeclared path parameter", head + "paths:\n  /a/{id}:\n    get: {responses: {'200': {description: ok}}}\n", `path parameter "id" is not declared`},
		{"parameter not in path", head + "paths:\n  /a:\n    get:\n      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n", "is not in the path"},
		{"routing conflict", head + "paths:\n  /a/{x}:\n    parameters: [{name: x, in: path, required: true, schema: {type: string}}]\n    get: {responses: {'200': {description: ok}}}\n  /{y}/b:\n    parameters: [{name: y, in: path, required: true, schema: {type: string}}]\n    get: {responses: {'200': {description: ok}}}\n", "conflicts"},
		{"same templated path twice", head + "paths:\n  /a/{x}:\n    parameters: [{name: x, in: path, required: true, schema: {type: string}}]\n    get: {responses: {'200': {description: ok}}}\n  /a/{y}:\n    parameters: [{name: y, in: path, required: true, schema: {type: string}}]\n    get: {responses: {'200': {description: ok}}}\n", "is the same as"},
		{"deepObject not exploded", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, style: deepObject, schema: {type: object}}]\n      responses: {'200': {description: ok}}\n", "needs explode: true"},
		{"deepObject of a string", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, style: deepObject, explode: true, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n", "is for objects"},
		{"matrix in a query", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, style: matrix, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n", "is not defined for query parameters"},
		{"matrix inside a segment", head + "paths:\n  /a/x{id}:\n    get:\n      parameters: [{name: id, in: path, required: true, style: matrix, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n", "needs the parameter to be a whole path segment"},
		{"label in a header", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: header, style: label, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n", "is not defined for header parameters"},
		{"pipeDelimited primitive", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, style: pipeDelimited, schema: {type: integer}}]\n      responses: {'200': {description: ok}}\n", "is for arrays and objects"},
		{"array of objects", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, schema: {type: array, items: {type: object}}}]\n      responses: {'200': {description: ok}}\n", "arrays of arrays or objects"},
		{"nested object in form", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, schema: {type: object, properties: {a: {type: object}}}}]\n      responses: {'200': {description: ok}}\n", "only deepObject"},
		{"exploded form object without properties", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, schema: {type: object}}]\n      responses: {'200': {description: ok}}\n", "needs declared properties"},
		{"style with content", head + "paths:\n  /a:\n    get:\n      parameters: [{name: f, in: query, style: form, content: {application/json: {}}}]\n      responses: {'200': {description: ok}}\n", "mutually exclusive"},
		{"broken ref", head + "paths:\n  /a:\n    post:\n      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Nope'}}}}\n      responses: {'200': {description: ok}}\n", "Nope"},
		{"invalid schema", head + "paths:\n  /a:\n    post:\n      requestBody: {content: {application/json: {schema: {type: 5}}}}\n      responses: {'200': {description: ok}}\n", "not a valid schema"},
		{"yaml bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", "more than"},
		{"misspelt field", head + "paths:\n  /a:\n    post:\n      requestbody: {content: {application/json: {}}}\n      responses: {'200': {description: ok}}\n", `unknown field "requestbody" (did you mean "requestBody"?)`},
		{"misspelt parameter field", head + "paths:\n  /a:\n    get:\n      parameters: [{name: q, in: query, reqired: true, schema: {type: string}}]\n      responses: {'200': {description: ok}}\n", `unknown field "reqired" (did you mean "required"?)`},
		{"dialect", head + "jsonSchemaDialect: http://json-schema.org/draft-04/schema#\npaths: {}\n", "dialect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := validate.Parse("api.yaml", []byte(tt.doc), validate.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "api.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	spec, err := validate.Load("testdata/items-3.0.yaml", validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range spec.Routes() {
		got = append(got, r.Match()+" "+strings.Join(r.Operations, ","))
	}
	want := []string{
		"GET /files/{p1} getJSONFile",
		"PUT /files/{p1} putXMLFile",
		"GET /items listItems",
		"POST /items createItem",
		"GET /items/mine myItems",
		"DELETE /items/{id} deleteItem",
		"GET /items/{id} getItem",
		"POST /shapes createShape",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("routes:\ngot  %q\nwant %q", got, want)
	}
	// Every pattern registers on a ServeMux together.
	mux := http.NewServeMux()
	for _, r := range spec.Routes() {
		v, err := spec.Validator(r.Method, r.Pattern, validate.Config{})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle(r.Match(), v.Handler(upstream))
	}
	runCase(t, mux, reqCase{method: "GET", target: "/files/a.json", status: 200})
	runCase(t, mux, reqCase{method: "GET", target: "/files/a.txt", status: 404})
	if _, err := spec.Validator("GET", "/nope", validate.Config{}); err == nil {
		t.Error("Validator for an unknown route: got nil error")
	}
	if _, err := spec.Validator("POST", "/items", validate.Config{BodySchema: validate.Schema{File: "x.json"}}); err == nil {
		t.Error("Validator with a body schema over an operation: got nil error")
	}
	if v, err := spec.Validator("GET", "/items/{x}", validate.Config{}); err != nil || v == nil {
		t.Errorf("wildcard names are free: got %v", err)
	}
}

func TestResponseValidation(t *testing.T) {
	t.Parallel()
	logs := &testutil.Buffer{}
	spec, err := validate.Load("testdata/items-3.1.yaml", validate.Options{
		ValidateResponses: true, MaxResponseBytes: 4096,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	item := withField("id", "7")
	tests := []struct {
		name, path, ctype, body string
		status                  int
		want                    string // "" for no log line
	}{
		{"matches", "/items/7", "application/json", item, 200, ""},
		{"wrong type", "/items/7", "application/json", withField("id", `"seven"`), 200, `["body /id: must be an integer, got string \"seven\""]`},
		{"missing field", "/items/7", "application/json", withField("id", ""), 200, "/id: is required"},
		{"undeclared status", "/items/mine", "text/plain", "x", 418, "status 418 is not declared"},
		{"undeclared content type", "/items/7", "text/html", "<p>", 200, "is not declared for status 200"},
		{"default response", "/items/7", "", "", 500, ""},
		{"malformed JSON", "/items/7", "application/json", "{", 200, "malformed JSON"},
		{"too large to check", "/items/7", "application/json", withField("note", `"`+strings.Repeat("x", 5000)+`"`), 200, "not validated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(logs.Lines())
			h := spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Fatalf("the response was changed: got %d %q", w.Code, capped(w.Body.String()))
			}
			lines := logs.Lines()[before:]
			if tt.want == "" {
				if len(lines) != 0 {
					t.Errorf("got log %q, want none", lines)
				}
				return
			}
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("got log %q, want one line containing %q", lines, tt.want)
			}
		})
	}
	// The validation log line is structured.
	var rec map[string]any
	lines := logs.Lines()
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil || rec["operation"] != "getItem" || rec["level"] != "WARN" {
		t.Errorf("log record: got %v (%v)", rec, err)
	}
}

// TestResponseFastPath: responses of a schema the compiled fast path
// checks give the verdicts the library gives: a match logs nothing, every
// kind of mismatch is logged with its field.
func TestResponseFastPath(t *testing.T) {
	t.Parallel()
	valid := `{"id":7,"name":"Blue kettle","price":24.5,"currency":"EUR","tags":["kitchen"],"created":"2026-12-05T02:40:00Z","owner":"shop@example.com"}`
	tests := []struct{ name, body, want string }{
		{"match", valid, ""},
		{"extra field", strings.Replace(valid, `{`, `{"extra":1,`, 1), ""},
		{"negative price", strings.Replace(valid, `24.5`, `-1`, 1), "/price"},
		{"enum", strings.Replace(valid, `"EUR"`, `"XBT"`, 1), "/currency"},
		{"missing name", strings.Replace(valid, `"name":"Blue kettle",`, ``, 1), "name"},
		{"format", strings.Replace(valid, `2026-12-05T02:40:00Z`, `yesterday`, 1), "/created"},
		{"email", strings.Replace(valid, `shop@example.com`, `shop`, 1), "/owner"},
		{"type", strings.Replace(valid, `"id":7`, `"id":"7"`, 1), "/id"},
		{"long tag", strings.Replace(valid, `"kitchen"`, `"`+strings.Repeat("k", 31)+`"`, 1), "/tags/0"},
		{"malformed", valid[:20], "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &testutil.Buffer{}
			spec, err := validate.Load("testdata/response-bench.yaml", validate.Options{
				ValidateResponses: true, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			h := spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.body)
			}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/items/7", nil))
			if w.Body.String() != tt.body {
				t.Fatal("the response was changed")
			}
			lines := logs.Lines()
			switch {
			case tt.want == "" && len(lines) != 0:
				t.Errorf("got %q, want no warning", lines)
			case tt.want != "" && (len(lines) != 1 || !strings.Contains(lines[0], tt.want)):
				t.Errorf("got %q, want one warning naming %q", lines, tt.want)
			}
		})
	}
}

// TestResponseMismatchLogBounded: an application whose every response
// mismatches its declaration gets a burst of warnings, not one per request.
func TestResponseMismatchLogBounded(t *testing.T) {
	t.Parallel()
	logs := &testutil.Buffer{}
	spec, err := validate.Load("testdata/items-3.1.yaml", validate.Options{
		ValidateResponses: true, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<p>")
	}))
	for range 500 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/items/7", nil))
		if w.Code != 200 || w.Body.String() != "<p>" {
			t.Fatalf("the response was changed: %d %q", w.Code, w.Body.String())
		}
	}
	lines := logs.Lines()
	if len(lines) < 10 || len(lines) > 11 {
		t.Fatalf("500 mismatching responses gave %d warnings, want the burst of 10 (11 if an interval passed)", len(lines))
	}
	for _, l := range lines {
		if !strings.Contains(l, "is not declared for status 200") {
			t.Errorf("unexpected line %s", l)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	spec, err := validate.Load("testdata/items-3.0.yaml", validate.Options{ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Handler(upstream)
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 50 {
				body := validItem
				want := 200
				if (g+i)%2 == 1 {
					body, want = withField("quantity", `"x"`), 400
				}
				r := httptest.NewRequest("POST", "/items", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != want {
					t.Errorf("got %d, want %d", w.Code, want)
					return
				}
				// Building route validators with other settings meanwhile.
				if i%10 == 0 {
					if _, err := spec.Validator("POST", "/items", validate.Config{Strict: true, MaxBodyBytes: int64(1000 + g)}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}

func TestBasePath(t *testing.T) {
	t.Parallel()
	doc := func(servers string) []byte {
		return []byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\n" + servers +
			"paths:\n  /items:\n    get: {responses: {'200': {description: ok}}}\n")
	}
	tests := []struct {
		name, servers, base, want, err string
	}{
		{"no servers", "", "", "GET /items", ""},
		{"absolute URL", "servers: [{url: 'https://api.example.com/v1/'}]\n", "", "GET /v1/items", ""},
		{"relative URL", "servers: [{url: /api}]\n", "", "GET /api/items", ""},
		{"variables", "servers: [{url: 'https://{host}/{version}', variables: {host: {default: example.com}, version: {default: v2}}}]\n", "", "GET /v2/items", ""},
		{"same path twice", "servers: [{url: 'https://a.example/v1'}, {url: 'https://b.example/v1'}]\n", "", "GET /v1/items", ""},
		{"different paths", "servers: [{url: 'https://a.example/v1'}, {url: 'https://b.example/v2'}]\n", "", "", "different base paths"},
		{"explicit base wins", "servers: [{url: 'https://a.example/v1'}, {url: 'https://b.example/v2'}]\n", "/v2", "GET /v2/items", ""},
		{"malformed variables", "servers: [{url: 'https://x/{v}', variables: {v: 5}}]\n", "", "", "base path"},
		{"explicit no base", "servers: [{url: 'https://a.example/v1'}]\n", "/", "GET /items", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, err := validate.Parse("api.yaml", doc(tt.servers), validate.Options{BasePath: tt.base})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := spec.Routes()[0].Match(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
