package problem_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/problem"
	"github.com/rampartsec/rampart/requestid"
)

type recorder struct {
	http.ResponseWriter
	policy string
}

func (r *recorder) RecordDecision(p string)               { r.policy = p }
func (r *recorder) Unwrap() http.ResponseWriter           { return r.ResponseWriter }
func (r *recorder) Header() http.Header                   { return r.ResponseWriter.Header() }
func (r *recorder) WriteHeader(code int)                  { r.ResponseWriter.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error)           { return r.ResponseWriter.Write(b) }
func (r *recorder) String() string                        { return r.policy }
func wrap(w http.ResponseWriter) http.ResponseWriter      { return struct{ http.ResponseWriter }{w} }
func unwrapper(w http.ResponseWriter) http.ResponseWriter { return &unwrapping{w} }

type unwrapping struct{ http.ResponseWriter }

func (u *unwrapping) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/api", nil)
	r = r.WithContext(requestid.NewContext(r.Context(), "req-1"))
	r.Header.Set("Accept", "application/json")
	w := httptest.NewRecorder()
	w.Header().Set("ETag", `"upstream"`)
	w.Header().Set("Retry-After", "3")
	problem.Write(w, r, problem.Problem{Status: 429, Policy: "ratelimit", Detail: `too many <requests> "now"`,
		Errors: []problem.FieldError{{Pointer: "/quantity", Detail: "must be an integer, got 2.5"}}})
	if w.Code != 429 {
		t.Fatalf("status: got %d, want 429", w.Code)
	}
	h := w.Header()
	for k, want := range map[string]string{
		"Content-Type": "application/problem+json", "Cache-Control": "no-store",
		"X-Content-Type-Options": "nosniff", "Retry-After": "3", "ETag": "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	var body struct {
		Type, Title, Detail, Incident string
		Status                        int
		Errors                        []problem.FieldError
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, w.Body)
	}
	if body.Type != "about:blank" || body.Title != "Too Many Requests" || body.Status != 429 || body.Incident != "req-1" {
		t.Errorf("got %+v", body)
	}
	if body.Detail != `too many <requests> "now"` || len(body.Errors) != 1 || body.Errors[0].Pointer != "/quantity" {
		t.Errorf("detail/errors: got %+v", body)
	}
	if strings.Contains(w.Body.String(), "ratelimit") {
		t.Error("policy name leaked to the client")
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	w := httptest.NewRecorder()
	problem.Write(w, r, problem.Problem{Status: 403, Detail: "<script>alert(1)</script>",
		Errors: []problem.FieldError{{Parameter: "<b>", Detail: "x&y"}}})
	body := w.Body.String()
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("content type: got %q", ct)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>") {
		t.Errorf("unescaped input in page:\n%s", body)
	}
	id := w.Header().Get("X-Request-Id")
	if id == "" || !strings.Contains(body, id) {
		t.Errorf("incident id %q missing from page", id)
	}
	if !strings.Contains(body, "403 Forbidden") {
		t.Errorf("title missing:\n%s", body)
	}
}

func TestWriteHEADHasNoBody(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	problem.Write(w, httptest.NewRequest("HEAD", "/", nil), problem.Problem{Status: 404})
	if w.Body.Len() != 0 || w.Code != 404 {
		t.Errorf("got %d with %d body bytes", w.Code, w.Body.Len())
	}
}

func TestRecordFindsRecorderThroughWrappers(t *testing.T) {
	t.Parallel()
	rec := &recorder{ResponseWriter: httptest.NewRecorder()}
	problem.Write(unwrapper(unwrapper(rec)), httptest.NewRequest("GET", "/", nil), problem.Problem{Status: 403, Policy: "access"})
	if rec.policy != "access" {
		t.Errorf("policy: got %q, want access", rec.policy)
	}
	// A writer that cannot be unwrapped ends the search without panicking.
	problem.Record(wrap(httptest.NewRecorder()), "x")
}

func TestWantsHTML(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"":                                  false,
		"*/*":                               false,
		"application/json":                  false,
		"text/html":                         true,
		"text/html,application/json":        true,
		"application/json, text/html;q=0.5": false,
		"application/problem+json":          false,
	}
	for accept, want := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := problem.WantsHTML(r); got != want {
			t.Errorf("WantsHTML(%q): got %v, want %v", accept, got, want)
		}
	}
}

func BenchmarkWriteJSON(b *testing.B) {
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(requestid.NewContext(r.Context(), "01hzzzzzzzzzzzzzzzzzzzzzzz"))
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		problem.Write(w, r, problem.Problem{Status: 429, Policy: "ratelimit"})
	}
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
