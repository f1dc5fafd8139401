package csrf_test

import (
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampartsec/rampart/cors"
	"github.com/rampartsec/rampart/csrf"
	"github.com/rampartsec/rampart/internal/testutil"
)

func serveOn(t *testing.T, ln net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// notesApp is the application behind the gateway: a form that posts a note,
// rendering the CSRF token it receives from the gateway when there is one.
type notesApp struct {
	mu    sync.Mutex
	notes []string
}

func (a *notesApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/form":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>form</title>
<form method="post" action="/notes">
<input type="hidden" name="csrf_token" value="%s">
<input name="title"><button>save</button>
</form>`, html.EscapeString(r.Header.Get("X-Rampart-Csrf-Token")))
	case r.URL.Path == "/notes" && r.Method == "POST":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", 400)
			return
		}
		a.mu.Lock()
		a.notes = append(a.notes, r.PostForm.Get("title"))
		a.mu.Unlock()
		fmt.Fprintf(w, "saved: %s", html.EscapeString(r.PostForm.Get("title")))
	default:
		fmt.Fprintln(w, "<!doctype html><title>page</title>")
	}
}

func (a *notesApp) saved() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.notes...)
}

// TestBrowserCSRF runs real headless Chromium against the gateway's chain
// (CORS, then CSRF, then a reverse proxy to a loopback application): the
// same-origin form works; the same form posted from another local origin,
// same-site or cross-site, is refused with the neutral 403 page and never
// reaches the application. In token mode the form carries the token the
// gateway handed the application, bound by the __Host- cookie.
func TestBrowserCSRF(t *testing.T) {
	t.Parallel()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b := testutil.StartChromium(t)
	for _, mode := range []csrf.Mode{csrf.ModeOrigin, csrf.ModeBoth} {
		t.Run(string(mode), func(t *testing.T) {
			appLn, evilLn, upstreamLn := testutil.Listen(t), testutil.Listen(t), testutil.Listen(t)
			port := func(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }
			app := fmt.Sprintf("http://127.0.0.1:%d", port(appLn))
			evilSameSite := fmt.Sprintf("http://127.0.0.1:%d", port(evilLn))
			evilCrossSite := fmt.Sprintf("http://localhost:%d", port(evilLn))

			notes := &notesApp{}
			serveOn(t, upstreamLn, notes)
			upstream, _ := url.Parse("http://" + upstreamLn.Addr().String())
			proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(upstream)
				pr.Out.Host = pr.In.Host
			}, ErrorLog: log.New(io.Discard, "", 0)} // favicon requests cut short by navigation
			corsPolicy, err := cors.New(cors.Config{})
			if err != nil {
				t.Fatal(err)
			}
			protect := mustNew(t, csrf.Config{Mode: mode, Key: key})
			serveOn(t, appLn, corsPolicy.Handler(protect.Handler(proxy)))
			serveOn(t, evilLn, notes)

			p := b.NewPage(t)
			if err := p.Navigate(app + "/form"); err != nil {
				t.Fatal(err)
			}
			if mode == csrf.ModeBoth {
				cookies, err := p.Cookies()
				if err != nil || len(cookies) != 1 || cookies[0].Name != csrf.DefaultCookie || !cookies[0].HTTPOnly || !cookies[0].Secure {
					t.Fatalf("binding cookie in the browser: got %+v, %v", cookies, err)
				}
			}
			submit := `document.querySelector("[name=title]").value = "from the app"; document.forms[0].submit(); true`
			if err := p.Eval(submit, nil); err != nil {
				t.Fatal(err)
			}
			if err := p.WaitFor(`document.body && document.body.innerText.includes("saved: from the app")`); err != nil {
				text, _ := p.Text()
				t.Fatalf("same-origin form: %v; page says %q", err, text)
			}

			attack := `(() => {
				const f = document.createElement("form");
				f.method = "POST"; f.action = %q;
				for (const [k, v] of [["title", "forged"], ["csrf_token", "guess"]]) {
					const i = document.createElement("input"); i.name = k; i.value = v; f.appendChild(i);
				}
				document.body.appendChild(f); f.submit(); return true;
			})()`
			for _, evil := range []string{evilCrossSite, evilSameSite} {
				if err := p.Navigate(evil + "/"); err != nil {
					t.Fatal(err)
				}
				if err := p.Eval(fmt.Sprintf(attack, app+"/notes"), nil); err != nil {
					t.Fatal(err)
				}
				if err := p.WaitFor(fmt.Sprintf(`location.href === %q && document.readyState === "complete"`, app+"/notes")); err != nil {
					t.Fatalf("form post from %s: %v", evil, err)
				}
				text, err := p.Text()
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(text, "403 Forbidden") || !strings.Contains(text, "Incident id") {
					t.Errorf("form post from %s: page says %q, want the neutral 403 page", evil, text)
				}
				// A no-cors fetch is the other way to send a simple POST.
				if err := p.Navigate(evil + "/"); err != nil {
					t.Fatal(err)
				}
				sneak := fmt.Sprintf(`fetch(%q, {method: "POST", mode: "no-cors", credentials: "include",
					headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "title=fetched"}).then(() => true, () => true)`, app+"/notes")
				if err := p.Eval(sneak, nil); err != nil {
					t.Fatal(err)
				}
			}
			if got := notes.saved(); len(got) != 1 || got[0] != "from the app" {
				t.Errorf("notes saved by the application: got %q, want only the same-origin one", got)
			}
		})
	}
}
