package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/testutil"
)

// faultMargin is how much later than its configured bound a request may be
// answered while a store hangs: scheduling on a loaded two-core machine,
// more under the race detector.
func faultMargin() time.Duration {
	if testutil.RaceEnabled {
		return 2 * time.Second
	}
	return time.Second
}

// timed sends req without a cookie jar and returns the status and how long
// the answer took.
func timed(t *testing.T, req *http.Request) (int, time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t0 := time.Now()
	resp, _ := do(t, client, req)
	return resp.StatusCode, time.Since(t0)
}

// sessionLogin logs name in with a JSON login and returns the session
// cookie.
func sessionLogin(t *testing.T, base, name string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, name, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	resp, body := do(t, &http.Client{Timeout: 30 * time.Second}, req)
	if resp.StatusCode != 200 {
		t.Fatalf("login: got %d %s", resp.StatusCode, body)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-rampart-session" {
			return ck
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

func withCookie(method, u string, ck *http.Cookie) *http.Request {
	req, _ := http.NewRequest(method, u, nil)
	if ck != nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return req
}

// TestRedisThatHangs puts a proxy that stops forwarding between the gateway
// and a real Redis: Redis accepts connections and never answers. Each
// policy must answer within store.redis_timeout plus a margin, the way its
// on_store_error says, and everything must work again, with nothing lost,
// once Redis answers again.
func TestRedisThatHangs(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	px := testutil.StartFaultProxy(t, rd.Addr)
	up := echoUpstream(t)
	db := filepath.Join(t.TempDir(), "rampart.db")
	seedUser(t, db, "alice")
	const timeout = 300 * time.Millisecond
	h := start(t, parse(t, up.URL, fmt.Sprintf(`env: development
store: {sqlite: %q, redis: "redis://%s/0", redis_timeout: 300ms, session_cache: 0s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
login_protection: {delay: 1ms}
rate_limits:
  - {name: open, limit: 1000, per: 1m, on_store_error: fail_open}
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /strict"
    auth: none
    rate_limits: [{name: strict, limit: 1000, per: 1m, on_store_error: fail_closed}]
  - match: "GET /notes"
`, db, px.Addr)))

	alice := sessionLogin(t, h.url, "alice")
	for _, path := range []string{"/public", "/strict"} {
		if code, _ := timed(t, withCookie("GET", h.url+path, nil)); code != 200 {
			t.Fatalf("%s before the hang: got %d", path, code)
		}
	}
	if code, _ := timed(t, withCookie("GET", h.url+"/notes", alice)); code != 200 {
		t.Fatalf("session before the hang: got %d", code)
	}

	px.SetMode(testutil.Hang)
	loginReq := func() *http.Request {
		req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":"alice","password":%q}`, testPassword)))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"fail_open rate limit decides locally", func() *http.Request { return withCookie("GET", h.url+"/public", nil) }, 200},
		{"fail_closed rate limit refuses", func() *http.Request { return withCookie("GET", h.url+"/strict", nil) }, 503},
		{"session in Redis fails closed", func() *http.Request { return withCookie("GET", h.url+"/notes", alice) }, 503},
		{"login protection fails closed", loginReq, 503},
	}
	for _, tc := range cases {
		code, took := timed(t, tc.req())
		if code != tc.want {
			t.Errorf("while Redis hangs, %s: got %d, want %d", tc.name, code, tc.want)
		}
		// Each request may make more than one bounded call (the global
		// rule, then the route's).
		if limit := 3*timeout + faultMargin(); took > limit {
			t.Errorf("while Redis hangs, %s: answered after %v, want within %v", tc.name, took, limit)
		}
	}

	px.SetMode(testutil.Forward)
	// Recovery needs no restart: each policy tries its store again after
	// its retry interval (a few seconds) and reconnects.
	for _, tc := range cases {
		ok := testutil.WaitFor(15*time.Second, func() bool {
			code, _ := timed(t, tc.req())
			return code == 200
		})
		if !ok {
			t.Errorf("after the hang, %s: never answered 200 again", tc.name)
		}
	}
}

// TestPostgresThatHangs does the same with PostgreSQL holding users and
// sessions: store.sql_timeout bounds each call, authenticated requests get
// 503 while the database hangs, public ones are untouched, and the session
// created before the hang works again after it.
func TestPostgresThatHangs(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	seed := pg.NewDatabase(t)
	ctx := context.Background()
	st, err := users.NewSQLStore(ctx, seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := password.NewHasher(password.Params{})
	hash, _ := hasher.Hash(testPassword)
	if err := st.Create(ctx, users.User{Name: "alice", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	var dbName string
	if err := seed.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	px := testutil.StartFaultProxy(t, pg.Addr)
	u, _ := url.Parse(pg.DSN)
	u.Host, u.Path = px.Addr, "/"+dbName
	up := echoUpstream(t)
	const timeout = 300 * time.Millisecond
	h := start(t, parse(t, up.URL, fmt.Sprintf(`env: development
store: {postgres: %q, sql_timeout: 300ms}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
login_protection: {delay: 1ms}
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /notes"
`, u.String())))

	alice := sessionLogin(t, h.url, "alice")
	if code, _ := timed(t, withCookie("GET", h.url+"/notes", alice)); code != 200 {
		t.Fatalf("session before the hang: got %d", code)
	}

	px.SetMode(testutil.Hang)
	for range 3 {
		code, took := timed(t, withCookie("GET", h.url+"/notes", alice))
		if code != 503 {
			t.Errorf("while PostgreSQL hangs, a session request: got %d, want 503", code)
		}
		if limit := 2*timeout + faultMargin(); took > limit {
			t.Errorf("while PostgreSQL hangs, a session request was answered after %v, want within %v", took, limit)
		}
	}
	req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":"alice","password":%q}`, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	code, took := timed(t, req)
	if code != 503 || took > 3*timeout+faultMargin() {
		t.Errorf("while PostgreSQL hangs, a login: got %d after %v, want 503 within %v", code, took, 3*timeout+faultMargin())
	}
	if code, took := timed(t, withCookie("GET", h.url+"/public", nil)); code != 200 || took > faultMargin() {
		t.Errorf("while PostgreSQL hangs, a public request: got %d after %v, want 200 at once", code, took)
	}

	px.SetMode(testutil.Forward)
	ok := testutil.WaitFor(15*time.Second, func() bool {
		code, _ := timed(t, withCookie("GET", h.url+"/notes", alice))
		return code == 200
	})
	if !ok {
		t.Fatal("the session written before the hang did not work again after it")
	}
}
