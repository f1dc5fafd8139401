package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/sqldb"
)

const testPassword = "correct horse battery staple 42"

// seedUser creates a user in the SQLite file the gateway will use.
func seedUser(t *testing.T, dbPath, name string, roles ...string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := password.NewHasher(password.Params{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, users.User{Name: name, Roles: roles, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

func authConfig(t *testing.T, upstream string) (yaml, db string) {
	db = filepath.Join(t.TempDir(), "rampart.db")
	return fmt.Sprintf(`store: {sqlite: %q}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 5m, refresh_ttl: 24h}
env: development
login_protection: {delay: 1ms}
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /notes"
  - match: "GET /admin"
    roles: [admin]
  - match: "GET /maybe"
    auth: optional
`, db), db
}

func TestSessionsThroughGateway(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	y, db := authConfig(t, up.URL)
	seedUser(t, db, "alice", "editor")
	h := start(t, parse(t, up.URL, y))
	client := &http.Client{Jar: newJar(t), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Anonymous: the API gets 401 with WWW-Authenticate, a browser is sent
	// to the login page, a public route passes with spoofed identity
	// headers stripped.
	req, _ := http.NewRequest("GET", h.url+"/notes", nil)
	resp, body := do(t, client, req)
	assertNeutral(t, resp, body, 401)
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	req, _ = http.NewRequest("GET", h.url+"/notes", nil)
	req.Header.Set("Accept", "text/html")
	resp, _ = do(t, client, req)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/.rampart/login") {
		t.Errorf("browser: got %d to %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest("GET", h.url+"/public", nil)
	req.Header.Set("X-Rampart-User", "admin")
	req.Header.Set("X-Rampart-Roles", "admin")
	resp, body = do(t, client, req)
	if s := decodeSeen(t, body); resp.StatusCode != 200 || s.Header.Get("X-Rampart-User") != "" || s.Header.Get("X-Rampart-Roles") != "" {
		t.Errorf("public route: got %d, upstream identity %q %q, want stripped", resp.StatusCode, s.Header.Get("X-Rampart-User"), s.Header.Get("X-Rampart-Roles"))
	}

	// A wrong password and an unknown user get the same answer.
	login := func(user, pw string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
		req.Header.Set("Content-Type", "application/json")
		return do(t, client, req)
	}
	r1, b1 := login("alice", "wrong password entirely")
	r2, b2 := login("mallory", "wrong password entirely")
	if r1.StatusCode != 401 || r2.StatusCode != 401 || strip(b1) != strip(b2) {
		t.Errorf("failed logins differ: %d %q vs %d %q", r1.StatusCode, b1, r2.StatusCode, b2)
	}

	// Log in; the session works and the identity reaches the upstream,
	// with client-sent copies replaced.
	resp, body = login("alice", testPassword)
	if resp.StatusCode != 200 {
		t.Fatalf("login: got %d %s", resp.StatusCode, body)
	}
	var sessionCookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-rampart-session" {
			sessionCookie = ck
		}
	}
	if sessionCookie == nil || !sessionCookie.Secure || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode || sessionCookie.Path != "/" || sessionCookie.Domain != "" {
		t.Fatalf("session cookie: got %+v", sessionCookie)
	}
	// Go's cookie jar keeps Secure cookies for https only; send it by hand.
	authed := func(path string, spoof bool) (*http.Response, string) {
		req, _ := http.NewRequest("GET", h.url+path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie.Name, Value: sessionCookie.Value})
		if spoof {
			req.Header.Set("X-Rampart-User", "root")
			req.Header.Set("X-Rampart-Roles", "admin")
		}
		return do(t, nil, req)
	}
	resp, body = authed("/notes", true)
	if resp.StatusCode != 200 {
		t.Fatalf("with session: got %d %s", resp.StatusCode, body)
	}
	if s := decodeSeen(t, body); s.Header.Get("X-Rampart-User") != "alice" || s.Header.Get("X-Rampart-Roles") != "editor" {
		t.Errorf("identity upstream: got %q %q, want alice/editor", s.Header.Get("X-Rampart-User"), s.Header.Get("X-Rampart-Roles"))
	}
	if resp, _ := authed("/admin", false); resp.StatusCode != 403 {
		t.Errorf("missing role: got %d, want 403", resp.StatusCode)
	}
	if resp, body := authed("/maybe", false); resp.StatusCode != 200 || decodeSeen(t, body).Header.Get("X-Rampart-User") != "alice" {
		t.Errorf("optional route with session: got %d", resp.StatusCode)
	}
	// Log out: the same cookie no longer works.
	req, _ = http.NewRequest("POST", h.url+"/.rampart/logout", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie.Name, Value: sessionCookie.Value})
	if resp, body := do(t, nil, req); resp.StatusCode/100 != 2 && resp.StatusCode != 303 {
		t.Fatalf("logout: got %d %s", resp.StatusCode, body)
	}
	if resp, _ := authed("/notes", false); resp.StatusCode != 401 {
		t.Errorf("after logout: got %d, want 401", resp.StatusCode)
	}
}

// strip removes the incident id from a problem body, so two can be
// compared.
func strip(body string) string {
	var p map[string]any
	if json.Unmarshal([]byte(body), &p) != nil {
		return body
	}
	delete(p, "incident")
	b, _ := json.Marshal(p)
	return string(b)
}

func TestTokensThroughGateway(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	y, db := authConfig(t, up.URL)
	seedUser(t, db, "bob", "admin")
	h := start(t, parse(t, up.URL, y))
	tokenReq := func(body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", h.url+"/.rampart/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, b := do(t, nil, req)
		var out map[string]any
		_ = json.Unmarshal([]byte(b), &out)
		return resp, out
	}
	resp, pair := tokenReq(fmt.Sprintf(`{"username":"bob","password":%q}`, testPassword))
	if resp.StatusCode != 200 || pair["access_token"] == nil || pair["refresh_token"] == nil || pair["token_type"] != "Bearer" {
		t.Fatalf("password grant: got %d %v", resp.StatusCode, pair)
	}
	bearer := func(tok string) int {
		req, _ := http.NewRequest("GET", h.url+"/admin", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, _ := do(t, nil, req)
		return resp.StatusCode
	}
	access := pair["access_token"].(string)
	if got := bearer(access); got != 200 {
		t.Errorf("bearer token: got %d, want 200", got)
	}
	if got := bearer(access[:len(access)-4] + "AAAA"); got != 401 {
		t.Errorf("forged token: got %d, want 401", got)
	}
	// Refresh rotates; replaying the old refresh token once its successor
	// was used revokes the family.
	old := pair["refresh_token"].(string)
	resp, next := tokenReq(fmt.Sprintf(`{"refresh_token":%q}`, old))
	if resp.StatusCode != 200 || next["refresh_token"] == old {
		t.Fatalf("refresh: got %d %v", resp.StatusCode, next)
	}
	resp, next = tokenReq(fmt.Sprintf(`{"refresh_token":%q}`, next["refresh_token"]))
	if resp.StatusCode != 200 {
		t.Fatalf("refresh with the successor: got %d %v", resp.StatusCode, next)
	}
	if resp, _ := tokenReq(fmt.Sprintf(`{"refresh_token":%q}`, old)); resp.StatusCode != 401 {
		t.Errorf("replayed refresh token: got %d, want 401", resp.StatusCode)
	}
	if resp, _ := tokenReq(fmt.Sprintf(`{"refresh_token":%q}`, next["refresh_token"])); resp.StatusCode != 401 {
		t.Errorf("the family after reuse: got %d, want 401 (revoked)", resp.StatusCode)
	}
	resp, body := get(t, h.url+"/.well-known/jwks.json")
	if resp.StatusCode != 200 || !strings.Contains(body, `"keys"`) || strings.Contains(body, `"d"`) {
		t.Errorf("JWKS: got %d %s", resp.StatusCode, body)
	}
}

func TestLoginProtectionThroughGateway(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	y, db := authConfig(t, up.URL)
	seedUser(t, db, "carol")
	h := start(t, parse(t, up.URL, strings.Replace(y, "login_protection: {delay: 1ms}", "login_protection: {max_failures_per_account_ip: 2, delay: 1ms}", 1)))
	var last int
	start := time.Now()
	for range 4 {
		req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(`{"username":"carol","password":"not the password at all"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, _ := do(t, nil, req)
		last = resp.StatusCode
		time.Sleep(5 * time.Millisecond)
	}
	if last != 429 {
		t.Errorf("after repeated failures: got %d, want 429 (locked)", last)
	}
	// Even the right password is refused while locked.
	req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":"carol","password":%q}`, testPassword)))
	req.Header.Set("Content-Type", "application/json")
	if resp, _ := do(t, nil, req); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("locked account, right password: got %d, want 429 with Retry-After", resp.StatusCode)
	}
	_ = start
}

// TestProductionGuardForAuth: production refuses to start with an
// over-long session, an insecure session cookie, or tokens without a
// signing key; development starts with warnings.
func TestProductionGuardForAuth(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "rampart.db")
	for _, tc := range []struct{ name, yaml, key string }{
		{"session lifetime", "auth: {sessions: {idle_timeout: 30m, absolute_timeout: 365d}}\n", "auth.sessions.absolute_timeout"},
		{"insecure cookie", "auth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h, unsafe_insecure_cookie: true}}\n", "auth.sessions.unsafe_insecure_cookie"},
		{"no signing key", "auth: {tokens: {access_ttl: 15m, refresh_ttl: 24h}}\n", "auth.tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := fmt.Sprintf("store: {sqlite: %q}\n%s", db, tc.yaml)
			_, err := gateway.New(parse(t, "http://127.0.0.1:1", y), gateway.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("production: got %v, want a refusal naming %s", err, tc.key)
			}
			g, err := gateway.New(parse(t, "http://127.0.0.1:1", y+"env: development\n"), gateway.Options{})
			if err != nil {
				t.Fatalf("development: got %v, want a start with warnings", err)
			}
			g.Close()
		})
	}
}
