package dashboard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/dashboard"
	"github.com/rampartsec/rampart/internal/admintest"
	"github.com/rampartsec/rampart/internal/testutil"
)

// xss is what an attacker puts in the fields it controls: were it parsed
// as markup, an img element would appear (and its handler would be
// refused by the CSP, which the test would also see).
const xss = `<img src=x onerror=alert(1)>`

// screenshotDirs are where the screenshots are written:
// RAMPART_SCREENSHOTS=DIR, and docs/images with RAMPART_UPDATE_SCREENSHOTS=1.
func screenshotDirs() []string {
	var dirs []string
	if d := os.Getenv("RAMPART_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	if os.Getenv("RAMPART_UPDATE_SCREENSHOTS") == "1" {
		dirs = append(dirs, filepath.Join("..", "docs", "images"))
	}
	return dirs
}

// cspWatch runs before the page's own script in every document and keeps
// each CSP violation the browser reports.
const cspWatch = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});`

// seed fills the stand-in API with a day of traffic: a series over the
// last hour, windows, top lists, findings, a locked account and events of
// several policies, one carrying markup in the fields an attacker sets.
func seed(api *admintest.API, now time.Time) {
	var s admintest.Stats
	s.Instance = "gw-1.example:4242"
	s.Series.StepSeconds = 60
	policies := []string{"ratelimit", "csrf", "access", "validation", "auth", "login_protection"}
	for i := 59; i >= 0; i-- {
		t := now.Truncate(time.Minute).Add(-time.Duration(i) * time.Minute)
		req := int64(400 + 150*((i*7)%5) + 10*(i%3))
		bp := map[string]int64{}
		var refused int64
		for j, p := range policies {
			n := int64((i*(j+3))%7) + int64(j%2)
			if i%13 == j {
				n += 12
			}
			bp[p] = n
			refused += n
		}
		s.Series.Points = append(s.Series.Points, admintest.Point{Time: t.UTC(), Counts: admintest.Counts{Requests: req, Refused: refused, ByPolicy: bp}})
	}
	s.Windows = map[string]admintest.Counts{
		"1m":  {Requests: 612, Refused: 31, ByPolicy: map[string]int64{"ratelimit": 20, "csrf": 6, "access": 5}},
		"15m": {Requests: 8840, Refused: 402, ByPolicy: map[string]int64{"ratelimit": 250, "csrf": 80, "access": 40, "validation": 22, "login_protection": 10}},
		"1h":  {Requests: 35120, Refused: 1610, ByPolicy: map[string]int64{"ratelimit": 1000, "csrf": 300, "access": 160, "validation": 90, "login_protection": 40, "auth": 20}},
		"24h": {Requests: 801234, Refused: 30211, ByPolicy: map[string]int64{"ratelimit": 20000, "csrf": 5000, "access": 3000, "validation": 1500, "login_protection": 511, "auth": 200}},
	}
	s.Top = map[string][]admintest.Top{
		"client_ip": {{Key: "203.0.113.9", Count: 812}, {Key: "198.51.100.23", Count: 301}, {Key: "2001:db8::7", Count: 77}},
		"route":     {{Key: "POST /login", Count: 522}, {Key: "GET /api/items/{id}", Count: 300}},
		"user":      {{Key: "alice", Count: 40}, {Key: xss, Count: 3}},
	}
	s.Config.LastReload = now.Add(-42 * time.Minute).UTC()
	s.Config.ReloadOK = true
	s.Config.Findings = []admintest.Finding{{ID: "headers.csp-report-only", Severity: "medium", Title: "CSP is in report-only mode"}}
	s.Upstream.URL = "http://127.0.0.1:3000"
	s.Upstream.Healthy = true
	api.SetStats(s)
	api.SetTick(admintest.Counts{Requests: 20, Refused: 3, ByPolicy: map[string]int64{"ratelimit": 2, "csrf": 1}})
	api.SetLocks("alice", []bruteforce.Lock{
		{By: bruteforce.ByAccount, Until: now.Add(14 * time.Minute), Failures: 10, Lockout: true},
		{By: bruteforce.ByAccountIP, Client: "203.0.113.9", Until: now.Add(30 * time.Minute), Failures: 25, Lockout: true},
	})
	base := now.Add(-5 * time.Minute)
	for i, ev := range []admintest.Event{
		{Policy: "access", Rule: "deny", Decision: "deny", Status: 403, Route: "GET /admin", Method: "GET", ClientIP: "198.51.100.23", Network: "198.51.100.0/24", Reason: "client address is on the deny list"},
		{Policy: "validation", Rule: "request-body", Decision: "deny", Status: 400, Route: "POST /api/items", Method: "POST", ClientIP: "203.0.113.9", Reason: "body does not match the schema", Fields: map[string]string{"pointer": "/price"}},
		{Policy: "login_protection", Rule: "account", Decision: "deny", Status: 429, Route: "POST /.rampart/login", Method: "POST", ClientIP: "203.0.113.9", User: "alice", Reason: "account locked after 10 failures"},
		{Policy: "csrf", Rule: "origin", Decision: "deny", Status: 403, Route: "POST /api/items", Method: "POST", ClientIP: "192.0.2.44", User: xss, Reason: xss, Fields: map[string]string{"origin": "https://evil.example", "note": xss}},
	} {
		ev.ID = fmt.Sprintf("01SEED%020d", i)
		ev.Instance = "gw-1.example:4242"
		ev.Time = base.Add(time.Duration(i) * time.Minute).UTC()
		api.Push(ev)
	}
}

// TestBrowserDashboard drives the dashboard in real headless Chromium
// against the stand-in admin API: the token form on a 401, the panels
// filled from /stats, an event pushed on the stream shown within 2 s,
// its details on a click, the unlock button's request, attacker markup
// shown as text, filters, no horizontal scroll at phone width, and not one
// CSP violation. With RAMPART_SCREENSHOTS=DIR (or
// RAMPART_UPDATE_SCREENSHOTS=1, for docs/images) it writes the
// screenshots.
func TestBrowserDashboard(t *testing.T) {
	b := testutil.StartChromium(t)
	api := admintest.New("s3cret-admin-token")
	api.TickEvery = 250 * time.Millisecond
	seed(api, time.Now())
	srv := httptest.NewServer(api.Handler(dashboard.Handler()))
	t.Cleanup(srv.Close)

	p := b.NewPage(t)
	console := p.Console(t)
	if err := p.OnNewDocument(cspWatch); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Screenshot(1280, 800); err != nil { // the desktop viewport
		t.Fatal(err)
	}
	if err := p.Navigate(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	text := func() string {
		t.Helper()
		s, err := p.Text()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	eval := func(js string) {
		t.Helper()
		if err := p.Eval(js, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what, js string) {
		t.Helper()
		if err := p.WaitFor(js); err != nil {
			t.Fatalf("%s: %v\npage says:\n%s", what, err, text())
		}
	}

	// Without the cookie every API call answers 401: the token form.
	waitFor("the token form", `!document.getElementById('login').hidden && document.getElementById('app').hidden`)
	eval(`document.getElementById('token').value = 'wrong'; document.getElementById('login-form').requestSubmit(); true`)
	waitFor("a refused token", `!document.getElementById('login-error').hidden`)
	if s := text(); !strings.Contains(s, "That token was refused") {
		t.Errorf("refused token: page says %q", s)
	}
	eval(`document.getElementById('token').value = 's3cret-admin-token'; document.getElementById('login-form').requestSubmit(); true`)
	waitFor("the dashboard after signing in", `!!document.getElementById('app') && !document.getElementById('app').hidden && document.getElementById('conn').textContent === 'live'`)
	cookies, err := p.Cookies()
	if err != nil {
		t.Fatal(err)
	}
	var sawCookie bool
	for _, c := range cookies {
		if c.Name == "rampart_admin" {
			sawCookie = true
			if !c.HTTPOnly {
				t.Error("the session cookie is readable by script")
			}
		}
	}
	if !sawCookie {
		t.Error("no rampart_admin cookie after signing in")
	}
	var jsCookies string
	if err := p.Eval(`document.cookie`, &jsCookies); err != nil || strings.Contains(jsCookies, "rampart_admin") {
		t.Errorf("document.cookie = %q (%v): the page can read the session", jsCookies, err)
	}
	var sessionPost bool
	for _, r := range api.Requests() {
		if r.Method == "POST" && r.Path == "/session" {
			sessionPost = true
			if r.SecFetchSite != "same-origin" {
				t.Errorf("POST /session: Sec-Fetch-Site %q, want same-origin", r.SecFetchSite)
			}
		}
		if r.Path == "/session" && r.Query.Get("token") != "" {
			t.Error("the token went into a URL")
		}
	}
	if !sessionPost {
		t.Error("the token form did not POST /session")
	}

	// The panels are filled from /stats.
	waitFor("the top offenders", `document.getElementById('top-client_ip').textContent.includes('203.0.113.9')`)
	page := text()
	for _, want := range []string{
		"gw-1.example:4242", // instance
		"801,234", "30,211", // 24h window
		"ratelimit", "login_protection", // per-policy table
		"POST /login", "198.51.100.23", // top routes and IPs
		"applied", "CSP is in report-only mode", // configuration
		"http://127.0.0.1:3000", "healthy", // upstream
		"01SEED00000000000000000001",     // a seeded event's incident id
		"body does not match the schema", // its reason
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	waitFor("the per-policy chart of the seeded series", `document.querySelectorAll('#chart-policy rect.bar').length >= 60 && document.querySelectorAll('#legend li').length === 6`)
	waitFor("a live tick", `document.getElementById('live').textContent.includes('refused')`)

	// Attacker-chosen values are text, never markup.
	var xssOK bool
	js := fmt.Sprintf(`(() => {
	  const x = %q;
	  const reasons = [...document.querySelectorAll('#events .reason')].map(e => e.textContent);
	  const users = [...document.querySelectorAll('#events .user, #top-user .key')].map(e => e.textContent);
	  return reasons.includes(x) && users.filter(u => u === x).length === 2 && document.querySelectorAll('img').length === 0;
	})()`, xss)
	if err := p.Eval(js, &xssOK); err != nil || !xssOK {
		t.Errorf("the markup in an event is not shown as text (%v)", err)
	}

	// An event pushed on the stream appears within 2 s.
	limit := 2 * time.Second
	if testutil.RaceEnabled {
		limit = 5 * time.Second
	}
	if busy, load := testutil.Overloaded(); busy {
		limit = 5 * time.Second
		t.Logf("load average %.1f: allowing %v for an event to appear", load, limit)
	}
	// When each incident id first shows in the list, by the browser's
	// clock (the machine's, as the test's is): the test's own polling,
	// slow on a busy machine, is not counted.
	eval(`window.__shown = {}; new MutationObserver(() => {
	  for (const e of document.querySelectorAll('#events .incident')) {
	    if (!(e.textContent in window.__shown)) window.__shown[e.textContent] = Date.now();
	  }
	}).observe(document.getElementById('events'), {childList: true, subtree: true}); true`)
	shownAfter := func(id string, pushed time.Time) time.Duration {
		t.Helper()
		waitFor("event "+id, fmt.Sprintf(`%q in window.__shown`, id))
		var at int64
		if err := p.Eval(fmt.Sprintf(`window.__shown[%q]`, id), &at); err != nil {
			t.Fatal(err)
		}
		return time.UnixMilli(at).Sub(pushed)
	}
	pushed := time.Now()
	ev := api.Push(admintest.Event{
		ID: "01LIVEEVENT0000000000000042", Instance: "gw-2.example:77", Policy: "ratelimit", Rule: "api-per-ip",
		Decision: "deny", Status: 429, Route: "GET /api/items/{id}", Method: "GET", ClientIP: "203.0.113.77",
		Network: "203.0.113.0/24", User: "mallory", Reason: "rate limit api-per-ip exceeded",
		Fields: map[string]string{"limit": "100", "per": "1m", "retry_after": "12"},
	})
	if d := shownAfter("01LIVEEVENT0000000000000042", pushed); d > limit {
		t.Errorf("the pushed event took %v to appear, want at most %v", d, limit)
	} else {
		t.Logf("the pushed event appeared after %v", d)
	}
	// An event of each policy, one after another, each shown within 2 s.
	var slowest time.Duration
	for i, policy := range []string{"access", "cors", "csrf", "ratelimit", "login_protection", "auth", "validation",
		"shield", "headers", "canonical", "routes", "limits"} {
		id := fmt.Sprintf("01POLICY%02d%s", i, strings.ToUpper(policy))
		pushed := time.Now()
		api.Push(admintest.Event{ID: id, Policy: policy, Decision: "deny", Status: 400 + i, Method: "GET",
			Route: "GET /p/" + policy, ClientIP: "203.0.113.50", Reason: policy + " refused the request"})
		d := shownAfter(id, pushed)
		waitFor(policy+" event's badge", fmt.Sprintf(`[...document.querySelectorAll('#events .ev')].some(b => b.querySelector('.incident').textContent === %q && b.querySelector('.badge').textContent === %q)`, id, policy))
		if d > limit {
			t.Errorf("the %s event took %v to appear, want at most %v", policy, d, limit)
		}
		slowest = max(slowest, d)
	}
	t.Logf("an event of each of 12 policies: the slowest appeared after %v", slowest)
	var instance string
	if err := p.Eval(`[...document.querySelectorAll('#events .ev')].find(b => b.querySelector('.incident').textContent === '01LIVEEVENT0000000000000042').querySelector('.instance').textContent`, &instance); err != nil || instance != "gw-2.example:77" {
		t.Errorf("an event of another instance does not name it: %q (%v)", instance, err)
	}

	// A click shows every field of it.
	eval(`[...document.querySelectorAll('#events .ev')].find(b => b.querySelector('.incident').textContent === '01LIVEEVENT0000000000000042').click(); true`)
	waitFor("the event's details", `!document.getElementById('detail').hidden`)
	var detail string
	if err := p.Eval(`document.getElementById('detail').innerText`, &detail); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	var fields map[string]any
	_ = json.Unmarshal(raw, &fields)
	for k, v := range fields {
		if k == "fields" || k == "time" {
			continue
		}
		if s := fmt.Sprint(v); !strings.Contains(detail, s) {
			t.Errorf("the details do not show %s = %s:\n%s", k, s, detail)
		}
	}
	for k, v := range ev.Fields {
		if !strings.Contains(detail, "fields."+k) || !strings.Contains(detail, v) {
			t.Errorf("the details do not show fields.%s = %s", k, v)
		}
	}
	if !strings.Contains(detail, ev.Time.Format(time.RFC3339)[:19]) {
		t.Errorf("the details do not show the event's time %s:\n%s", ev.Time, detail)
	}
	eval(`document.getElementById('detail-close').click(); true`)
	waitFor("the details closed", `document.getElementById('detail').hidden`)

	// The XSS event's details too are text.
	eval(`[...document.querySelectorAll('#events .ev')].find(b => b.querySelector('.incident').textContent === '01SEED00000000000000000003').click(); true`)
	waitFor("the markup event's details", `!document.getElementById('detail').hidden && document.getElementById('detail').textContent.includes('fields.note')`)
	var imgs int
	if err := p.Eval(`document.querySelectorAll('img').length`, &imgs); err != nil || imgs != 0 {
		t.Errorf("%d img elements after showing the markup event's details (%v)", imgs, err)
	}
	eval(`document.getElementById('detail-close').click(); true`)

	// The locked account, found through the top users and the
	// login-protection event, is shown with an unlock button that asks the
	// API to lift its locks.
	waitFor("alice's locks", `!!document.querySelector('#locks button.unlock[data-user="alice"]')`)
	if s := text(); !strings.Contains(s, "every address it does not know") || !strings.Contains(s, "203.0.113.9") {
		t.Errorf("the locks are not described: %q", s)
	}
	eval(`document.querySelector('#locks button.unlock[data-user="alice"]').click(); true`)
	waitFor("the unlock", `document.getElementById('locks-status').textContent.includes('Unlocked alice') && !document.querySelector('#locks button.unlock[data-user="alice"]')`)
	var unlocked bool
	for _, r := range api.Requests() {
		if r.Path == "/login-locks/unlock" {
			unlocked = true
			if r.Method != "POST" || r.Query.Get("user") != "alice" || r.Auth != "cookie" || r.SecFetchSite != "same-origin" {
				t.Errorf("unlock request: %+v, want a same-origin POST with the cookie for user=alice", r)
			}
		}
	}
	if !unlocked {
		t.Error("the unlock button sent no request")
	}

	// A policy filter asks the API for that policy's events and stream.
	eval(`document.getElementById('f-policy').value = 'csrf'; document.getElementById('filters').requestSubmit(); true`)
	waitFor("the csrf filter", `location.search === '?policy=csrf' && [...document.querySelectorAll('#events .badge')].every(b => b.textContent === 'csrf') && document.querySelectorAll('#events .ev').length === 2 && document.getElementById('conn').textContent === 'live'`)
	var filteredEvents, filteredStream bool
	for _, r := range api.Requests() {
		if r.Query.Get("policy") == "csrf" {
			filteredEvents = filteredEvents || r.Path == "/events"
			filteredStream = filteredStream || r.Path == "/events/stream"
		}
	}
	if !filteredEvents || !filteredStream {
		t.Errorf("the filter did not reach the API: /events %v, /events/stream %v", filteredEvents, filteredStream)
	}
	api.Push(admintest.Event{ID: "01FILTEREDOUT", Policy: "ratelimit", Status: 429, Method: "GET", Route: "GET /api/notes", ClientIP: "203.0.113.5", Reason: "not csrf"})
	csrf := api.Push(admintest.Event{ID: "01FILTEREDIN", Policy: "csrf", Status: 403, Method: "POST", Route: "POST /api/notes", ClientIP: "203.0.113.5", Reason: "cross-site POST without a token"})
	waitFor("a csrf event under the filter", fmt.Sprintf(`document.getElementById('events').textContent.includes(%q)`, csrf.ID))
	waitFor("the live line under the filter", `document.getElementById('live').textContent.includes('(this filter)')`)
	if s := text(); strings.Contains(s, "01FILTEREDOUT") {
		t.Error("an event of another policy shows under the csrf filter")
	}
	eval(`document.getElementById('f-clear').click(); true`)
	waitFor("the cleared filter", `location.search === '' && document.getElementById('conn').textContent === 'live' && document.getElementById('events').textContent.includes('01LIVEEVENT0000000000000042')`)

	// Screenshots, and the widths: nothing scrolls sideways on a phone,
	// with or without the details open.
	dirs := screenshotDirs()
	shoot := func(name string, w, h int64) {
		t.Helper()
		img, err := p.Screenshot(w, h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(img)); err != nil || len(img) < 5000 {
			t.Fatalf("%s: not a screenshot (%d bytes, %v)", name, len(img), err)
		}
		var fits bool
		if err := p.Eval(`document.documentElement.scrollWidth <= window.innerWidth && document.body.scrollWidth <= window.innerWidth`, &fits); err != nil || !fits {
			var sw int
			_ = p.Eval(`document.documentElement.scrollWidth`, &sw)
			t.Errorf("%s: the page is %d px wide in a %d px window (%v)", name, sw, w, err)
		}
		for _, d := range dirs {
			if err := os.WriteFile(filepath.Join(d, name+".png"), img, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor("the charts redrawn without the filter", `document.querySelectorAll('#legend li').length > 3`)
	shoot("dashboard-desktop", 1280, 800)
	shoot("dashboard-phone", 390, 844)
	for _, w := range []int64{375, 320} {
		if _, err := p.Screenshot(w, 740); err != nil {
			t.Fatal(err)
		}
		var fits bool
		if err := p.Eval(`document.documentElement.scrollWidth <= window.innerWidth`, &fits); err != nil || !fits {
			t.Errorf("at %d px the page scrolls sideways (%v)", w, err)
		}
		var oneColumn bool
		if err := p.Eval(`getComputedStyle(document.querySelector('main')).gridTemplateColumns.split(' ').length === 1`, &oneColumn); err != nil || !oneColumn {
			t.Errorf("at %d px the page is not one column (%v)", w, err)
		}
	}
	eval(`document.querySelector('#events .ev').click(); true`)
	waitFor("the details at phone width", `!document.getElementById('detail').hidden`)
	var fits bool
	if err := p.Eval(`document.documentElement.scrollWidth <= window.innerWidth && document.getElementById('detail').getBoundingClientRect().right <= window.innerWidth`, &fits); err != nil || !fits {
		t.Errorf("at 320 px the details scroll sideways (%v)", err)
	}

	// Not one CSP violation, exception or failed resource but the 401s
	// before signing in.
	var violations []string
	if err := p.Eval(`window.__csp`, &violations); err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		t.Errorf("CSP violation: %s", v)
	}
	for _, m := range console() {
		if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") ||
			(m.Type == "error" && !strings.Contains(m.Text, "401")) {
			t.Errorf("console: %s (%s)", m, m.URL)
		}
	}
	// The watch itself works: a violation the page would commit is seen.
	eval(`document.body.setAttribute('style', 'color: red'); true`)
	waitFor("the CSP watch to see an inline style", `window.__csp.length > 0`)

	// Signing out drops the cookie: the reloaded page asks for the token.
	eval(`document.getElementById('logout').click(); true`)
	waitFor("the token form after signing out", `!!document.getElementById('login') && !document.getElementById('login').hidden && document.getElementById('app').hidden`)
	cookies, err = p.Cookies()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "rampart_admin" {
			t.Error("the session cookie is still set after signing out")
		}
	}
}

// TestBrowserDashboardOpenReads is the admin listener on loopback with a
// token configured: the panels load without signing in, the lockout panel
// says reading locks needs the token and offers the form, and after
// signing in the unlock button works.
func TestBrowserDashboardOpenReads(t *testing.T) {
	b := testutil.StartChromium(t)
	api := admintest.New("s3cret-admin-token")
	api.OpenReads = true
	seed(api, time.Now())
	srv := httptest.NewServer(api.Handler(dashboard.Handler()))
	t.Cleanup(srv.Close)
	p := b.NewPage(t)
	if err := p.OnNewDocument(cspWatch); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what, js string) {
		t.Helper()
		if err := p.WaitFor(js); err != nil {
			s, _ := p.Text()
			t.Fatalf("%s: %v\npage says:\n%s", what, err, s)
		}
	}
	waitFor("the panels without signing in", `!document.getElementById('app').hidden && document.getElementById('login').hidden && document.getElementById('events').textContent.includes('01SEED00000000000000000001')`)
	waitFor("the lockout panel asking for the token", `document.getElementById('locks-status').textContent === 'Reading login locks needs the admin token.' && !document.getElementById('locks-signin').hidden`)
	if err := p.Eval(`document.getElementById('locks-signin').click(); true`, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("the token form", `!document.getElementById('login').hidden && !document.getElementById('app').hidden`)
	if err := p.Eval(`document.getElementById('token').value = 's3cret-admin-token'; document.getElementById('login-form').requestSubmit(); true`, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("alice's unlock button after signing in", `!!document.querySelector('#locks button.unlock[data-user="alice"]') && document.getElementById('locks-signin').hidden`)
	var violations []string
	if err := p.Eval(`window.__csp`, &violations); err != nil || len(violations) != 0 {
		t.Errorf("CSP violations: %v (%v)", violations, err)
	}
}
