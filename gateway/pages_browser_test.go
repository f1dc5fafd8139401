package gateway_test

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// updateScreenshots rewrites docs/images/*.png when set; otherwise the
// screenshots are taken and checked but nothing is written.
var updateScreenshots = os.Getenv("RAMPART_UPDATE_SCREENSHOTS") == "1"

// TestBrowserPages renders Rampart's own pages in real Chromium, at desktop
// and phone widths, under Rampart's own CSP: the login page, the delay
// notice after a quick retry (which says how long), a 429 from a rate limit
// and a 500 from the shield. The stylesheet must load and apply (a CSP
// that blocked it would leave browser defaults), nothing may overflow a
// phone's width, and the 429 page must say how long to wait. With
// RAMPART_UPDATE_SCREENSHOTS=1 it writes the screenshots under docs/images.
func TestBrowserPages(t *testing.T) {
	b := startChromiumOnMadeUpHost(t)
	up := crashingUpstream(t)
	y, db := authConfig(t, up.URL)
	seedUser(t, db, "dora", "editor")
	y = strings.Replace(y, "login_protection: {delay: 1ms}", "login_protection: {delay: 5s}", 1)
	h := start(t, parse(t, up.URL, `pages: {title: "Acme Notes"}
headers: {preset: strict}
`+y+`  - match: "GET /crash"
    auth: none
  - match: "GET /busy"
    auth: none
    rate_limits: [{name: busy, key: ip, limit: 1, per: 1m}]
`))
	gw := onMadeUpHost(h)
	p := b.NewPage(t)

	sizes := []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 800}, {"phone", 390, 844}}
	shoot := func(name string) {
		t.Helper()
		for _, s := range sizes {
			img, err := p.Screenshot(s.width, s.height)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(img)); err != nil || len(img) < 2000 {
				t.Fatalf("%s at %s: not a screenshot (%d bytes, %v)", name, s.name, len(img), err)
			}
			var fits bool
			if err := p.Eval(`document.documentElement.scrollWidth <= window.innerWidth`, &fits); err != nil || !fits {
				t.Errorf("%s at %s: the page is wider than the screen (%v)", name, s.name, err)
			}
			if updateScreenshots {
				path := filepath.Join("..", "docs", "images", fmt.Sprintf("%s-%s.png", name, s.name))
				if err := os.WriteFile(path, img, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	styled := func(name string) {
		t.Helper()
		var ok bool
		js := `getComputedStyle(document.body).display === "flex" && getComputedStyle(document.querySelector("main")).maxWidth === "416px"`
		if err := p.Eval(js, &ok); err != nil || !ok {
			t.Errorf("%s: the stylesheet did not apply under Rampart's CSP (%v)", name, err)
		}
		if text, _ := p.Text(); !strings.Contains(text, "Acme Notes") {
			t.Errorf("%s: the title is not shown: %q", name, text)
		}
	}

	if err := p.Navigate(gw + "/.rampart/login"); err != nil {
		t.Fatal(err)
	}
	styled("login")
	shoot("login")

	// A typo, then the right password at once: the form says to wait
	// and how long, as a notice, not an error.
	submit := func(pw string) {
		t.Helper()
		js := fmt.Sprintf(`document.querySelector("#username").value = "dora"; document.querySelector("#password").value = %q; document.querySelector("form").submit(); true`, pw)
		if err := p.Eval(js, nil); err != nil {
			t.Fatal(err)
		}
	}
	submit("wrong password")
	if err := p.WaitFor(`!!document.querySelector("#login-error")`); err != nil {
		t.Fatal(err)
	}
	submit(testPassword)
	if err := p.WaitFor(`!!document.querySelector("#login-notice")`); err != nil {
		text, _ := p.Text()
		t.Fatalf("no delay notice: %v; page says %q", err, text)
	}
	var notice string
	_ = p.Eval(`document.querySelector("#login-notice").innerText + "|" + document.querySelector("#login-notice").getAttribute("role") + "|" + !!document.querySelector("#login-error")`, &notice)
	if !regexp.MustCompile(`Please wait [1-5] seconds?`).MatchString(notice) || !strings.HasSuffix(notice, "|status|false") {
		t.Errorf("delay notice: got %q, want the wait in words, role=status and no error", notice)
	}
	shoot("login-wait")

	if err := p.Navigate(gw + "/busy"); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(gw + "/busy"); err != nil {
		t.Fatal(err)
	}
	if text, _ := p.Text(); !strings.Contains(text, "429 Too Many Requests") || !strings.Contains(text, "Please wait") || !strings.Contains(text, "Incident id") {
		t.Errorf("429 page: %q", text)
	}
	styled("429")
	shoot("429")

	if err := p.Navigate(gw + "/crash"); err != nil {
		t.Fatal(err)
	}
	if text, _ := p.Text(); !strings.Contains(text, "500 Internal Server Error") || strings.Contains(text, "server.js") {
		t.Errorf("500 page: %q", text)
	}
	styled("500")
	shoot("500")
}
