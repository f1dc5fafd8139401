package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// TestRetiredGenerationNeverUsed: a request that loaded a generation just
// as a reload retired it moves to the new one, and retire waits for the
// requests that did count themselves in, without polling.
func TestRetiredGenerationNeverUsed(t *testing.T) {
	c, err := config.Parse("t.yaml", []byte("upstream: http://127.0.0.1:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	old := g.current.Load()
	// A request counted in the old generation before the reload.
	held := g.acquire()
	if held != old {
		t.Fatal("acquire did not return the current generation")
	}
	c2, _ := config.Parse("t.yaml", []byte("upstream: http://127.0.0.1:2\n"))
	if err := g.Reload(c2); err != nil {
		t.Fatal(err)
	}
	// The race window: the old generation was loaded, then retired.
	old.retired.Store(true)
	if got := g.acquire(); got == old {
		t.Fatal("acquire returned a retired generation")
	} else {
		got.release()
	}
	select {
	case <-old.drained:
		t.Fatal("the old generation drained with a request still in flight")
	default:
	}
	held.release()
	select {
	case <-old.drained:
	case <-time.After(5 * time.Second):
		t.Fatal("the last request out of a retired generation did not signal it")
	}
}
