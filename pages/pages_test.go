package pages_test

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/pages"
)

func TestBuiltInPages(t *testing.T) {
	t.Parallel()
	p, err := pages.New(pages.Config{Title: "Acme <Notes>", AccentColor: "#065"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Error(&b, pages.Error{Status: 429, Title: "Too Many Requests", Message: pages.Message(429, 30), Incident: "abc123"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"Acme &lt;Notes&gt;", "429", "wait 30 seconds", `<code>abc123</code>`, `href="/.rampart/pages.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("error page lacks %q:\n%s", want, page)
		}
	}
	for _, banned := range []string{"<script", "<style", "http://", "https://"} {
		if strings.Contains(page, banned) {
			t.Errorf("error page contains %q: the pages load nothing from elsewhere and run no script", banned)
		}
	}
	b.Reset()
	if err := p.Login(&b, pages.Login{Action: "/.rampart/login", Username: `"><script>`}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `"><script>`) || !strings.Contains(b.String(), `<label for="password">`) {
		t.Errorf("login page: escaping or labels wrong:\n%s", b.String())
	}
	rec := httptest.NewRecorder()
	p.Stylesheet().ServeHTTP(rec, httptest.NewRequest("GET", pages.StylesheetPath, nil))
	css := rec.Body.String()
	if !strings.Contains(css, "--accent:#065") || !strings.Contains(css, "prefers-color-scheme:dark") || rec.Header().Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("stylesheet: %q %q", rec.Header().Get("Content-Type"), css[:80])
	}
}

func TestBranding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("logo.svg", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`)
	if err := os.Mkdir(filepath.Join(dir, "tpl"), 0o700); err != nil {
		t.Fatal(err)
	}
	write("tpl/error.html", `<p>{{.Brand.Title}} says {{.Status}}: {{.Message}} ({{.Incident}})</p>`)
	p, err := pages.New(pages.Config{Title: "Acme", Logo: "logo.svg", Templates: "tpl"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = p.Error(&b, pages.Error{Status: 404, Message: "gone", Incident: "i1"})
	if got := b.String(); got != "<p>Acme says 404: gone (i1)</p>" {
		t.Errorf("custom error.html: got %q", got)
	}
	b.Reset()
	_ = p.Login(&b, pages.Login{Action: "/x"})
	if !strings.Contains(b.String(), `src="data:image/svg&#43;xml;base64,`) && !strings.Contains(b.String(), `src="data:image/svg+xml;base64,`) {
		t.Errorf("built-in login.html kept, with the inlined logo: %s", b.String())
	}

	for _, tc := range []struct {
		name string
		cfg  pages.Config
		want string
	}{
		{"pale accent", pages.Config{AccentColor: "#ffff00"}, "contrast"},
		{"not a colour", pages.Config{AccentColor: "blue"}, "accent_color"},
		{"logo type", pages.Config{Logo: "logo.bmp"}, "logo"},
		{"missing logo", pages.Config{Logo: "nope.png"}, "logo"},
		{"missing dir", pages.Config{Templates: "nope"}, "templates"},
		{"broken template", pages.Config{Templates: "bad"}, "templates"},
		{"template failing on data", pages.Config{Templates: "fails"}, "error.html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.MkdirAll(filepath.Join(dir, "bad"), 0o700)
			_ = os.WriteFile(filepath.Join(dir, "bad", "login.html"), []byte("{{.Nope"), 0o600)
			_ = os.MkdirAll(filepath.Join(dir, "fails"), 0o700)
			_ = os.WriteFile(filepath.Join(dir, "fails", "error.html"), []byte("{{.NoSuchField}}"), 0o600)
			_, err := pages.New(tc.cfg, dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error about %s", err, tc.want)
			}
		})
	}
}
