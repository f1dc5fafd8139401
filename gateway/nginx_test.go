package gateway_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// startNginx runs a real nginx proxying to the given upstreams as the
// load-balancer section of docs/gateway.md recommends (retry on error or
// timeout, eject after 3 failures), passing the client's scheme on.
func startNginx(t *testing.T, upstreams []string) string {
	t.Helper()
	return startLoadBalancer(t, lbOptions{nextUpstream: "error timeout", maxFails: 3, forwardedProto: "$scheme"}, upstreams).url
}

// TestBehindNginx runs real nginx in front of two real Rampart replicas
// that share a real Redis and PostgreSQL. A replica stopped with SIGTERM
// drains (limits.shutdown_delay) and no request through nginx fails;
// while PostgreSQL is cut off, logins through nginx answer 503 with
// Retry-After and anonymous traffic is served; after it returns, the
// user logs in at once.
func TestBehindNginx(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	rd := testutil.StartRedis(t)
	seedPostgresUser(t, pg, "gail")
	proxy := testutil.StartCutProxy(t, "", pg.Addr)
	dsn := strings.Replace(pg.DSN, pg.Addr, proxy.Addr, 1)
	up := echoUpstream(t)
	bin := testutil.BuildRampart(t)
	dir := t.TempDir()
	recordKey := filepath.Join(dir, "store.key")
	if err := os.WriteFile(recordKey, []byte(strings.Repeat("k", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	var cmds []*exec.Cmd
	for i := range 2 {
		listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
		cfg := filepath.Join(dir, fmt.Sprintf("r%d.yaml", i))
		body := fmt.Sprintf(`env: development
listen: %q
admin: {listen: %q}
upstream: %q
trusted_proxies: [127.0.0.1/32]
store: {redis: %q, postgres: %q, key_file: %q, redis_timeout: 5s}
limits: {shutdown_delay: 2s}
log: {access: false}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
routes:
  - match: "GET /public"
    auth: none
`, listen, admin, up.URL, rd.URL(), dsn, recordKey)
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
		if !testutil.WaitFor(20*time.Second, func() bool {
			resp, err := http.Get("http://" + admin + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		}) {
			t.Fatalf("replica %d never ready:\n%s", i, logs)
		}
		addrs, cmds = append(addrs, listen), append(cmds, cmd)
	}
	base := startNginx(t, addrs)

	// Rolling stop of replica 0 under load: nothing fails.
	var sent, failed atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		client := &http.Client{Timeout: 10 * time.Second}
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := client.Get(base + "/public")
			sent.Add(1)
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
			}
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	_ = cmds[0].Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmds[0].Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("replica 0 after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("replica 0 did not exit after SIGTERM")
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-done
	if failed.Load() != 0 || sent.Load() < 20 {
		t.Errorf("rolling stop: %d of %d requests through nginx failed, want 0 of at least 20", failed.Load(), sent.Load())
	}

	// PostgreSQL cut off: the surviving replica answers logins 503 with
	// Retry-After and serves anonymous routes.
	proxy.Cut()
	for i := range 6 {
		resp, _ := loginJSON(t, nil, base, "gail", testPassword)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("login %d through nginx during the outage: got %d Retry-After %q, want 503", i+1, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp, _ := get(t, base+"/public"); resp.StatusCode != 200 {
		t.Errorf("anonymous request during the outage: got %d, want 200", resp.StatusCode)
	}
	proxy.Restore()
	if !testutil.WaitFor(15*time.Second, func() bool {
		resp, _ := loginJSON(t, nil, base, "gail", testPassword)
		return resp.StatusCode != 503
	}) {
		t.Fatal("logins still 503 after the database returned")
	}
	if resp, body := loginJSON(t, nil, base, "gail", testPassword); resp.StatusCode != 200 {
		t.Errorf("login after the outage: got %d %s, want 200 (nothing counted against the user)", resp.StatusCode, body)
	}
}
