package validate_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rampartsec/rampart/validate"
)

// TestBodyBudget: bodies held at once never exceed the budget; a request
// that would go over it gets 503 with Retry-After, and the bytes come back
// when the application is done.
func TestBodyBudget(t *testing.T) {
	t.Parallel()
	budget := validate.NewBodyBudget(100)
	v, err := validate.New(validate.Config{
		BodySchema: validate.Schema{Inline: map[string]any{"type": "object"}},
		BodyBudget: budget,
	})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") != "" {
			once.Do(func() { close(entered) })
			<-release
		}
	}))
	body := func(n int) string { return `{"a":"` + strings.Repeat("x", n-8) + `"}` }
	send := func(size int, hold bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body(size)))
		r.ContentLength = -1 // counted as it arrives, not as declared
		r.Header.Set("Content-Type", "application/json")
		if hold {
			r.Header.Set("X-Hold", "1")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	if w := send(200, false); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a body over the whole budget: got %d (Retry-After %q), want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if got := budget.InUse(); got != 0 {
		t.Fatalf("after a refusal: %d bytes held, want 0", got)
	}

	done := make(chan int)
	go func() { done <- send(60, true).Code }()
	select {
	case <-entered:
	case code := <-done:
		t.Fatalf("the 60-byte request did not reach the application: %d", code)
	}
	if got := budget.InUse(); got != 60 {
		t.Errorf("while the application holds a 60-byte body: %d bytes held", got)
	}
	if w := send(60, false); w.Code != http.StatusServiceUnavailable {
		t.Errorf("a second 60-byte body with 40 bytes left: got %d, want 503", w.Code)
	}
	if w := send(30, false); w.Code != http.StatusOK {
		t.Errorf("a 30-byte body with 40 bytes left: got %d, want 200: %s", w.Code, w.Body)
	}
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Errorf("the held request: got %d", code)
	}
	if got := budget.InUse(); got != 0 {
		t.Errorf("after every request: %d bytes held, want 0", got)
	}
	if w := send(90, false); w.Code != http.StatusOK {
		t.Errorf("after the bytes came back: got %d, want 200", w.Code)
	}
}
