package validate_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rampartsec/rampart/requestid"
	"github.com/rampartsec/rampart/validate"
)

func ExampleSpec_Handler() {
	doc := `
openapi: 3.1.0
info: {title: shop, version: "1"}
paths:
  /items:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name, quantity]
              properties:
                name: {type: string, maxLength: 40}
                quantity: {type: integer, format: int32, minimum: 1}
      responses:
        "201": {description: created}
`
	spec, err := validate.Parse("openapi.yaml", []byte(doc), validate.Options{})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	h := spec.Handler(app)

	for _, body := range []string{`{"name":"lamp","quantity":2}`, `{"quantity":2.5}`} {
		r := httptest.NewRequest("POST", "/items", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r = r.WithContext(requestid.NewContext(r.Context(), "01jexample"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Body.String())))
	}
	// Output:
	// 201
	// 400 {"type":"about:blank","title":"Bad Request","status":400,"detail":"2 fields of the request are invalid","incident":"01jexample","errors":[{"pointer":"/name","detail":"is required"},{"pointer":"/quantity","detail":"must be an integer, got 2.5"}]}
}

func ExampleNew() {
	v, err := validate.New(validate.Config{
		Path:  map[string]validate.Param{"id": {Type: "integer", Format: "int64"}},
		Query: map[string]validate.Param{"fields": {Type: "array", Items: &validate.Param{Enum: []string{"name", "price"}}}},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "item ", r.PathValue("id"))
	})))
	for _, target := range []string{"/items/42?fields=name", "/items/42?fields=secret"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		fmt.Println(w.Code, strings.Contains(w.Body.String(), `"parameter":"fields"`))
	}
	// Output:
	// 200 false
	// 400 true
}

func ExampleSpec_Routes() {
	doc := `
openapi: 3.0.3
info: {title: files, version: "1"}
paths:
  /files/{name}.json:
    get:
      operationId: getFile
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: the file}}
  /files/{name}:
    delete:
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses: {"204": {description: deleted}}
`
	spec, err := validate.Parse("openapi.yaml", []byte(doc), validate.Options{})
	if err != nil {
		panic(err)
	}
	for _, r := range spec.Routes() {
		fmt.Println(r.Match(), r.Operations)
	}
	// Output:
	// DELETE /files/{name} [DELETE /files/{name}]
	// GET /files/{p1} [getFile]
}

func ExampleValidator_Check() {
	v, err := validate.New(validate.Config{
		BodySchema: validate.Schema{Inline: map[string]any{
			"type":     "object",
			"required": []any{"email"},
			"properties": map[string]any{
				"email": map[string]any{"type": "string", "format": "email"},
			},
		}},
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("POST", "/signup", strings.NewReader(`{"email":"not-an-address"}`))
	r.Header.Set("Content-Type", "application/json")
	err = v.Check(r)
	var verr *validate.Error
	if errors.As(err, &verr) {
		fmt.Println(errors.Is(err, validate.ErrInvalid), verr.Status)
		for _, f := range verr.Fields {
			fmt.Println(f.Pointer, f.Detail)
		}
	}
	// Output:
	// true 400
	// /email must be an email address
}
