package login_test

import (
	"context"
	"encoding/json"
	"errors"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/login"
	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/bruteforce"
	"github.com/rampartsec/rampart/internal/sqldb"
	"github.com/rampartsec/rampart/internal/testutil"
)

const goodPassword = "violet kettle marches north"

type fixture struct {
	svc      *login.Service
	users    *users.SQLStore
	sessions *session.Manager
	handler  http.Handler
	hasher   *password.Hasher
}

// newFixture builds a login service over SQLite with users alice (admin),
// bob, and locked lou, all with goodPassword.
func newFixture(t testing.TB, c login.Config) *fixture {
	t.Helper()
	return newFixtureWith(t, c, nil)
}

// newFixtureWith is newFixture with the user store wrapped by wrap.
func newFixtureWith(t testing.TB, c login.Config, wrap func(users.Store) users.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, filepath.Join(t.TempDir(), "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	us, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := session.NewSQLStore(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := session.New(ss, session.Config{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := password.NewHasher(password.Params{})
	hash, err := h.Hash(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []users.User{
		{Name: "alice", Roles: []string{"admin"}, PasswordHash: hash},
		{Name: "bob", PasswordHash: hash},
		{Name: "lou", PasswordHash: hash, Locked: true},
	} {
		if err := us.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	c.Users, c.Sessions = us, sm
	if wrap != nil {
		c.Users = wrap(us)
	}
	if c.Hasher == nil {
		c.Hasher = h
	}
	svc, err := login.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, users: us, sessions: sm, handler: svc.Handler(), hasher: h}
}

type response struct {
	*httptest.ResponseRecorder
}

func (f *fixture) do(t testing.TB, method, target, ctype, body string, cookies []*http.Cookie, hdr map[string]string) response {
	t.Helper()
	r := httptest.NewRequest(method, "http://gw.test"+target, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	return response{w}
}

func (f *fixture) loginJSON(t testing.TB, user, pw string, cookies ...*http.Cookie) response {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return f.do(t, "POST", "/.rampart/login", "application/json", string(b), cookies, nil)
}

func sessionCookie(t testing.TB, f *fixture, w response) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == f.sessions.CookieName() && c.Value != "" {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("no session cookie set: %v", w.Header())
	return nil
}

func TestLoginJSONAndMe(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	w := f.loginJSON(t, "Alice", goodPassword)
	if w.Code != 200 {
		t.Fatalf("status: got %d, want 200\n%s", w.Code, w.Body)
	}
	var body struct {
		User    string
		Roles   []string
		Method  string
		Expires time.Time
		Next    string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.User != "alice" || !slices.Equal(body.Roles, []string{"admin"}) || body.Method != "session" || body.Next != "/" || body.Expires.IsZero() {
		t.Errorf("got %+v", body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", w.Header().Get("Cache-Control"))
	}
	c := sessionCookie(t, f, w)
	me := f.do(t, "GET", "/.rampart/me", "", "", []*http.Cookie{c}, nil)
	if me.Code != 200 {
		t.Fatalf("me: got %d, want 200", me.Code)
	}
	var mb struct {
		User     string
		Sessions []session.Info
	}
	if err := json.Unmarshal(me.Body.Bytes(), &mb); err != nil {
		t.Fatal(err)
	}
	if mb.User != "alice" || len(mb.Sessions) != 1 || !mb.Sessions[0].Current || mb.Sessions[0].IP != "192.0.2.1" {
		t.Errorf("me: got %s", me.Body)
	}
	if strings.Contains(me.Body.String(), c.Value) {
		t.Error("me leaks the session id")
	}
	if anon := f.do(t, "GET", "/.rampart/me", "", "", nil, nil); anon.Code != 401 || anon.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous me: got %d %q, want 401 with a challenge", anon.Code, anon.Header().Get("WWW-Authenticate"))
	}
}

func TestLoginFormRedirects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{RedirectOrigins: []string{"https://app.example.com"}})
	tests := []struct {
		name, next, want string
	}{
		{"safe path", "/notes?id=3", "/notes?id=3"},
		{"allowed origin", "https://app.example.com/home", "https://app.example.com/home"},
		{"no next", "", "/"},
		{"protocol-relative", "//evil.com", "/"},
		{"backslash", "/\\evil.com", "/"},
		{"scheme-relative trick", "https:evil.com", "/"},
		{"encoded slashes", "/%2F%2Fevil.com", "/"},
		{"encoded backslash", "/%5Cevil.com", "/"},
		{"tab inside", "/\t/evil.com", "/"},
		{"newline inside", "/\n/evil.com", "/"},
		{"javascript", "javascript:alert(document.cookie)", "/"},
		{"other origin", "https://evil.com/", "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"username": {"bob"}, "password": {goodPassword}, "next": {tc.next}}
			w := f.do(t, "POST", "/.rampart/login", "application/x-www-form-urlencoded", form.Encode(), nil, nil)
			if w.Code != 303 {
				t.Fatalf("status: got %d, want 303\n%s", w.Code, w.Body)
			}
			if got := w.Header().Get("Location"); got != tc.want {
				t.Errorf("Location: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	w := f.do(t, "GET", "/.rampart/login?next="+url.QueryEscape(`/notes?a="><script>`), "", "", nil, nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	page := w.Body.String()
	for _, want := range []string{`<html lang="en">`, `<label for="username">`, `<label for="password">`,
		`autocomplete="username"`, `autocomplete="current-password"`, `type="password"`, `method="post"`, `action="/.rampart/login"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, `"><`) {
		t.Error("next is reflected unescaped")
	}
	if w.Header().Get("X-Frame-Options") != "DENY" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers: got %v", w.Header())
	}
	// An unsafe next is not carried into the form.
	w = f.do(t, "GET", "/.rampart/login?next=//evil.com", "", "", nil, nil)
	if strings.Contains(w.Body.String(), "evil.com") {
		t.Error("unsafe next carried into the form")
	}
	// A failed form login re-renders the form with an alert.
	form := url.Values{"username": {"bob"}, "password": {"nope"}}
	w = f.do(t, "POST", "/.rampart/login", "application/x-www-form-urlencoded", form.Encode(), nil, nil)
	if w.Code != 401 || !strings.Contains(w.Body.String(), `role="alert"`) || !strings.Contains(w.Body.String(), "invalid username or password") {
		t.Errorf("failed form login: got %d\n%s", w.Code, w.Body)
	}
}

var incident = regexp.MustCompile(`"incident":"[^"]*"`)

// TestFailedLoginsLookAlike: an unknown user, a wrong password, a locked
// account, an invalid user name: one status, one body.
func TestFailedLoginsLookAlike(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	cases := map[string][2]string{
		"unknown user":      {"nobody", goodPassword},
		"wrong password":    {"alice", "violet kettle marches south"},
		"locked account":    {"lou", goodPassword},
		"invalid user name": {"not a name", goodPassword},
	}
	var first string
	for name, c := range cases {
		w := f.loginJSON(t, c[0], c[1])
		if w.Code != 401 {
			t.Errorf("%s: got %d, want 401", name, w.Code)
		}
		if len(w.Result().Cookies()) != 0 {
			t.Errorf("%s: a cookie was set", name)
		}
		body := incident.ReplaceAllString(w.Body.String(), "")
		if first == "" {
			first = body
		} else if body != first {
			t.Errorf("%s: body differs:\n%s\nvs\n%s", name, body, first)
		}
	}
	if !strings.Contains(first, "invalid username or password") {
		t.Errorf("got %s", first)
	}
}

// TestFailedLoginTiming measures the median time of failed logins for an
// existing and a non-existing user, interleaved, through the HTTP handler.
// Without the dummy hash the unknown user would answer in microseconds
// against tens of milliseconds.
func TestFailedLoginTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement")
	}
	f := newFixture(t, login.Config{})
	const rounds = 21
	var known, unknown []time.Duration
	// The order within each pair is random: argon2id allocates 19 MiB per
	// check, so garbage collection falls on a regular beat, and a fixed
	// alternation would charge it to one side; see also runtime.GC below.
	order := make([]bool, 0, 2*rounds+2)
	for range rounds + 1 {
		first := mathrand.IntN(2) == 0
		order = append(order, first, !first)
	}
	for i, isKnown := range order {
		user := "mallory"
		if isKnown {
			user = "alice"
		}
		// Collect before timing, so that a collection triggered by the
		// previous check is charged to neither side.
		runtime.GC()
		start := time.Now()
		w := f.loginJSON(t, user, "wrong password number one")
		d := time.Since(start)
		if w.Code != 401 {
			t.Fatalf("got %d, want 401", w.Code)
		}
		if i < 2 {
			continue // warm-up
		}
		if user == "alice" {
			known = append(known, d)
		} else {
			unknown = append(unknown, d)
		}
	}
	mk, mu := median(known), median(unknown)
	lk, lu := slices.Min(known), slices.Min(unknown)
	t.Logf("failed login, existing vs unknown user: median %v vs %v (%+.1f%%), fastest %v vs %v (%+.1f%%)",
		mk, mu, 100*relDiff(mk, mu), lk, lu, 100*relDiff(lk, lu))
	// The dummy hash makes the work identical, so the fastest samples —
	// the ones least disturbed by other processes on a shared machine —
	// agree closely. Without it the unknown user would answer thousands of
	// times faster; the bound leaves room for noise and for the race
	// detector while catching that.
	bound := 0.3
	if testutil.RaceEnabled {
		bound = 0.5 // the race detector's own noise on a shared machine
	}
	if d := relDiff(lk, lu); d > bound || d < -bound {
		t.Errorf("fastest failed logins differ by %+.1f%%: existing %v, unknown %v", 100*d, lk, lu)
	}
}

// relDiff is (a-b)/min(a,b).
func relDiff(a, b time.Duration) float64 { return float64(a-b) / float64(min(a, b)) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// fakeProtection records calls and refuses when told to.
type fakeProtection struct {
	mu       sync.Mutex
	calls    []string
	refuse   bool
	checkErr error
}

func (p *fakeProtection) Check(_ context.Context, account string, ip netip.Addr) (bool, time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "check "+account+" "+ip.String())
	return !p.refuse, 90 * time.Second, p.checkErr
}

func (p *fakeProtection) Fail(_ context.Context, account string, ip netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "fail "+account+" "+ip.String())
	return nil
}

func (p *fakeProtection) Succeed(_ context.Context, account string, ip netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "succeed "+account+" "+ip.String())
	return nil
}

func (p *fakeProtection) Cancel(_ context.Context, account string, ip netip.Addr) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, "cancel "+account+" "+ip.String())
	return nil
}

func (p *fakeProtection) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls
	p.calls = nil
	return c
}

func TestProtectionHook(t *testing.T) {
	t.Parallel()
	p := &fakeProtection{}
	f := newFixture(t, login.Config{Protection: p})

	f.loginJSON(t, "Alice", "wrong")
	f.loginJSON(t, "ghost", "wrong")
	f.loginJSON(t, "alice", goodPassword)
	want := []string{
		"check alice 192.0.2.1", "fail alice 192.0.2.1",
		"check ghost 192.0.2.1", "fail ghost 192.0.2.1",
		"check alice 192.0.2.1", "succeed alice 192.0.2.1",
	}
	if got := p.take(); !slices.Equal(got, want) {
		t.Errorf("got calls\n%q\nwant\n%q", got, want)
	}

	p.refuse = true
	start := time.Now()
	w := f.loginJSON(t, "alice", goodPassword)
	if w.Code != 429 || w.Header().Get("Retry-After") != "90" {
		t.Errorf("throttled: got %d Retry-After %q, want 429 and 90", w.Code, w.Header().Get("Retry-After"))
	}
	if len(w.Result().Cookies()) != 0 {
		t.Error("throttled login set a cookie")
	}
	if body := w.Body.String(); !strings.Contains(body, "try again in 2 minutes") {
		t.Errorf("throttled JSON does not say how long: %s", body)
	}
	form := f.do(t, "POST", "/.rampart/login", "application/x-www-form-urlencoded", "username=alice&password=x", nil, nil)
	if body := form.Body.String(); form.Code != 429 || !strings.Contains(body, "Try again in 2 minutes") || !strings.Contains(body, `name="username"`) {
		t.Errorf("throttled form: got %d %s, want the form saying how long", form.Code, body)
	}
	if d := time.Since(start); d > 20*time.Millisecond*10 {
		t.Logf("throttled answer took %v", d)
	}
	if got := p.take(); !slices.Equal(got, []string{"check alice 192.0.2.1", "check alice 192.0.2.1"}) {
		t.Errorf("throttled: got calls %q, want only the checks", got)
	}

	p.refuse, p.checkErr = false, errors.New("redis down")
	if w := f.loginJSON(t, "alice", goodPassword); w.Code != 503 || len(w.Result().Cookies()) != 0 {
		t.Errorf("protection failure: got %d, want 503 and no session", w.Code)
	}
}

func TestFixationThroughLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	// The attacker logs in as bob and plants bob's cookie in the victim's
	// browser; the victim logs in as alice.
	planted := sessionCookie(t, f, f.loginJSON(t, "bob", goodPassword))
	w := f.loginJSON(t, "alice", goodPassword, planted)
	fresh := sessionCookie(t, f, w)
	if fresh.Value == planted.Value {
		t.Fatal("login kept the planted session id")
	}
	me := f.do(t, "GET", "/.rampart/me", "", "", []*http.Cookie{planted}, nil)
	if me.Code != 401 {
		t.Errorf("planted cookie after victim's login: got %d, want 401", me.Code)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	c1 := sessionCookie(t, f, f.loginJSON(t, "alice", goodPassword))
	c2 := sessionCookie(t, f, f.loginJSON(t, "alice", goodPassword))
	c3 := sessionCookie(t, f, f.loginJSON(t, "alice", goodPassword))
	bobs := sessionCookie(t, f, f.loginJSON(t, "bob", goodPassword))
	alive := func(c *http.Cookie) bool {
		return f.do(t, "GET", "/.rampart/me", "", "", []*http.Cookie{c}, nil).Code == 200
	}

	if w := f.do(t, "GET", "/.rampart/logout", "", "", []*http.Cookie{c1}, nil); w.Code != 405 || !alive(c1) {
		t.Errorf("GET logout: got %d, alive %v; want 405 and still logged in", w.Code, alive(c1))
	}
	// End one other session from the list.
	var me struct{ Sessions []session.Info }
	_ = json.Unmarshal(f.do(t, "GET", "/.rampart/me", "", "", []*http.Cookie{c1}, nil).Body.Bytes(), &me)
	var other string
	for _, s := range me.Sessions {
		if !s.Current {
			other = s.ID
			break
		}
	}
	w := f.do(t, "POST", "/.rampart/logout", "application/json", `{"session":"`+other+`"}`, []*http.Cookie{c1}, nil)
	if w.Code != 200 || !alive(c1) || strings.TrimSpace(w.Body.String()) != `{"ended":1}` {
		t.Errorf("revoke other: got %d %s, alive %v", w.Code, w.Body, alive(c1))
	}
	if alive(c2) && alive(c3) {
		t.Error("revoke other: both other sessions still alive")
	}

	w = f.do(t, "POST", "/.rampart/logout", "", "", []*http.Cookie{c1}, nil)
	if w.Code != 200 || alive(c1) {
		t.Errorf("logout: got %d, alive %v; want 200 and logged out", w.Code, alive(c1))
	}
	if set := w.Header().Get("Set-Cookie"); !strings.Contains(set, "Max-Age=0") {
		t.Errorf("logout did not clear the cookie: %q", set)
	}

	c4 := sessionCookie(t, f, f.loginJSON(t, "alice", goodPassword))
	form := url.Values{"everywhere": {"1"}}
	w = f.do(t, "POST", "/.rampart/logout", "application/x-www-form-urlencoded", form.Encode(), []*http.Cookie{c4}, nil)
	if w.Code != 303 || w.Header().Get("Location") != "/.rampart/login?signed_out=1" {
		t.Errorf("form logout everywhere: got %d %q, want 303 to the login page saying so", w.Code, w.Header().Get("Location"))
	}
	for i, c := range []*http.Cookie{c2, c3, c4} {
		if alive(c) {
			t.Errorf("alice's session %d survived log out everywhere", i)
		}
	}
	if !alive(bobs) {
		t.Error("bob was logged out")
	}
}

func TestCrossSiteRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	body := `{"username":"bob","password":"` + goodPassword + `"}`
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"cross-site fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site sibling", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"foreign origin", map[string]string{"Origin": "https://evil.com"}, 403},
		{"null origin", map[string]string{"Origin": "null"}, 403},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://gw.test"}, 200},
		{"same origin by Origin only", map[string]string{"Origin": "http://gw.test"}, 200},
		{"no browser headers", nil, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := f.do(t, "POST", "/.rampart/login", "application/json", body, nil, tc.hdr)
			if w.Code != tc.want {
				t.Errorf("got %d, want %d", w.Code, tc.want)
			}
		})
	}
	c := sessionCookie(t, f, f.loginJSON(t, "bob", goodPassword))
	if w := f.do(t, "POST", "/.rampart/logout", "", "", []*http.Cookie{c}, map[string]string{"Sec-Fetch-Site": "cross-site"}); w.Code != 403 {
		t.Errorf("cross-site logout: got %d, want 403", w.Code)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	tests := []struct {
		name, method, ctype, body string
		want                      int
	}{
		{"text/plain", "POST", "text/plain", `{"username":"bob","password":"x"}`, 415},
		{"no content type", "POST", "", `{}`, 415},
		{"bad JSON", "POST", "application/json", `{"username":`, 400},
		{"unknown field", "POST", "application/json", `{"username":"bob","password":"x","admin":true}`, 400},
		{"two objects", "POST", "application/json", `{"username":"bob","password":"x"}{}`, 400},
		{"missing password", "POST", "application/json", `{"username":"bob"}`, 400},
		{"too large", "POST", "application/json", `{"username":"bob","password":"` + strings.Repeat("x", 10000) + `"}`, 400},
		{"PUT", "PUT", "application/json", `{}`, 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := f.do(t, tc.method, "/.rampart/login", tc.ctype, tc.body, nil, nil)
			if w.Code != tc.want {
				t.Errorf("got %d, want %d\n%s", w.Code, tc.want, w.Body)
			}
			if strings.Contains(w.Body.String(), "json:") || strings.Contains(w.Body.String(), "http:") {
				t.Errorf("internal error text leaked: %s", w.Body)
			}
		})
	}
	if w := f.do(t, "GET", "/.rampart/other", "", "", nil, nil); w.Code != 404 {
		t.Errorf("unknown path: got %d, want 404", w.Code)
	}
}

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	ctx := context.Background()
	old, _ := password.NewHasher(password.Params{Time: 3})
	h, _ := old.Hash("an older password hash")
	if err := f.users.Create(ctx, users.User{Name: "olga", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	before, _ := f.users.Lookup(ctx, "olga")
	if w := f.loginJSON(t, "olga", "an older password hash"); w.Code != 200 {
		t.Fatalf("got %d, want 200", w.Code)
	}
	after, _ := f.users.Lookup(ctx, "olga")
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("got hash %q, want current parameters", after.PasswordHash)
	}
	if !after.PasswordChanged.Equal(before.PasswordChanged) {
		t.Error("a rehash counted as a password change")
	}
	if w := f.loginJSON(t, "olga", "an older password hash"); w.Code != 200 {
		t.Errorf("after rehash: got %d, want 200", w.Code)
	}
}

// brokenUsers fails every call, like a database that went away.
type brokenUsers struct{ users.Store }

func (brokenUsers) Lookup(context.Context, string) (users.User, error) {
	return users.User{}, errors.New("database is locked")
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	ctx := context.Background()
	ip := netip.MustParseAddr("198.51.100.7")
	id, err := f.svc.VerifyPassword(ctx, "ALICE", goodPassword, ip)
	if err != nil || id.Subject != "alice" || !id.HasRole("admin") {
		t.Fatalf("got %+v, %v", id, err)
	}
	for _, c := range [][2]string{{"alice", "wrong"}, {"nobody", goodPassword}, {"lou", goodPassword}, {"", ""}, {strings.Repeat("a", 300), "x"}} {
		if _, err := f.svc.VerifyPassword(ctx, c[0], c[1], ip); !errors.Is(err, login.ErrInvalidCredentials) {
			t.Errorf("%q: got %v, want ErrInvalidCredentials", c[0], err)
		}
	}
	// A corrupted stored hash refuses the login like a wrong password.
	if err := f.users.Create(ctx, users.User{Name: "mangled", PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$x$y"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := f.svc.VerifyPassword(ctx, "mangled", goodPassword, ip); !errors.Is(err, login.ErrInvalidCredentials) {
		t.Errorf("malformed stored hash: got %v, want ErrInvalidCredentials", err)
	}
	if d := time.Since(start); d < time.Millisecond {
		t.Errorf("malformed stored hash answered in %v, faster than a real check", d)
	}
	svc, err := login.New(login.Config{Users: brokenUsers{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.VerifyPassword(ctx, "alice", goodPassword, ip)
	if err == nil || errors.Is(err, login.ErrInvalidCredentials) {
		t.Errorf("store failure: got %v, want a system error", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t, login.Config{})
	tests := []struct {
		name string
		c    login.Config
	}{
		{"no users", login.Config{}},
		{"bad origin", login.Config{Users: f.users, RedirectOrigins: []string{"evil.com"}}},
		{"unsafe default redirect", login.Config{Users: f.users, DefaultRedirect: "//evil.com"}},
		{"negative concurrency", login.Config{Users: f.users, MaxConcurrentHashes: -1}},
		{"bad prefix", login.Config{Users: f.users, Prefix: "//x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := login.New(tc.c); err == nil || !strings.HasPrefix(err.Error(), "login: ") {
				t.Errorf("got %v, want a login: error", err)
			}
		})
	}
}

func TestWaitText(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		300 * time.Millisecond: "1 second", time.Second: "1 second", 1500 * time.Millisecond: "2 seconds",
		40 * time.Second: "40 seconds", time.Minute: "60 seconds", 90 * time.Second: "2 minutes",
		15 * time.Minute: "15 minutes", time.Hour: "1 hour", 3 * time.Hour: "3 hours",
	} {
		if got := login.WaitText(d); got != want {
			t.Errorf("WaitText(%v): got %q, want %q", d, got, want)
		}
	}
}

// outage is a user store that fails while down is set, as PostgreSQL does
// when it is stopped.
type outage struct {
	users.Store
	down atomic.Bool
}

var errConnRefused = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

func (o *outage) Lookup(ctx context.Context, name string) (users.User, error) {
	if o.down.Load() {
		return users.User{}, errConnRefused
	}
	return o.Store.Lookup(ctx, name)
}

// bruteforceProtection is the gateway's adapter of a real Protector.
type bruteforceProtection struct{ p *bruteforce.Protector }

func (b bruteforceProtection) Check(ctx context.Context, account string, ip netip.Addr) (bool, time.Duration, error) {
	err := b.p.Check(ctx, account, ip)
	var locked *bruteforce.LockedError
	if errors.As(err, &locked) {
		return false, locked.RetryAfter, nil
	}
	return err == nil, 0, err
}
func (b bruteforceProtection) Fail(ctx context.Context, account string, ip netip.Addr) error {
	b.p.Fail(ctx, account, ip)
	return nil
}
func (b bruteforceProtection) Succeed(ctx context.Context, account string, ip netip.Addr) error {
	return b.p.Succeed(ctx, account, ip)
}
func (b bruteforceProtection) Cancel(ctx context.Context, account string, ip netip.Addr) error {
	return b.p.Cancel(ctx, account, ip)
}

// TestUserStoreOutageIsNeverAPasswordFailure: while the user store is down
// every login answers 503 with Retry-After; none of those attempts counts,
// so once it is back the right password from the same address logs in at
// once, and wrong passwords still lock as before.
func TestUserStoreOutageIsNeverAPasswordFailure(t *testing.T) {
	t.Parallel()
	// A long delay, so the slow hashing of a race-enabled build cannot
	// outlast it.
	p, err := bruteforce.New(bruteforce.Config{Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	o := &outage{}
	f := newFixtureWith(t, login.Config{Protection: bruteforceProtection{p}}, func(s users.Store) users.Store {
		o.Store = s
		return o
	})
	o.down.Store(true)
	for i := range 30 {
		w := f.loginJSON(t, "alice", goodPassword)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Fatalf("attempt %d during the outage: got %d Retry-After %q, want 503 with Retry-After", i+1, w.Code, w.Header().Get("Retry-After"))
		}
		if strings.Contains(w.Body.String(), "connection refused") {
			t.Fatalf("the store's error reached the client: %s", w.Body)
		}
	}
	o.down.Store(false)
	if w := f.loginJSON(t, "alice", goodPassword); w.Code != http.StatusOK {
		t.Fatalf("right password after the outage: got %d (Retry-After %q), want 200", w.Code, w.Header().Get("Retry-After"))
	}
	// The protection itself is intact: a guesser is still slowed down.
	if w := f.loginJSON(t, "bob", "wrong"); w.Code != http.StatusUnauthorized {
		t.Fatalf("first wrong password: got %d, want 401", w.Code)
	}
	if w := f.loginJSON(t, "bob", goodPassword); w.Code != http.StatusTooManyRequests {
		t.Fatalf("at once after a wrong password: got %d, want 429", w.Code)
	}
}

func TestUserStoreOutageCancelsTheAttempt(t *testing.T) {
	t.Parallel()
	p := &fakeProtection{}
	o := &outage{}
	f := newFixtureWith(t, login.Config{Protection: p}, func(s users.Store) users.Store {
		o.Store = s
		return o
	})
	o.down.Store(true)
	_, err := f.svc.VerifyPassword(context.Background(), "alice", goodPassword, netip.MustParseAddr("192.0.2.1"))
	if !errors.Is(err, login.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	want := []string{"check alice 192.0.2.1", "cancel alice 192.0.2.1"}
	if got := p.take(); !slices.Equal(got, want) {
		t.Errorf("got calls %q, want %q", got, want)
	}
}
