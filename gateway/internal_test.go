package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/config"
)

// TestPanicRecovered: a panic inside the chain becomes a neutral 500 with
// the stack in the log only.
func TestPanicRecovered(t *testing.T) {
	c, err := config.Parse("t.yaml", []byte("upstream: http://127.0.0.1:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	g, err := New(c, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.current.Load().handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state: db password hunter2")
	})
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 {
		t.Fatalf("status: got %d, want 500", w.Code)
	}
	if strings.Contains(w.Body.String(), "hunter2") || strings.Contains(w.Body.String(), "goroutine") {
		t.Errorf("panic leaked to client: %s", w.Body)
	}
	id := w.Header().Get("X-Request-Id")
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), id) {
		t.Errorf("panic and incident id %s not logged:\n%s", id, logs.String())
	}
}
