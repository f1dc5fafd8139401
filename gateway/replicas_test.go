package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/testutil"
)

// TestReplicasShareSessionsAndRevocations runs two real gateway processes
// with users in one real PostgreSQL and sessions and refresh tokens in one
// real Redis: a session made on one replica works on the other, a logout on
// one ends it on both, and a refresh token used on one cannot be replayed
// on the other.
func TestReplicasShareSessionsAndRevocations(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	rd := testutil.StartRedis(t)
	up := echoUpstream(t)
	bin := testutil.BuildRampart(t)

	ctx := context.Background()
	db := pg.Open(t)
	st, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := password.NewHasher(password.Params{})
	hash, _ := h.Hash(testPassword)
	if err := st.Create(ctx, users.User{Name: "erin", PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	keyPath := filepath.Join(dir, "ed25519.pem")
	writeEd25519(t, keyPath)
	recordKey := filepath.Join(dir, "store.key")
	if err := os.WriteFile(recordKey, bytes.Repeat([]byte("k"), 32), 0o600); err != nil {
		t.Fatal(err)
	}
	var bases []string
	for i := range 2 {
		listen := testutil.FreeAddr(t)
		cfg := filepath.Join(dir, fmt.Sprintf("r%d.yaml", i))
		body := fmt.Sprintf(`listen: %q
admin: {listen: "off"}
upstream: %q
store: {redis: %q, postgres: %q, key_file: %q}
log: {access: false}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 5m, refresh_ttl: 24h, signing_key: %q}
trusted_proxies: []
`, listen, up.URL, rd.URL(), pg.DSN, recordKey, keyPath)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--config", cfg)
		logs := &testutil.Buffer{}
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		base := "http://" + listen
		if !testutil.WaitFor(15*time.Second, func() bool {
			resp, err := http.Get(base + "/x")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		}) {
			t.Fatalf("replica %d did not start:\n%s", i, logs)
		}
		bases = append(bases, base)
	}
	post := func(base, path, body string, cookie *http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		return do(t, nil, req)
	}
	getWith := func(base string, cookie *http.Cookie) int {
		req, _ := http.NewRequest("GET", base+"/notes", nil)
		req.AddCookie(cookie)
		resp, _ := do(t, nil, req)
		return resp.StatusCode
	}
	// Sessions.
	resp, body := post(bases[0], "/.rampart/login", fmt.Sprintf(`{"username":"erin","password":%q}`, testPassword), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("login on replica 0: %d %s", resp.StatusCode, body)
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-rampart-session" {
			sess = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	if sess == nil {
		t.Fatal("no session cookie")
	}
	if got := getWith(bases[1], sess); got != 200 {
		t.Errorf("session from replica 0 on replica 1: got %d, want 200", got)
	}
	if resp, body := post(bases[1], "/.rampart/logout", "", sess); resp.StatusCode/100 != 2 && resp.StatusCode != 303 {
		t.Fatalf("logout on replica 1: %d %s", resp.StatusCode, body)
	}
	// Replica 0 caches sessions; the logout is announced over Redis and
	// reaches it within milliseconds.
	if !testutil.WaitFor(2*time.Second, func() bool { return getWith(bases[0], sess) == 401 }) {
		t.Errorf("after logout on replica 1, replica 0 still accepts the session")
	}
	// Refresh tokens.
	resp, body = post(bases[0], "/.rampart/token", fmt.Sprintf(`{"username":"erin","password":%q}`, testPassword), nil)
	var pair map[string]any
	_ = json.Unmarshal([]byte(body), &pair)
	if resp.StatusCode != 200 {
		t.Fatalf("token on replica 0: %d %s", resp.StatusCode, body)
	}
	old := pair["refresh_token"].(string)
	if resp, body := post(bases[1], "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, old), nil); resp.StatusCode != 200 {
		t.Fatalf("refresh on replica 1: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(bases[0], "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, old), nil); resp.StatusCode != 401 {
		t.Errorf("replaying a used refresh token on replica 0: got %d, want 401", resp.StatusCode)
	}
	// An access token from replica 0 is accepted by replica 1 (same key).
	req, _ := http.NewRequest("GET", bases[1]+"/notes", nil)
	req.Header.Set("Authorization", "Bearer "+pair["access_token"].(string))
	if resp, _ := do(t, nil, req); resp.StatusCode != 200 {
		t.Errorf("access token from replica 0 on replica 1: got %d, want 200", resp.StatusCode)
	}
}

// writeEd25519 writes a fresh Ed25519 private key, readable by its owner
// only.
func writeEd25519(t *testing.T, path string) {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
