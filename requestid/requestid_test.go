package requestid_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/requestid"
)

func TestNewIsUniqueAndWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 10000 {
		id := requestid.New()
		if len(id) != 26 || !requestid.Valid(id) {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	trustAll := func(*http.Request) bool { return true }
	tests := []struct {
		name     string
		trust    func(*http.Request) bool
		incoming []string
		keep     bool
	}{
		{"no incoming id", nil, nil, false},
		{"untrusted client id replaced", nil, []string{"abc"}, false},
		{"trusted proxy id kept", trustAll, []string{"lb-1234.abc"}, true},
		{"trusted but log injection refused", trustAll, []string{"abc\ninjected=1"}, false},
		{"trusted but too long", trustAll, []string{strings.Repeat("a", 65)}, false},
		{"trusted but two ids", trustAll, []string{"a", "b"}, false},
		{"trusted but empty", trustAll, []string{""}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ctxID, hdrID string
			h := requestid.Handler(requestid.Config{Trust: tc.trust}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctxID = requestid.FromContext(r.Context())
				hdrID = r.Header.Get(requestid.Header)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			for _, v := range tc.incoming {
				r.Header.Add(requestid.Header, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if ctxID == "" || ctxID != hdrID || w.Header().Get(requestid.Header) != ctxID {
				t.Fatalf("ids disagree: context %q, upstream header %q, response %q", ctxID, hdrID, w.Header().Get(requestid.Header))
			}
			if kept := len(tc.incoming) > 0 && ctxID == tc.incoming[0]; kept != tc.keep {
				t.Errorf("kept incoming id: got %v, want %v (id %q)", kept, tc.keep, ctxID)
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = requestid.New()
	}
}
