package validate_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/rampartsec/rampart/validate"
)

// nop is the application behind the validator in benchmarks.
var nop = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func benchSpec(b *testing.B, o validate.Options) http.Handler {
	spec, err := validate.Load("testdata/bench.openapi.yaml", o)
	if err != nil {
		b.Fatal(err)
	}
	return spec.Handler(nop)
}

// benchBody runs h over a POST of body, reusing one request.
func benchBody(b *testing.B, h http.Handler, target string, body []byte) {
	rd := bytes.NewReader(body)
	r := httptest.NewRequest("POST", target, rd)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		r.ContentLength = int64(len(body))
		w.Code = 0
		h.ServeHTTP(w, r)
		if w.Code != 0 && w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkJSONBody is the cost of validating a typical JSON request: a
// 1 KB body with 20 fields (formats, enum, pattern, nested object, array)
// plus a path and a query parameter.
func BenchmarkJSONBody(b *testing.B) {
	body, err := os.ReadFile("testdata/bench-item.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("default", func(b *testing.B) {
		benchBody(b, benchSpec(b, validate.Options{}), "/items/12?limit=5", body)
	})
	b.Run("strict", func(b *testing.B) {
		benchBody(b, benchSpec(b, validate.Options{Strict: true}), "/items/12?limit=5", body)
	})
}

// BenchmarkReadBodyOnly is the floor under BenchmarkJSONBody: buffering the
// body and decoding it with encoding/json, without any validation.
func BenchmarkReadBodyOnly(b *testing.B) {
	body, err := os.ReadFile("testdata/bench-item.json")
	if err != nil {
		b.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf, _ := io.ReadAll(r.Body)
		var v any
		if err := json.Unmarshal(buf, &v); err != nil {
			w.WriteHeader(400)
		}
	})
	benchBody(b, h, "/items/12?limit=5", body)
}

// BenchmarkRejectedBody is the cost of a rejection with problem details.
func BenchmarkRejectedBody(b *testing.B) {
	body := []byte(`{"name":"","quantity":2.5,"big":1,"email":"nope"}`)
	h := benchSpec(b, validate.Options{})
	rd := bytes.NewReader(body)
	r := httptest.NewRequest("POST", "/items/12", rd)
	r.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		r.ContentLength = int64(len(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 400 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkQueryOnly is a GET with typed query parameters and no body.
func BenchmarkQueryOnly(b *testing.B) {
	v, err := validate.New(validate.Config{Query: map[string]validate.Param{
		"limit": {Type: "integer", Minimum: ptr(1.0), Maximum: ptr(100.0)},
		"sort":  {Enum: []string{"name", "price"}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	h := v.Handler(nop)
	r := httptest.NewRequest("GET", "/items?limit=20&sort=name", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
	if w.Code != 200 {
		b.Fatalf("status %d", w.Code)
	}
}

// BenchmarkResponseCheck is the cost of checking a matching JSON response
// against its declaration (validation.responses, on in development).
func BenchmarkResponseCheck(b *testing.B) {
	spec, err := validate.Load("testdata/response-bench.yaml", validate.Options{ValidateResponses: true})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"id":7,"name":"Blue kettle","price":24.5,"currency":"EUR","tags":["kitchen","blue"],` +
		`"created":"2026-12-05T02:40:00Z","owner":"shop@example.com"}`)
	h := spec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	r := httptest.NewRequest("GET", "/items/7", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
