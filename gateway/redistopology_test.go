package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// replicaSet is a number of real gateway processes sharing one Redis
// deployment (any topology) and one SQLite user file.
type replicaSet struct {
	bases []string
	logs  []*testutil.Buffer
}

// startReplicas starts n `rampart serve` processes with store.redis set to
// redisURL, sessions, tokens, a shared record key and a rate limit of
// limit requests an hour on GET /public. Users are in postgresDSN when it
// is set (the caller creates erin there), else in an SQLite file the
// replicas share, with erin created.
func startReplicas(t *testing.T, n int, redisURL string, limit int, postgresDSN string) *replicaSet {
	t.Helper()
	up := echoUpstream(t)
	bin := testutil.BuildRampart(t)
	dir := t.TempDir()
	users := fmt.Sprintf("postgres: %q", postgresDSN)
	if postgresDSN == "" {
		db := filepath.Join(dir, "rampart.db")
		seedUser(t, db, "erin")
		users = fmt.Sprintf("sqlite: %q", db)
	}
	keyPath := filepath.Join(dir, "ed25519.pem")
	writeEd25519(t, keyPath)
	recordKey := filepath.Join(dir, "store.key")
	if err := os.WriteFile(recordKey, bytes.Repeat([]byte("k"), 32), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := &replicaSet{}
	for i := range n {
		listen := testutil.FreeAddr(t)
		cfg := filepath.Join(dir, fmt.Sprintf("r%d.yaml", i))
		body := fmt.Sprintf(`listen: %q
admin: {listen: "off"}
upstream: %q
env: development
store: {%s, redis: %q, redis_timeout: 1s, key_file: %q}
log: {access: false}
login_protection: {delay: 1ms}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 5m, refresh_ttl: 24h, signing_key: %q}
routes:
  - match: "GET /public"
    auth: none
    rate_limits: [{name: shared, key: route, limit: %d, per: 1h}]
  - match: "GET /notes"
`, listen, up.URL, users, redisURL, recordKey, keyPath, limit)
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
		if !testutil.WaitFor(20*time.Second, func() bool {
			resp, err := http.Get(base + "/healthz-probe")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		}) {
			t.Fatalf("replica %d did not start:\n%s", i, logs)
		}
		rs.bases = append(rs.bases, base)
		rs.logs = append(rs.logs, logs)
	}
	return rs
}

func (rs *replicaSet) post(t *testing.T, i int, path, body string, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", rs.bases[i]+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return do(t, nil, req)
}

func (rs *replicaSet) notes(t *testing.T, i int, cookie *http.Cookie) int {
	t.Helper()
	resp, _ := do(t, nil, withCookie("GET", rs.bases[i]+"/notes", cookie))
	return resp.StatusCode
}

// login makes a session on replica i.
func (rs *replicaSet) login(t *testing.T, i int) *http.Cookie {
	t.Helper()
	ck := sessionLogin(t, rs.bases[i], "erin")
	return &http.Cookie{Name: ck.Name, Value: ck.Value}
}

// tokenPair gets an access and a refresh token on replica i.
func (rs *replicaSet) tokenPair(t *testing.T, i int) (access, refresh string) {
	t.Helper()
	resp, body := rs.post(t, i, "/.rampart/token", fmt.Sprintf(`{"username":"erin","password":%q}`, testPassword), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("token on replica %d: %d %s", i, resp.StatusCode, body)
	}
	var pair struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(body), &pair); err != nil {
		t.Fatal(err)
	}
	return pair.Access, pair.Refresh
}

// checkShared proves the replicas share one state: a session made on one
// works on the other and a logout on one ends it on both, an access token
// issued by one is accepted by the other, a refresh token rotated on one
// cannot be replayed on the other, and a rate limit of limit requests
// holds exactly across both.
func (rs *replicaSet) checkShared(t *testing.T, limit int) {
	t.Helper()
	sess := rs.login(t, 0)
	if got := rs.notes(t, 1, sess); got != 200 {
		t.Errorf("session from replica 0 on replica 1: got %d, want 200", got)
	}
	if resp, body := rs.post(t, 1, "/.rampart/logout", "", sess); resp.StatusCode/100 != 2 && resp.StatusCode != 303 {
		t.Fatalf("logout on replica 1: %d %s", resp.StatusCode, body)
	}
	if !testutil.WaitFor(3*time.Second, func() bool { return rs.notes(t, 0, sess) == 401 }) {
		t.Errorf("after logout on replica 1, replica 0 still accepts the session")
	}
	access, old := rs.tokenPair(t, 0)
	req := withCookie("GET", rs.bases[1]+"/notes", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if resp, _ := do(t, nil, req); resp.StatusCode != 200 {
		t.Errorf("access token from replica 0 on replica 1: got %d, want 200", resp.StatusCode)
	}
	resp, body := rs.post(t, 1, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, old), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("refresh on replica 1: %d %s", resp.StatusCode, body)
	}
	next := between(body, `"refresh_token":"`, `"`)
	// The answer "was lost": the retry on replica 0 gets the same token.
	if resp, body := rs.post(t, 0, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, old), nil); resp.StatusCode != 200 || between(body, `"refresh_token":"`, `"`) != next {
		t.Errorf("retrying the refresh on replica 0: got %d %s, want 200 with the same refresh token", resp.StatusCode, body)
	}
	if resp, body := rs.post(t, 0, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, next), nil); resp.StatusCode != 200 {
		t.Fatalf("refresh with the successor on replica 0: %d %s", resp.StatusCode, body)
	}
	if resp, _ := rs.post(t, 0, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, old), nil); resp.StatusCode != 401 {
		t.Errorf("replaying a used refresh token on replica 0: got %d, want 401", resp.StatusCode)
	}
	allowed := 0
	for i := range 2 * limit {
		resp, _ := do(t, nil, withCookie("GET", rs.bases[i%len(rs.bases)]+"/public", nil))
		switch resp.StatusCode {
		case 200:
			allowed++
		case 429:
		default:
			t.Fatalf("rate-limited request %d: got %d", i, resp.StatusCode)
		}
	}
	if allowed != limit {
		t.Errorf("a limit of %d across two replicas let %d requests through", limit, allowed)
	}
}

// TestRedisCluster runs two gateway processes on a real three-node Redis
// Cluster: the rate-limit and login-protection scripts, sessions (whose
// keys live in different slots) and refresh tokens all work there and are
// shared exactly.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	rc := testutil.StartRedisCluster(t, 3)
	const limit = 10
	rs := startReplicas(t, 2, rc.URL(), limit, "")
	rs.checkShared(t, limit)
	// Login protection's script ran on the cluster too: a wrong password
	// is a 401, not a store error.
	if resp, body := rs.post(t, 1, "/.rampart/login", `{"username":"erin","password":"wrong password entirely"}`, nil); resp.StatusCode != 401 {
		t.Errorf("wrong password on the cluster: got %d %s", resp.StatusCode, body)
	}
	for i, l := range rs.logs {
		if s := l.String(); strings.Contains(s, "CROSSSLOT") || strings.Contains(s, "store unavailable") {
			t.Errorf("replica %d logged store errors on the cluster:\n%s", i, s)
		}
	}
}

// TestRedisSentinel runs two gateway processes on a master found through
// Sentinel, shares their state, then fails the master over to its replica
// under load: no session or refresh token made before the failover is
// lost, every request during it is answered (success or the documented
// 503 of the failure policy, never an error of another kind), and both
// replicas follow the new master without a restart.
func TestRedisSentinel(t *testing.T) {
	t.Parallel()
	rsn := testutil.StartRedisSentinel(t)
	const limit = 10
	rs := startReplicas(t, 2, rsn.URL(), limit, "")
	rs.checkShared(t, limit)

	sess := rs.login(t, 0)
	_, refresh := rs.tokenPair(t, 1)
	rsn.WaitReplicated(t)

	var stop atomic.Bool
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for !stop.Load() {
				req := withCookie("GET", rs.bases[w%2]+"/notes", sess)
				resp, err := client.Do(req)
				code := 0
				if err == nil {
					code = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				statuses[code]++
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	rsn.Failover(t)
	// Both replicas follow the new master: sessions read and written
	// there work again.
	for i := range rs.bases {
		if !testutil.WaitFor(20*time.Second, func() bool { return rs.notes(t, i, sess) == 200 }) {
			t.Errorf("replica %d: the session made before the failover no longer works", i)
		}
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	for code, n := range statuses {
		if code != 200 && code != 503 {
			t.Errorf("during the failover %d requests got %d; want only 200 or the failure policy's 503 (all: %v)", n, code, statuses)
		}
	}
	if statuses[200] == 0 {
		t.Errorf("no request succeeded during the failover: %v", statuses)
	}
	if resp, body := rs.post(t, 0, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, refresh), nil); resp.StatusCode != 200 {
		t.Errorf("refresh token made before the failover: got %d %s", resp.StatusCode, body)
	}
	// A new session is written to the new master and shared.
	fresh := rs.login(t, 1)
	if got := rs.notes(t, 0, fresh); got != 200 {
		t.Errorf("session made after the failover on the other replica: got %d", got)
	}
	t.Logf("statuses during the failover: %v", statuses)
}
