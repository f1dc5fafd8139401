package gateway_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// metricValue reads one sample (name with its labels, as exposed) from a
// Prometheus text page.
func metricValue(t *testing.T, adminURL, sample string) float64 {
	t.Helper()
	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if ok && name == sample {
			v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil {
				t.Fatalf("%s: %v", sample, err)
			}
			return v
		}
	}
	return -1
}

// TestSIGHUPUnderLoad reloads a real gateway process 50 times with SIGHUP
// while clients use it — store settings, the CSRF mode and the route table
// change every time — and asserts that no request fails, that each
// reload's settings are in force, and that neither goroutines nor open
// files grow across the reloads: replaced configurations and the stores
// only they used are closed.
func TestSIGHUPUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("50 reloads under load; skipped with -short")
	}
	t.Parallel()
	rd := testutil.StartRedis(t)
	up := echoUpstream(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "rampart.db")
	seedUser(t, db, "erin")
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cfgPath := filepath.Join(dir, "rampart.yaml")
	write := func(i int) {
		t.Helper()
		extra, mode := "", "origin"
		if i%2 == 1 {
			extra = "  - match: \"GET /extra\"\n    auth: none\n"
			mode = "token"
		}
		body := fmt.Sprintf(`listen: %q
admin: {listen: %q}
upstream: %q
env: development
log: {access: false}
store: {sqlite: %q, redis: %q, redis_timeout: %dms, session_cache: %ds, redis_auto_pipeline: %t}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
csrf: {mode: %s}
rate_limits: [{limit: 100000, per: 1m}]
routes:
  - match: "GET /public"
    auth: none
  - match: "POST /form"
    auth: none
  - match: "GET /notes"
%s`, listen, admin, up.URL, db, rd.URL(), 2000+i, 1+i%3, i%2 == 0, mode, extra)
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	cmd := exec.Command(testutil.BuildRampart(t), "serve", "--config", cfgPath)
	logs := &testutil.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base, adminURL := "http://"+listen, "http://"+admin
	if !testutil.WaitFor(20*time.Second, func() bool {
		resp, err := http.Get(base + "/public")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatalf("gateway did not start:\n%s", logs)
	}
	sess := sessionLogin(t, base, "erin")

	reloads := 0
	reload := func(i int) {
		t.Helper()
		write(i)
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		reloads++
		if !testutil.WaitFor(10*time.Second, func() bool {
			return metricValue(t, adminURL, `rampart_config_reloads_total{result="success"}`) >= float64(reloads)
		}) {
			t.Fatalf("reload %d was not applied:\n%s", i, logs)
		}
	}
	// counts reads goroutines and open files once replaced configurations
	// have retired (no request is in flight, so they retire at once).
	counts := func() (goroutines, fds float64) {
		time.Sleep(500 * time.Millisecond)
		return metricValue(t, adminURL, "go_goroutines"), metricValue(t, adminURL, "process_open_fds")
	}
	// Warm up: every variant of the configuration once, so pools and
	// caches exist before the baseline.
	for i := 1; i <= 6; i++ {
		reload(i)
	}
	g0, f0 := counts()

	var failures, total atomic.Int64
	var failed sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				if w%2 == 0 {
					req = withCookie("GET", base+"/public", nil)
				} else {
					req = withCookie("GET", base+"/notes", sess)
				}
				total.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					failed.Store(err.Error(), true)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
					failed.Store(strconv.Itoa(resp.StatusCode)+" "+req.URL.Path, true)
				}
			}
		}()
	}
	for i := 7; i < 7+50; i++ {
		reload(i)
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	transport.CloseIdleConnections()
	if n := failures.Load(); n > 0 {
		var what []string
		failed.Range(func(k, _ any) bool { what = append(what, k.(string)); return true })
		t.Errorf("%d of %d requests failed across 50 reloads: %q", n, total.Load(), what)
	}
	if total.Load() < 100 {
		t.Errorf("only %d requests ran during the reloads", total.Load())
	}

	// The last configuration (i = 56: even) is in force: no /extra route,
	// CSRF by origin (a same-origin form post passes without a token).
	if resp, _ := do(t, nil, withCookie("GET", base+"/extra", nil)); resp.StatusCode == 200 {
		t.Errorf("route removed by the last reload still served")
	}
	post := func() int {
		req, _ := http.NewRequest("POST", base+"/form", strings.NewReader("a=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, _ := do(t, nil, req)
		return resp.StatusCode
	}
	if got := post(); got != 200 {
		t.Errorf("csrf.mode origin after the last reload: same-origin post got %d", got)
	}
	reload(57) // odd: /extra back, CSRF tokens required
	if resp, _ := do(t, nil, withCookie("GET", base+"/extra", nil)); resp.StatusCode != 200 {
		t.Errorf("route added by a reload: got %d", resp.StatusCode)
	}
	if got := post(); got != 403 {
		t.Errorf("csrf.mode token after a reload: a post without a token got %d, want 403", got)
	}

	g1, f1 := counts()
	t.Logf("after %d reloads: goroutines %v -> %v, open files %v -> %v, %d requests", reloads, g0, g1, f0, f1, total.Load())
	if g1 > g0+10 {
		t.Errorf("goroutines grew across 50 reloads: %v -> %v", g0, g1)
	}
	if f1 > f0+5 {
		t.Errorf("open files (connections) grew across 50 reloads: %v -> %v", f0, f1)
	}
}
