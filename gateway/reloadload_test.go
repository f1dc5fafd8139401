package gateway_test

import (
	"bufio"
	"fmt"
	"io"
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

// sampleValue reads one sample (name with its labels, as exposed) from a
// Prometheus text page.
func sampleValue(t *testing.T, adminURL, sample string) float64 {
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

// reloadable is a real `rampart serve` process whose configuration file a
// test rewrites and reloads with SIGHUP.
type reloadable struct {
	cmd         *exec.Cmd
	base, admin string
	logs        *testutil.Buffer
	write       func(i int)
	reloads     int
	sess        *http.Cookie
}

// startReloadable starts a gateway with Redis, sessions in Redis, a rate
// limit and a CSRF policy; configuration i varies the store settings
// (every i a new Redis timeout), the CSRF mode and the route table.
func startReloadable(t *testing.T) *reloadable {
	t.Helper()
	rd := testutil.StartRedis(t)
	up := echoUpstream(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "rampart.db")
	seedUser(t, db, "erin")
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cfgPath := filepath.Join(dir, "rampart.yaml")
	g := &reloadable{base: "http://" + listen, admin: "http://" + admin, logs: &testutil.Buffer{}}
	g.write = func(i int) {
		t.Helper()
		extra, mode := "", "origin"
		if i%2 == 1 {
			extra = "  - match: \"GET /extra\"\n    auth: none\n"
			mode = "token"
		}
		body := fmt.Sprintf(`listen: %q
admin: {listen: %q, pprof: true}
upstream: %q
env: development
log: {access: false}
store: {sqlite: %q, redis: %q, redis_timeout: %dms, session_cache: %ds, redis_auto_pipeline: %t}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
csrf: {mode: %s}
rate_limits: [{limit: 1000000, per: 1m}]
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
	g.write(0)
	g.cmd = exec.Command(testutil.BuildRampart(t), "serve", "--config", cfgPath)
	g.cmd.Stderr = g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.cmd.Process.Kill(); _ = g.cmd.Wait() })
	if !testutil.WaitFor(20*time.Second, func() bool {
		resp, err := http.Get(g.base + "/public")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}) {
		t.Fatalf("gateway did not start:\n%s", g.logs)
	}
	g.sess = sessionLogin(t, g.base, "erin")
	return g
}

// reload writes configuration i, sends SIGHUP and waits until it applied.
func (g *reloadable) reload(t *testing.T, i int) {
	t.Helper()
	g.write(i)
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	g.reloads++
	if !testutil.WaitFor(10*time.Second, func() bool {
		return sampleValue(t, g.admin, `rampart_config_reloads_total{result="success"}`) >= float64(g.reloads)
	}) {
		t.Fatalf("reload %d was not applied:\n%s", i, g.logs)
	}
}

// load runs workers that alternate public and signed-in requests until
// stop is closed, counting requests and failures (anything but a 200).
type load struct {
	total, failures atomic.Int64
	failed          sync.Map
	stop            chan struct{}
	wg              sync.WaitGroup
	transport       *http.Transport
}

func (g *reloadable) startLoad(workers int) *load {
	l := &load{stop: make(chan struct{}), transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	client := &http.Client{Transport: l.transport, Timeout: 10 * time.Second}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				var req *http.Request
				if w%2 == 0 {
					req = withCookie("GET", g.base+"/public", nil)
				} else {
					req = withCookie("GET", g.base+"/notes", g.sess)
				}
				l.total.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					l.failures.Add(1)
					l.failed.Store(err.Error(), true)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					l.failures.Add(1)
					l.failed.Store(strconv.Itoa(resp.StatusCode)+" "+req.URL.Path, true)
				}
			}
		}()
	}
	return l
}

// end stops the load and reports failures.
func (l *load) end(t *testing.T, during string) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	l.transport.CloseIdleConnections()
	if n := l.failures.Load(); n > 0 {
		var what []string
		l.failed.Range(func(k, _ any) bool { what = append(what, k.(string)); return true })
		t.Errorf("%d of %d requests failed %s: %q", n, l.total.Load(), during, what)
	}
	if l.total.Load() < 100 {
		t.Errorf("only %d requests ran %s", l.total.Load(), during)
	}
}

// counts reads goroutines, open files and resident memory once replaced
// configurations have retired (with no request in flight they retire at
// once).
func (g *reloadable) counts(t *testing.T) (goroutines, fds, rss float64) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	return sampleValue(t, g.admin, "go_goroutines"), sampleValue(t, g.admin, "process_open_fds"),
		sampleValue(t, g.admin, "process_resident_memory_bytes")
}

// liveHeap returns the bytes of live heap objects right after a garbage
// collection (forced through the admin listener's profiler): unlike the
// resident size, which also holds freed memory the runtime has not yet
// returned, it grows only with what is really retained.
func (g *reloadable) liveHeap(t *testing.T) float64 {
	t.Helper()
	resp, err := http.Get(g.admin + "/debug/pprof/heap?gc=1")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return sampleValue(t, g.admin, "go_memstats_heap_alloc_bytes")
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
	g := startReloadable(t)
	// Warm up: every variant of the configuration once, so pools and
	// caches exist before the baseline.
	for i := 1; i <= 6; i++ {
		g.reload(t, i)
	}
	g0, f0, _ := g.counts(t)
	l := g.startLoad(4)
	for i := 7; i < 7+50; i++ {
		g.reload(t, i)
		time.Sleep(20 * time.Millisecond)
	}
	l.end(t, "across 50 reloads")

	// The last configuration (i = 56: even) is in force: no /extra route,
	// CSRF by origin (a same-origin form post passes without a token).
	if resp, _ := do(t, nil, withCookie("GET", g.base+"/extra", nil)); resp.StatusCode == 200 {
		t.Errorf("route removed by the last reload still served")
	}
	post := func() int {
		req, _ := http.NewRequest("POST", g.base+"/form", strings.NewReader("a=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", g.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, _ := do(t, nil, req)
		return resp.StatusCode
	}
	if got := post(); got != 200 {
		t.Errorf("csrf.mode origin after the last reload: same-origin post got %d", got)
	}
	g.reload(t, 57) // odd: /extra back, CSRF tokens required
	if resp, _ := do(t, nil, withCookie("GET", g.base+"/extra", nil)); resp.StatusCode != 200 {
		t.Errorf("route added by a reload: got %d", resp.StatusCode)
	}
	if got := post(); got != 403 {
		t.Errorf("csrf.mode token after a reload: a post without a token got %d, want 403", got)
	}

	g1, f1, _ := g.counts(t)
	t.Logf("after %d reloads: goroutines %v -> %v, open files %v -> %v, %d requests", g.reloads, g0, g1, f0, f1, l.total.Load())
	if g1 > g0+10 {
		t.Errorf("goroutines grew across 50 reloads: %v -> %v", g0, g1)
	}
	if f1 > f0+5 {
		t.Errorf("open files (connections) grew across 50 reloads: %v -> %v", f0, f1)
	}
}

// TestSoak keeps a real gateway under steady load — sessions in Redis, a
// rate limit on every request, a reload every second — for
// RAMPART_SOAK (a Go duration; default 20s, skipped with -short), and
// asserts that the live heap and goroutines stay flat (the second half of
// the run may not grow them beyond noise) and that resident memory stays
// bounded.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak; skipped with -short")
	}
	d := 20 * time.Second
	if v := os.Getenv("RAMPART_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("RAMPART_SOAK: %v", err)
		}
	}
	t.Parallel()
	g := startReloadable(t)
	l := g.startLoad(4)
	run := func(until time.Time, i *int) {
		for time.Now().Before(until) {
			*i++
			g.reload(t, *i)
			time.Sleep(time.Second)
		}
	}
	i := 0
	start := time.Now()
	run(start.Add(d/2), &i)
	gMid, _, rssMid := g.counts(t)
	heapMid := g.liveHeap(t)
	run(start.Add(d), &i)
	gEnd, _, rssEnd := g.counts(t)
	heapEnd := g.liveHeap(t)
	l.end(t, "during the soak")
	const mib = 1 << 20
	t.Logf("soak %v, %d reloads, %d requests: goroutines %v -> %v, live heap %.1f MiB -> %.1f MiB, RSS %.1f MiB -> %.1f MiB",
		d, g.reloads, l.total.Load(), gMid, gEnd, heapMid/mib, heapEnd/mib, rssMid/mib, rssEnd/mib)
	if gEnd > gMid+10 {
		t.Errorf("goroutines grew in the second half of the soak: %v -> %v", gMid, gEnd)
	}
	if heapEnd > heapMid*1.5+4*mib {
		t.Errorf("the live heap grew in the second half of the soak: %.1f MiB -> %.1f MiB", heapMid/mib, heapEnd/mib)
	}
	if rssEnd > 192*mib {
		t.Errorf("resident memory reached %.1f MiB", rssEnd/mib)
	}
}
