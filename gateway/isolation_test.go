package gateway_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// deployment is one gateway with its own users, keys and configuration.
type deployment struct {
	h   *harness
	dir string
}

// newDeployment starts a gateway with sessions, tokens, a per-IP limit
// and login protection on the Redis at redisURL; extra is added to its
// configuration. Its SQLite user store holds carol with roles.
func newDeployment(t *testing.T, upstream, redisURL, extra string, roles ...string) *deployment {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "rampart.db")
	seedUser(t, db, "carol", roles...)
	recordKey := filepath.Join(dir, "store.key")
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	if err := os.WriteFile(recordKey, k, 0o600); err != nil {
		t.Fatal(err)
	}
	signing := filepath.Join(dir, "ed25519.pem")
	writeEd25519(t, signing)
	y := fmt.Sprintf(`env: development
store: {sqlite: %q, redis: %q, key_file: %q, session_cache: 0s}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 5m, refresh_ttl: 24h, signing_key: %q}
login_protection: {max_failures_per_account: 3, delay: 1ms}
routes:
  - match: "GET /admin"
    roles: [admin]
  - match: "GET /limited"
    auth: none
    rate_limits: [{name: tight, key: ip, limit: 2, per: 1h}]
%s`, db, redisURL, recordKey, signing, extra)
	return &deployment{h: start(t, parse(t, upstream, y)), dir: dir}
}

func (d *deployment) post(t *testing.T, path, body string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", d.h.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return do(t, nil, req)
}

func (d *deployment) get(t *testing.T, path string, cookies ...*http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest("GET", d.h.url+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, _ := do(t, nil, req)
	return resp.StatusCode
}

// login logs carol in and returns the session cookie.
func (d *deployment) login(t *testing.T) *http.Cookie {
	t.Helper()
	resp, body := d.post(t, "/.rampart/login", fmt.Sprintf(`{"username":"carol","password":%q}`, testPassword))
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

// TestDeploymentsShareRedisSafely: two gateways with different users and
// keys on one real redis-server cannot use each other's sessions, refresh
// tokens, rate-limit budgets or lockouts; a session record edited in Redis
// is refused; two deployments claiming one namespace are refused at start.
func TestDeploymentsShareRedisSafely(t *testing.T) {
	t.Parallel()
	rd := testutil.StartRedis(t)
	up := echoUpstream(t)
	x := newDeployment(t, up.URL, rd.URL(), "", "admin")
	y := newDeployment(t, up.URL, rd.URL(), "")

	// Sessions.
	cx := x.login(t)
	if got := x.get(t, "/admin", cx); got != 200 {
		t.Fatalf("carol on X: /admin got %d", got)
	}
	if got := y.get(t, "/admin", cx); got == 200 {
		t.Error("X's session cookie opened Y's admin route")
	}
	cy := y.login(t)
	if got := y.get(t, "/admin", cy); got != 403 {
		t.Errorf("carol on Y (no admin role): /admin got %d, want 403", got)
	}

	// Refresh tokens.
	resp, body := x.post(t, "/.rampart/token", fmt.Sprintf(`{"username":"carol","password":%q}`, testPassword))
	var pair map[string]any
	_ = json.Unmarshal([]byte(body), &pair)
	refresh, _ := pair["refresh_token"].(string)
	if resp.StatusCode != 200 || refresh == "" {
		t.Fatalf("token on X: %d %s", resp.StatusCode, body)
	}
	if resp, body := y.post(t, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, refresh)); resp.StatusCode != 401 {
		t.Errorf("X's refresh token at Y: %d %s, want 401", resp.StatusCode, body)
	}
	if resp, _ := x.post(t, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, refresh)); resp.StatusCode != 200 {
		t.Errorf("X's refresh token at X after Y's attempt: %d, want 200 (Y must not have revoked it)", resp.StatusCode)
	}

	// Rate-limit budgets.
	for range 2 {
		if got := x.get(t, "/limited"); got != 200 {
			t.Fatalf("X /limited within budget: %d", got)
		}
	}
	if got := x.get(t, "/limited"); got != 429 {
		t.Errorf("X /limited over budget: %d, want 429", got)
	}
	if got := y.get(t, "/limited"); got != 200 {
		t.Errorf("Y /limited after X's budget ran out: %d, want 200", got)
	}

	// Lockouts.
	for range 4 {
		x.post(t, "/.rampart/login", `{"username":"carol","password":"wrong wrong wrong"}`)
	}
	if resp, _ := x.post(t, "/.rampart/login", fmt.Sprintf(`{"username":"carol","password":%q}`, testPassword)); resp.StatusCode != 429 {
		t.Errorf("X after failures: %d, want 429", resp.StatusCode)
	}
	if resp, _ := y.post(t, "/.rampart/login", fmt.Sprintf(`{"username":"carol","password":%q}`, testPassword)); resp.StatusCode != 200 {
		t.Errorf("Y while X has carol locked: %d, want 200", resp.StatusCode)
	}

	// A session record edited in Redis: Y's carol made admin by hand.
	rdb := rd.Client(t)
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "rampart:*:session:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("session keys: %v %v", keys, err)
	}
	edited := 0
	for _, k := range keys {
		raw, err := rdb.HGet(ctx, k, "rec").Result()
		if err != nil || strings.Contains(raw, `"admin"`) {
			continue
		}
		forged := strings.Replace(raw, `"roles":null`, `"roles":["admin"]`, 1)
		forged = strings.Replace(forged, `"roles":[]`, `"roles":["admin"]`, 1)
		if forged == raw {
			t.Fatalf("unexpected record shape: %s", raw)
		}
		if err := rdb.HSet(ctx, k, "rec", forged).Err(); err != nil {
			t.Fatal(err)
		}
		edited++
	}
	if edited == 0 {
		t.Fatal("no record of Y's carol to edit")
	}
	if got := y.get(t, "/admin", cy); got == 200 || got == 403 {
		t.Errorf("an edited session record: /admin got %d, want it refused as no session", got)
	}

	// A refresh family edited in Redis: Y's carol given the admin role.
	resp, body = y.post(t, "/.rampart/token", fmt.Sprintf(`{"username":"carol","password":%q}`, testPassword))
	pair = nil
	_ = json.Unmarshal([]byte(body), &pair)
	yRefresh, _ := pair["refresh_token"].(string)
	if resp.StatusCode != 200 || yRefresh == "" {
		t.Fatalf("token on Y: %d %s", resp.StatusCode, body)
	}
	fams, err := rdb.Keys(ctx, "rampart:*:token:f:*").Result()
	if err != nil || len(fams) == 0 {
		t.Fatalf("family keys: %v %v", fams, err)
	}
	for _, k := range fams {
		ident, err := rdb.HGet(ctx, k, "ident").Result()
		if err != nil || strings.Contains(ident, "admin") {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(ident), &m)
		m["roles"] = []string{"admin"}
		forged, _ := json.Marshal(m)
		if err := rdb.HSet(ctx, k, "ident", string(forged)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if resp, body := y.post(t, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, yRefresh)); resp.StatusCode != 401 {
		t.Errorf("an edited refresh family: %d %s, want 401", resp.StatusCode, body)
	}

	// Explicit namespaces: two deployments with different keys in one
	// namespace are refused.
	_ = newDeployment(t, up.URL, rd.URL(), "") // another with its own derived namespace starts fine
	dir := t.TempDir()
	db := filepath.Join(dir, "rampart.db")
	seedUser(t, db, "carol")
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		if err := os.WriteFile(p, k, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := func(key string) string {
		return fmt.Sprintf("env: development\nstore: {sqlite: %q, redis: %q, key_file: %q, namespace: shop}\nauth: {sessions: {idle_timeout: 30m, absolute_timeout: 12h}}\n", db, rd.URL(), key)
	}
	first := mk("a.key")
	g1, err := gateway.New(parse(t, up.URL, cfg(first)), gateway.Options{})
	if err != nil {
		t.Fatalf("first deployment in namespace shop: %v", err)
	}
	t.Cleanup(func() { _ = g1.Close() })
	g2, err := gateway.New(parse(t, up.URL, cfg(first)), gateway.Options{})
	if err != nil {
		t.Fatalf("a replica (same key) in namespace shop: %v", err)
	}
	_ = g2.Close()
	if g3, err := gateway.New(parse(t, up.URL, cfg(mk("b.key"))), gateway.Options{}); err == nil {
		_ = g3.Close()
		t.Error("a second deployment (another key) started in namespace shop")
	} else if !strings.Contains(err.Error(), "store.namespace") {
		t.Errorf("refusal does not name store.namespace: %v", err)
	}
}
