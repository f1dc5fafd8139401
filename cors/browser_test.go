package cors_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/internal/testutil"
)

// serveOn serves h on ln until the test ends.
func serveOn(t *testing.T, ln net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// userAPI is the application behind the policy: /login sets a session
// cookie, /api/me reads it, PUT /api/me counts writes. Like many real
// applications, it answers CORS itself, badly: it reflects any Origin with
// credentials. The policy in front must override it.
type userAPI struct {
	mu     sync.Mutex
	reads  map[string]int // by Origin
	writes map[string]int // by Origin
}

func (a *userAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.URL.Path == "/login":
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "alice", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		fmt.Fprintln(w, "logged in")
	case r.URL.Path == "/api/me" && r.Method == "GET":
		a.reads[r.Header.Get("Origin")]++
		user := ""
		if c, err := r.Cookie("sid"); err == nil {
			user = c.Value
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"user": user})
	case r.URL.Path == "/api/me" && r.Method == "PUT":
		a.writes[r.Header.Get("Origin")]++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"ok":true}`)
	case r.URL.Path == "/":
		fmt.Fprintln(w, "<!doctype html><title>page</title>")
	default:
		http.NotFound(w, r)
	}
}

// TestBrowserCORS runs real headless Chromium against the policy in front of
// a reverse proxy: an allowed origin reads with credentials and writes after
// a preflight; a disallowed origin is blocked by the browser, even though
// the upstream reflects every origin.
func TestBrowserCORS(t *testing.T) {
	t.Parallel()
	appLn, friendLn, evilLn := testutil.Listen(t), testutil.Listen(t), testutil.Listen(t)
	port := func(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }
	app := fmt.Sprintf("http://127.0.0.1:%d", port(appLn))
	friend := fmt.Sprintf("http://127.0.0.1:%d", port(friendLn))
	evilSameSite := fmt.Sprintf("http://127.0.0.1:%d", port(evilLn))
	evilCrossSite := fmt.Sprintf("http://localhost:%d", port(evilLn))

	api := &userAPI{reads: map[string]int{}, writes: map[string]int{}}
	upstreamLn := testutil.Listen(t)
	serveOn(t, upstreamLn, api)
	upstream, _ := url.Parse("http://" + upstreamLn.Addr().String())
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		pr.Out.Host = pr.In.Host
	}}
	policy := mustNew(t, cors.Config{
		Origins:     []string{friend},
		Credentials: true,
		Methods:     []string{"GET", "PUT"},
		Headers:     []string{"Content-Type"},
	})
	protect, err := csrf.New(csrf.Config{TrustedOrigins: []string{friend}})
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, appLn, policy.Handler(protect.Handler(proxy)))
	serveOn(t, friendLn, api)
	serveOn(t, evilLn, api)

	b := testutil.StartChromium(t)
	p := b.NewPage(t)
	if err := p.Navigate(app + "/login"); err != nil {
		t.Fatal(err)
	}
	read := `fetch(%q, {credentials: "include"}).then(r => r.json()).then(j => "read:" + j.user, e => "blocked:" + e.name)`
	write := `fetch(%q, {method: "PUT", credentials: "include", headers: {"Content-Type": "application/json"}, body: "{}"})
		.then(r => r.json()).then(j => "wrote:" + j.ok, e => "blocked:" + e.name)`

	tests := []struct {
		name, page, js, want string
	}{
		{"allowed origin reads with credentials", friend, fmt.Sprintf(read, app+"/api/me"), "read:alice"},
		{"allowed origin writes after a preflight", friend, fmt.Sprintf(write, app+"/api/me"), "wrote:true"},
		{"same-site origin not allowed cannot read", evilSameSite, fmt.Sprintf(read, app+"/api/me"), "blocked:TypeError"},
		{"same-site origin not allowed cannot write", evilSameSite, fmt.Sprintf(write, app+"/api/me"), "blocked:TypeError"},
		{"cross-site origin cannot read", evilCrossSite, fmt.Sprintf(read, app+"/api/me"), "blocked:TypeError"},
		{"cross-site origin cannot write", evilCrossSite, fmt.Sprintf(write, app+"/api/me"), "blocked:TypeError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := p.Navigate(tt.page + "/"); err != nil {
				t.Fatal(err)
			}
			var got string
			if err := p.Eval(tt.js, &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	api.mu.Lock()
	defer api.mu.Unlock()
	// CORS protects reads, not sending: the disallowed simple GET did reach
	// the application, which answered, and the browser hid the answer.
	if api.reads[evilSameSite] != 1 || api.reads[friend] != 1 {
		t.Errorf("reads by origin: got %v, want one each from %s and %s", api.reads, friend, evilSameSite)
	}
	// A refused preflight stops the write before it is sent.
	if api.writes[friend] != 1 || api.writes[evilSameSite] != 0 || api.writes[evilCrossSite] != 0 {
		t.Errorf("writes by origin: got %v, want only one, from %s", api.writes, friend)
	}
}
