package testutil_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/internal/testutil"
)

func TestChromium(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "abc", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><title>t</title><p>hello from the page</p>`))
	}))
	defer srv.Close()
	b := testutil.StartChromium(t)
	p := b.NewPage(t)
	if err := p.Navigate(srv.URL); err != nil {
		t.Fatal(err)
	}
	text, err := p.Text()
	if err != nil || !strings.Contains(text, "hello from the page") {
		t.Fatalf("Text: got %q, %v", text, err)
	}
	var sum int
	if err := p.Eval(`Promise.resolve(20 + 22)`, &sum); err != nil || sum != 42 {
		t.Errorf("Eval: got %d, %v, want 42", sum, err)
	}
	if err := p.Eval(`Promise.reject(new Error("boom"))`, nil); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Eval of a rejected promise: got %v, want an error with its message", err)
	}
	if err := p.WaitFor(`document.title === "t"`); err != nil {
		t.Error(err)
	}
	cookies, err := p.Cookies()
	if err != nil || len(cookies) != 1 || cookies[0].Name != "sid" || !cookies[0].HTTPOnly || cookies[0].SameSite != "Lax" {
		t.Errorf("Cookies: got %+v, %v", cookies, err)
	}
	// A second tab shares the profile.
	p2 := b.NewPage(t)
	if cookies, err := p2.Cookies(srv.URL); err != nil || len(cookies) != 1 {
		t.Errorf("Cookies from a second tab: got %+v, %v", cookies, err)
	}
}
