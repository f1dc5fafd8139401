package gateway_test

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/demo"
	"github.com/rampartsec/rampart/internal/testutil"
)

// browserApp is the upstream for the browser test. It behaves as a careless
// app would: it reflects any Origin with credentials, which the gateway's
// CORS policy must override.
type browserApp struct {
	mu    sync.Mutex
	notes []string
}

func (a *browserApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	switch {
	case r.URL.Path == "/form":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>form</title><form method="post" action="/notes"><input name="title"><button>save</button></form>`)
	case r.URL.Path == "/notes" && r.Method == "POST":
		_ = r.ParseForm()
		a.mu.Lock()
		a.notes = append(a.notes, r.PostForm.Get("title"))
		a.mu.Unlock()
		fmt.Fprintf(w, "saved: %s", html.EscapeString(r.PostForm.Get("title")))
	case r.URL.Path == "/api/data":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"secret":"for allowed origins only","method":%q}`, r.Method)
	default:
		fmt.Fprint(w, "<!doctype html><title>page</title>")
	}
}

func (a *browserApp) saved() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.notes...)
}

// TestBrowserCORSAndCSRF drives real headless Chromium against the real
// gateway: an allowed origin's credentialed fetch (and a preflighted PUT)
// succeed, a disallowed origin's are blocked by the browser even though the
// app reflects every origin, a cross-origin form POST is refused with the
// neutral page, and the same-origin form works.
func TestBrowserCORSAndCSRF(t *testing.T) {
	t.Parallel()
	b := testutil.StartChromium(t)
	app := &browserApp{}
	upLn, friendLn, evilLn := testutil.Listen(t), testutil.Listen(t), testutil.Listen(t)
	serve := func(ln net.Listener, h http.Handler) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	serve(upLn, app)
	blank := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>other site</title>")
	})
	serve(friendLn, blank)
	serve(evilLn, blank)
	port := func(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }
	friend := fmt.Sprintf("http://localhost:%d", port(friendLn))
	evil := fmt.Sprintf("http://localhost:%d", port(evilLn))

	h := start(t, parse(t, "http://"+upLn.Addr().String(), fmt.Sprintf(`cors:
  origins: [%q]
  credentials: true
  methods: [GET, PUT]
  headers: [Content-Type]
routes:
  - match: "GET /form"
  - match: "POST /notes"
  - match: "GET /api/data"
  - match: "PUT /api/data"
  - match: "GET /{$}"
`, friend)))
	gw := "http://127.0.0.1" + h.url[strings.LastIndex(h.url, ":"):]

	p := b.NewPage(t)
	fetch := func(from, method string) string {
		t.Helper()
		if err := p.Navigate(from + "/"); err != nil {
			t.Fatal(err)
		}
		var out string
		js := fmt.Sprintf(`fetch(%q, {method: %q, credentials: "include", headers: {"Content-Type": "application/json"}, body: %s})
			.then(r => r.text(), e => "blocked: " + e.name)`, gw+"/api/data", method, map[bool]string{true: `"{}"`, false: "undefined"}[method == "PUT"])
		if err := p.Eval(js, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := fetch(friend, "GET"); !strings.Contains(got, "for allowed origins only") {
		t.Errorf("allowed origin GET: got %q", got)
	}
	if got := fetch(friend, "PUT"); !strings.Contains(got, `"method":"PUT"`) {
		t.Errorf("allowed origin preflighted PUT: got %q", got)
	}
	if got := fetch(evil, "GET"); !strings.HasPrefix(got, "blocked") {
		t.Errorf("disallowed origin GET: got %q, want the browser to block it", got)
	}
	if got := fetch(evil, "PUT"); !strings.HasPrefix(got, "blocked") {
		t.Errorf("disallowed origin PUT: got %q, want the browser to block it", got)
	}

	// Same-origin form.
	if err := p.Navigate(gw + "/form"); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(`document.querySelector("[name=title]").value = "mine"; document.forms[0].submit(); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.body && document.body.innerText.includes("saved: mine")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("same-origin form: %v; page says %q", err, text)
	}
	// Cross-origin form post.
	if err := p.Navigate(evil + "/"); err != nil {
		t.Fatal(err)
	}
	attack := fmt.Sprintf(`(() => { const f = document.createElement("form"); f.method = "POST"; f.action = %q;
		const i = document.createElement("input"); i.name = "title"; i.value = "forged"; f.appendChild(i);
		document.body.appendChild(f); f.submit(); return true; })()`, gw+"/notes")
	if err := p.Eval(attack, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(fmt.Sprintf(`location.href === %q && document.readyState === "complete"`, gw+"/notes")); err != nil {
		t.Fatal(err)
	}
	if text, _ := p.Text(); !strings.Contains(text, "403 Forbidden") || !strings.Contains(text, "Incident id") {
		t.Errorf("cross-origin form post: page says %q, want the neutral 403 page", text)
	}
	if got := app.saved(); len(got) != 1 || got[0] != "mine" {
		t.Errorf("notes the app saved: got %q, want only the same-origin one", got)
	}
}

// TestBrowserLogin logs in through the login form in real headless Chromium,
// sees the demo notes page through the gateway, checks the session cookie's
// flags, logs out and is sent back to the login page.
func TestBrowserLogin(t *testing.T) {
	t.Parallel()
	b := testutil.StartChromium(t)
	upLn := testutil.Listen(t)
	srv := &http.Server{Handler: demo.New(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(upLn) }()
	t.Cleanup(func() { _ = srv.Close() })
	y, db := authConfig(t, "")
	seedUser(t, db, "dora", "editor")
	h := start(t, parse(t, "http://"+upLn.Addr().String(), strings.Replace(y, `routes:
  - match: "GET /public"`, `routes:
  - match: "GET /{$}"
  - match: "POST /notes"
  - match: "GET /public"`, 1)))
	gw := "http://127.0.0.1" + h.url[strings.LastIndex(h.url, ":"):]

	p := b.NewPage(t)
	if err := p.Navigate(gw + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/.rampart/login" && !!document.querySelector("#password")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("not sent to the login form: %v; page says %q", err, text)
	}
	fill := `document.querySelector("#username").value = "dora";
		document.querySelector("#password").value = ` + fmt.Sprintf("%q", testPassword) + `;
		document.querySelector("form").submit(); true`
	if err := p.Eval(fill, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/" && document.body && document.body.innerText.includes("Welcome to the Rampart demo")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("after login: %v; page says %q", err, text)
	}
	cookies, err := p.Cookies(gw + "/")
	if err != nil {
		t.Fatal(err)
	}
	var sess *testutil.Cookie
	for i := range cookies {
		if cookies[i].Name == "__Host-rampart-session" {
			sess = &cookies[i]
		}
	}
	if sess == nil || !sess.Secure || !sess.HTTPOnly || sess.SameSite != "Lax" || sess.Path != "/" {
		t.Fatalf("session cookie in the browser: got %+v", sess)
	}
	if script := `document.cookie.includes("rampart-session")`; true {
		var visible bool
		if err := p.Eval(script, &visible); err != nil || visible {
			t.Errorf("the session cookie is readable by script (%v)", err)
		}
	}
	// Add a note through the page's form: a same-origin POST passes CSRF.
	if err := p.Eval(`document.querySelector("#text").value = "from chromium"; document.querySelector("form").submit(); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.body && document.body.innerText.includes("from chromium")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("adding a note: %v; page says %q", err, text)
	}
	// Log out, then the page needs a login again.
	var status int
	if err := p.Eval(`fetch("/.rampart/logout", {method: "POST"}).then(r => r.status)`, &status); err != nil {
		t.Fatal(err)
	}
	if status/100 != 2 && status != 303 {
		t.Errorf("logout: got %d", status)
	}
	if err := p.Navigate(gw + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/.rampart/login"`); err != nil {
		t.Errorf("after logout the page is still served: %v", err)
	}
}
