package gateway_test

import (
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/demo"
	"github.com/rampartsec/rampart/internal/testutil"
)

// madeUpHost is a host name that only the test browser resolves, to
// 127.0.0.1: not localhost, so the browser treats plain HTTP there as the
// insecure context it is (no Secure cookies, no Sec-Fetch-* headers), as it
// does for a VM's, a LAN address's or a container's name.
const madeUpHost = "rampart-demo.test"

func startChromiumOnMadeUpHost(t *testing.T) *testutil.Browser {
	t.Helper()
	return testutil.StartChromium(t, chromedp.Flag("host-resolver-rules", "MAP "+madeUpHost+" 127.0.0.1"))
}

// onMadeUpHost is the gateway's URL under the made-up host name.
func onMadeUpHost(h *harness) string {
	return "http://" + madeUpHost + h.url[strings.LastIndex(h.url, ":"):]
}

// TestBrowserOnPlainHTTPHost drives real Chromium against the gateway on
// a host name other than localhost, over plain HTTP, with no setting added
// for it. It runs alone (not in parallel): one browser for its subtests,
// started while no other test's browser is.
func TestBrowserOnPlainHTTPHost(t *testing.T) {
	b := startChromiumOnMadeUpHost(t)
	t.Run("demo", func(t *testing.T) { testDemoOnPlainHTTPHost(t, b) })
	t.Run("form", func(t *testing.T) { testFormOnPlainHTTPHost(t, b) })
}

// testDemoOnPlainHTTPHost runs the demo's own configuration and walks
// through it: sent to the login page, signed in, the notes page, a note
// added through its form, signed out.
func testDemoOnPlainHTTPHost(t *testing.T, b *testutil.Browser) {
	upLn := testutil.Listen(t)
	srv := &http.Server{Handler: demo.New(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(upLn) }()
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	set := demo.Settings{Listen: "127.0.0.1:0", Admin: "off", Upstream: "http://" + upLn.Addr().String(),
		OpenAPI: filepath.Join(dir, "openapi.yaml"), SQLite: filepath.Join(dir, "rampart.db")}
	writeFile(t, set.OpenAPI, string(demo.OpenAPI))
	seedUser(t, set.SQLite, "demo", "editor")
	c, err := config.Parse("demo.yaml", demo.Config(set))
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, c)
	gw := onMadeUpHost(h)

	p := b.NewPage(t)
	if err := p.Navigate(gw + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/.rampart/login" && !!document.querySelector("#password")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("not sent to the login form: %v; page says %q", err, text)
	}
	fill := `document.querySelector("#username").value = "demo";
		document.querySelector("#password").value = ` + fmt.Sprintf("%q", testPassword) + `;
		document.querySelector("form").submit(); true`
	if err := p.Eval(fill, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/" && document.body && document.body.innerText.includes("Welcome to the Rampart demo")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("after login on %s: %v; page says %q\nlog:\n%s", gw, err, text, h.logs)
	}
	if !strings.HasPrefix(mustEval[string](t, p, "location.href"), "http://"+madeUpHost) {
		t.Fatalf("the browser left the plain-HTTP host")
	}
	// Add a note through the page's own form: a same-origin form POST
	// passes the CSRF origin check.
	if err := p.Eval(`document.querySelector("#text").value = "from a plain-http host"; document.querySelector("#text").form.submit(); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`document.body && document.body.innerText.includes("from a plain-http host")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("adding a note: %v; page says %q\nlog:\n%s", err, text, h.logs)
	}
	// Sign out with the page's button: back to the login page, which
	// says so, and the notes need a login again.
	if err := p.Eval(`document.querySelector("#logout").click(); true`, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/.rampart/login" && document.body.innerText.includes("signed out")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("signing out: %v; page says %q\nlog:\n%s", err, text, h.logs)
	}
	if err := p.Navigate(gw + "/"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(`location.pathname === "/.rampart/login"`); err != nil {
		t.Errorf("after signing out the notes are still served: %v", err)
	}
}

// tokenFormApp renders a form carrying the CSRF token Rampart hands it and
// records what is posted.
type tokenFormApp struct{ browserApp }

func (a *tokenFormApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/form" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>form</title><form method="post" action="/notes"><input type="hidden" name="csrf_token" value="%s"><input name="title"><button>save</button></form>`,
			html.EscapeString(r.Header.Get("X-Rampart-CSRF-Token")))
		return
	}
	a.browserApp.ServeHTTP(w, r)
}

// testFormOnPlainHTTPHost: an application's own same-origin form POST
// passes csrf.mode origin and token, in development with no setting added.
func testFormOnPlainHTTPHost(t *testing.T, b *testutil.Browser) {
	for _, mode := range []string{"origin", "token"} {
		t.Run(mode, func(t *testing.T) {
			app := &tokenFormApp{}
			up := testutil.Listen(t)
			srv := &http.Server{Handler: app, ReadHeaderTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(up) }()
			t.Cleanup(func() { _ = srv.Close() })
			h := start(t, parse(t, "http://"+up.Addr().String(), fmt.Sprintf(`env: development
csrf: {mode: %s}
routes:
  - match: "GET /form"
  - match: "POST /notes"
`, mode)))
			p := b.NewPage(t)
			if err := p.Navigate(onMadeUpHost(h) + "/form"); err != nil {
				t.Fatal(err)
			}
			if err := p.Eval(`document.querySelector("[name=title]").value = "mine"; document.forms[0].submit(); true`, nil); err != nil {
				t.Fatal(err)
			}
			if err := p.WaitFor(`document.body && document.body.innerText.includes("saved: mine")`); err != nil {
				text, _ := p.Text()
				t.Fatalf("same-origin form: %v; page says %q\nlog:\n%s", err, text, h.logs)
			}
			if got := app.saved(); len(got) != 1 || got[0] != "mine" {
				t.Errorf("notes the app saved: got %q, want [mine]", got)
			}
		})
	}
}

func mustEval[T any](t *testing.T, p *testutil.Page, js string) T {
	t.Helper()
	var out T
	if err := p.Eval(js, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
