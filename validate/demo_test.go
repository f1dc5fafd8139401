package validate_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/demo"
	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/validate"
)

// TestDemoNotesDocument checks the demo app's OpenAPI document against the
// demo app itself: every request it allows works, what it refuses never
// reaches the app, and every response the app gives matches the document.
func TestDemoNotesDocument(t *testing.T) {
	t.Parallel()
	logs := &testutil.Buffer{}
	spec, err := validate.Load("../internal/demo/openapi.yaml", validate.Options{
		Strict: true, ValidateResponses: true, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := spec.Handler(demo.New())
	steps := []struct {
		method, target, ctype, body string
		status                      int
	}{
		{"GET", "/", "", "", 200},
		{"GET", "/api/notes", "", "", 200},
		{"POST", "/api/notes", "application/json", `{"text":"hello"}`, 201},
		{"GET", "/api/notes/2", "", "", 200},
		{"GET", "/api/notes/999", "", "", 404},
		{"DELETE", "/api/notes/2", "", "", 204},
		{"POST", "/notes", "application/x-www-form-urlencoded", "text=from+the+form", 303},
		// Refused by the gateway, never seen by the app:
		{"GET", "/internal/debug", "", "", 404},
		{"PUT", "/api/notes/1", "application/json", `{"text":"x"}`, 405},
		{"GET", "/api/notes/abc", "", "", 400},
		{"POST", "/api/notes", "application/json", `{"text":""}`, 400},
		{"POST", "/api/notes", "application/json", `{"text":"x","admin":true}`, 400},
		{"POST", "/api/notes", "text/plain", `hello`, 415},
		{"POST", "/notes", "application/x-www-form-urlencoded", "text=a&text=b", 400},
	}
	for _, s := range steps {
		var r *http.Request
		if s.body != "" {
			r = httptest.NewRequest(s.method, s.target, strings.NewReader(s.body))
			r.Header.Set("Content-Type", s.ctype)
		} else {
			r = httptest.NewRequest(s.method, s.target, nil)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != s.status {
			t.Errorf("%s %s: got %d, want %d\n%s", s.method, s.target, w.Code, s.status, w.Body)
		}
	}
	if l := logs.String(); l != "" {
		t.Errorf("the demo app's responses do not match its document:\n%s", l)
	}
}
