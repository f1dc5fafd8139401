package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// TestDashboardShowsEveryPolicyLive drives a refusal of every policy
// through a real gateway while the admin dashboard is open in headless
// Chromium, and asserts that each one appears on the page, with its
// incident id (the X-Request-Id the client got) and its policy, within 2 s
// of the request. It then unlocks the account login protection locked,
// from the page. With RAMPART_UPDATE_SCREENSHOTS=1 it writes the
// screenshots docs/events.md shows.
func TestDashboardShowsEveryPolicyLive(t *testing.T) {
	b := testutil.StartChromium(t)
	up := eventsUpstream(t)
	y, db := eventsConfig(t, "")
	seedUser(t, db, "alice", "editor")
	h := start(t, parse(t, up.URL, y))

	p := b.NewPage(t)
	console := p.Console(t)
	if err := p.OnNewDocument(`window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Screenshot(1280, 800); err != nil { // the desktop viewport
		t.Fatal(err)
	}
	if err := p.Navigate(h.admin + "/"); err != nil {
		t.Fatal(err)
	}
	text := func() string {
		s, _ := p.Text()
		return s
	}
	waitFor := func(what, js string) {
		t.Helper()
		if err := p.WaitFor(js); err != nil {
			t.Fatalf("%s: %v\npage says:\n%.3000s", what, err, text())
		}
	}
	// On loopback the admin API's reads need no token: the page opens
	// straight onto the live view.
	waitFor("the live dashboard", `!document.getElementById('app').hidden && document.getElementById('conn').textContent === 'live'`)
	// When each incident id first shows, by the browser's clock (the
	// machine's, as the test's is).
	if err := p.Eval(`window.__shown = {}; new MutationObserver(() => {
	  for (const ev of document.querySelectorAll('#events .ev')) {
	    const id = ev.querySelector('.incident'), badge = ev.querySelector('.badge');
	    const key = id && id.textContent ? id.textContent : 'policy:' + (badge ? badge.textContent : '');
	    if (!(key in window.__shown)) window.__shown[key] = Date.now();
	  }
	}).observe(document.getElementById('events'), {childList: true, subtree: true, characterData: true}); true`, nil); err != nil {
		t.Fatal(err)
	}

	limit := 2 * time.Second
	if testutil.RaceEnabled {
		limit = 5 * time.Second
	}
	if busy, load := testutil.Overloaded(); busy {
		limit = 5 * time.Second
		t.Logf("load average %.1f: allowing %v for an event to appear", load, limit)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path, body, contentType string, hdr map[string]string) (string, int) {
		t.Helper()
		var rd *strings.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		var req *http.Request
		if rd != nil {
			req, _ = http.NewRequest(method, h.url+path, rd)
		} else {
			req, _ = http.NewRequest(method, h.url+path, nil)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, _ := do(t, noRedirect, req)
		return resp.Header.Get("X-Request-Id"), resp.StatusCode
	}
	login := `{"username":"alice","password":"wrong"}`
	cases := []struct {
		policy, method, path, body, contentType string
		hdr                                     map[string]string
		status                                  int
	}{
		{"access", "GET", "/internal", "", "", nil, 403},
		{"routes", "GET", "/undeclared", "", "", nil, 404},
		{"canonical", "GET", "/public%3Fx", "", "", nil, 400},
		{"method", "TRACE", "/public", "", "", nil, 405},
		{"cors", "OPTIONS", "/public", "", "", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, 403},
		{"csrf", "POST", "/public", "a=1", "application/x-www-form-urlencoded", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"ratelimit", "GET", "/limited", "", "", nil, 429}, // the second request of a limit of one
		{"validation", "POST", "/notes", `{"title":"far too long"}`, "application/json", nil, 400},
		{"limits", "POST", "/upload", strings.Repeat("x", 64), "text/plain", nil, 413},
		{"auth", "GET", "/notes", "", "", map[string]string{"Accept": "application/json"}, 401},
		{"shield", "GET", "/boom", "", "", nil, 500},
		{"login_protection", "POST", "/.rampart/login", login, "application/json", nil, 429}, // after two failures
		{"headers", "POST", "/.rampart/csp-report", `{"csp-report":{"document-uri":"https://app.example/","violated-directive":"script-src","blocked-uri":"https://cdn.evil.example/x.js"}}`, "application/csp-report", nil, 204},
	}
	// What the refusals need first: the limit's one allowed request, and
	// the two failed logins login protection counts.
	if _, code := send("GET", "/limited", "", "", nil); code != 200 {
		t.Fatalf("the rate-limited route's first request: %d", code)
	}
	for range 2 {
		if _, code := send("POST", "/.rampart/login", login, "application/json", nil); code != 401 {
			t.Fatalf("a failed login: %d, want 401", code)
		}
	}
	var slowest time.Duration
	for _, tc := range cases {
		sent := time.Now()
		id, code := send(tc.method, tc.path, tc.body, tc.contentType, tc.hdr)
		if code != tc.status || id == "" {
			t.Errorf("%s: got %d (request id %q), want %d", tc.policy, code, id, tc.status)
			continue
		}
		key := id
		if tc.policy == "headers" {
			// A CSP report is sent by the browser of a page that was
			// served earlier: its event has no incident id of its own.
			key = "policy:headers"
			waitFor("the CSP report's event on the page", `[...document.querySelectorAll('#events .ev')].some(b => b.querySelector('.badge').textContent === 'headers' && b.textContent.includes('csp_violation'))`)
		} else {
			waitFor(tc.policy+" event on the page", fmt.Sprintf(`[...document.querySelectorAll('#events .ev')].some(b => b.querySelector('.incident').textContent === %q && b.querySelector('.badge').textContent === %q)`, id, tc.policy))
		}
		var shownMS float64
		if err := p.Eval(fmt.Sprintf(`window.__shown[%q] || 0`, key), &shownMS); err != nil || shownMS == 0 {
			t.Fatalf("%s: no time recorded for %s (%v)", tc.policy, id, err)
		}
		d := time.UnixMilli(int64(shownMS)).Sub(sent)
		if d > limit {
			t.Errorf("the %s refusal took %v to appear on the dashboard, want at most %v", tc.policy, d, limit)
		}
		slowest = max(slowest, d)
	}
	t.Logf("a refusal of each of %d policies: the slowest appeared after %v", len(cases), slowest)

	// The incident's details: clicking the login_protection event shows
	// its fields, the user among them.
	if err := p.Eval(`[...document.querySelectorAll('#events .ev')].find(b => b.querySelector('.badge').textContent === 'login_protection').click(); true`, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("the event's details", `!document.getElementById('detail').hidden && document.getElementById('detail-fields').textContent.includes('alice')`)
	if err := p.Eval(`document.getElementById('detail-close').click(); true`, nil); err != nil {
		t.Fatal(err)
	}

	// The account locked for this address shows under the lockouts, and
	// the page's Unlock button lifts it in the gateway.
	locked := func() int {
		resp, body := get(t, h.admin+"/login-locks?user=alice")
		if resp.StatusCode != 200 {
			t.Fatalf("GET /login-locks: %d %s", resp.StatusCode, body)
		}
		var ans struct {
			Locks []json.RawMessage `json:"locks"`
		}
		if err := json.Unmarshal([]byte(body), &ans); err != nil {
			t.Fatal(err)
		}
		return len(ans.Locks)
	}
	if locked() == 0 {
		t.Fatal("login protection locked nothing")
	}
	waitFor("the lockout with its Unlock button", `[...document.querySelectorAll('#locks button')].some(b => b.textContent.includes('Unlock'))`)
	// The per-policy counts follow from /stats, which the page reads
	// every 10 s.
	waitFor("the refusals counted by policy", `document.querySelectorAll('#windows tbody tr').length >= 10`)
	shots := map[string][]byte{}
	shoot := func(name string, w, hgt int64) {
		t.Helper()
		img, err := p.Screenshot(w, hgt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(img)); err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
		var fits bool
		if err := p.Eval(`document.documentElement.scrollWidth <= window.innerWidth`, &fits); err != nil || !fits {
			t.Errorf("%s: the page scrolls sideways at %d px (%v)", name, w, err)
		}
		shots[name] = img
	}
	shoot("events-dashboard-desktop", 1280, 900)
	shoot("events-dashboard-phone", 390, 844)
	if _, err := p.Screenshot(1280, 900); err != nil {
		t.Fatal(err)
	}
	if err := p.Eval(`[...document.querySelectorAll('#locks button')].find(b => b.textContent.includes('Unlock')).click(); true`, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for locked() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := locked(); n > 0 {
		t.Errorf("after Unlock on the page, %d locks remain", n)
	}

	var violations []string
	if err := p.Eval(`window.__csp`, &violations); err != nil || len(violations) > 0 {
		t.Errorf("CSP violations on the dashboard: %v (%v)", violations, err)
	}
	for _, m := range console() {
		if m.IsException() || m.Source == "security" || m.Type == "error" {
			t.Errorf("console: %s (%s)", m, m.URL)
		}
	}
	if os.Getenv("RAMPART_UPDATE_SCREENSHOTS") == "1" {
		for name, img := range shots {
			if err := os.WriteFile(filepath.Join("..", "docs", "images", name+".png"), img, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
