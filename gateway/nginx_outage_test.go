package gateway_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// The deployment these tests run is the one most teams would build: nginx
// (as if terminating TLS: it tells the replicas the scheme is https) in
// front of two `rampart serve` replicas in production mode, trusting
// loopback as their proxy, sharing a real Redis and a real PostgreSQL,
// in front of a real application. Outages are made both by stopping the
// servers and by a proxy that cuts every connection.

// lbOptions is the part of the nginx configuration a test chooses.
type lbOptions struct {
	// nextUpstream is proxy_next_upstream: "off", or the conditions on
	// which nginx retries a request on the other replica.
	nextUpstream string
	// maxFails and failTimeout are each server's max_fails and
	// fail_timeout: after maxFails failures (as nextUpstream defines
	// them) nginx ejects the server for failTimeout. 0 means 1; -1 turns
	// nginx's own failure accounting off (max_fails=0), so only the
	// upstream list decides where requests go.
	maxFails    int
	failTimeout string
	// passForwardedHost passes the client's own X-Forwarded-Host through
	// instead of setting it to the Host nginx received (a common
	// copy-paste in front of another proxy).
	passForwardedHost bool
}

// loadBalancer is a real nginx on a random loopback port, with its own
// prefix, run as the test's user.
type loadBalancer struct {
	t    *testing.T
	url  string
	dir  string
	conf string
	opts lbOptions
	cmd  *exec.Cmd
	logs *testutil.Buffer
	mu   sync.Mutex
}

func startLoadBalancer(t *testing.T, opts lbOptions, upstreams []string) *loadBalancer {
	t.Helper()
	bin := testutil.RequireBinary(t, "nginx", "/usr/sbin")
	lb := &loadBalancer{t: t, dir: t.TempDir(), opts: opts, logs: &testutil.Buffer{}}
	lb.conf = filepath.Join(lb.dir, "nginx.conf")
	listen := testutil.FreeAddr(t)
	lb.url = "http://" + listen
	lb.write(listen, upstreams)
	lb.cmd = exec.Command(bin, "-p", lb.dir, "-c", lb.conf)
	lb.cmd.Stdout, lb.cmd.Stderr = lb.logs, lb.logs
	if err := lb.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lb.cmd.Process.Signal(syscall.SIGQUIT); _ = lb.cmd.Wait() })
	if !testutil.WaitFor(10*time.Second, func() bool {
		resp, err := http.Get(lb.url + "/.rampart/lb-probe")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}) {
		t.Fatalf("nginx did not start:\n%s\n%s", lb.logs, lb.errorLog())
	}
	return lb
}

func (lb *loadBalancer) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(lb.dir, "error.log"))
	return string(b)
}

// write writes the configuration for listen and upstreams.
func (lb *loadBalancer) write(listen string, upstreams []string) {
	lb.t.Helper()
	o := lb.opts
	switch o.maxFails {
	case 0:
		o.maxFails = 1
	case -1:
		o.maxFails = 0
	}
	if o.failTimeout == "" {
		o.failTimeout = "10s"
	}
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "        server %s max_fails=%d fail_timeout=%s;\n", u, o.maxFails, o.failTimeout)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n"
	}
	xfh := "$host"
	if o.passForwardedHost {
		xfh = "$http_x_forwarded_host"
	}
	conf := fmt.Sprintf(`%sdaemon off;
worker_processes 1;
worker_shutdown_timeout 3s;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    upstream rampart {
%[3]s        keepalive 16;
    }
    server {
        listen %[4]s;
        location / {
            proxy_pass http://rampart;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host %[5]s;
            proxy_next_upstream %[6]s;
            proxy_next_upstream_tries 2;
        }
    }
}
`, user, lb.dir, servers.String(), listen, xfh, o.nextUpstream)
	if err := os.WriteFile(lb.conf, []byte(conf), 0o600); err != nil {
		lb.t.Fatal(err)
	}
}

// setUpstreams rewrites the upstream list and reloads nginx (SIGHUP: new
// workers take the new list, old ones finish what they carry), as an
// ingress controller does when a pod leaves the endpoints.
func (lb *loadBalancer) setUpstreams(upstreams []string) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.write(strings.TrimPrefix(lb.url, "http://"), upstreams)
	_ = lb.cmd.Process.Signal(syscall.SIGHUP)
}

// replica is one `rampart serve` process.
type replica struct {
	listen, admin string
	cmd           *exec.Cmd
	logs          *testutil.Buffer
	exited        chan error
}

// readyz returns the status of the replica's /readyz, or 0 when it does
// not answer.
func (r *replica) readyz() (int, string) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.admin + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (r *replica) metrics(t *testing.T) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + r.admin + "/metrics")
	if err != nil {
		t.Fatalf("metrics of %s: %v", r.listen, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// term sends SIGTERM and waits for the process to exit.
func (r *replica) term(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.exited:
		if err != nil {
			t.Errorf("replica %s after SIGTERM: %v\n%s", r.listen, err, r.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s did not exit after SIGTERM", r.listen)
	}
}

// edgeDeployment is the shared state of the replicas: databases, the
// proxies in front of them, the application, and the files and
// environment every replica is started with.
type edgeDeployment struct {
	t   *testing.T
	bin string
	dir string
	app string
	pg  *testutil.Postgres
	rd  *testutil.Redis
	// pgCut and rdCut sit between the replicas and the servers.
	pgCut, rdCut *testutil.CutProxy
	env          []string
}

// edgeOptions are the per-test parts of every replica's
// configuration.
type edgeOptions struct {
	onStoreError  string // auth.sessions.on_store_error
	shutdownDelay string // limits.shutdown_delay
	untrusted     bool   // leave trusted_proxies out
	noStores      bool   // no Redis, no PostgreSQL
}

const redisPassword = "redis-pass-only-in-the-environment"

// newEdgeDeployment starts PostgreSQL (seeded with one user), a Redis that
// requires a password, the proxies and the application. The Redis
// password reaches the replicas only through their environment and the
// PostgreSQL URL only through a file; the record key comes from the
// environment too.
func newEdgeDeployment(t *testing.T, stores bool) *edgeDeployment {
	t.Helper()
	testutil.RequireBinary(t, "nginx", "/usr/sbin")
	d := &edgeDeployment{t: t, bin: testutil.BuildRampart(t), dir: t.TempDir()}
	d.app = echoUpstream(t).URL
	d.env = append(os.Environ(),
		"RAMPART_TEST_REDIS_PASSWORD="+redisPassword,
		"RAMPART_TEST_STORE_KEY="+strings.Repeat("k", 40))
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	if err := os.WriteFile(filepath.Join(d.dir, "jwt.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if !stores {
		return d
	}
	d.pg = testutil.StartPostgres(t)
	seedPostgresUser(t, d.pg, "gail")
	d.rd = testutil.StartRedisWithPassword(t, redisPassword)
	d.pgCut = testutil.StartCutProxy(t, "", d.pg.Addr)
	d.rdCut = testutil.StartCutProxy(t, "", d.rd.Addr)
	dsn := strings.Replace(d.pg.DSN, d.pg.Addr, d.pgCut.Addr, 1)
	if err := os.WriteFile(filepath.Join(d.dir, "postgres.url"), []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// start starts one replica with o and, when wait is set, waits until it
// is ready.
func (d *edgeDeployment) start(t *testing.T, i int, o edgeOptions, wait bool) *replica {
	t.Helper()
	if o.onStoreError == "" {
		o.onStoreError = "fail_closed"
	}
	if o.shutdownDelay == "" {
		o.shutdownDelay = "0s"
	}
	r := &replica{listen: testutil.FreeAddr(t), admin: testutil.FreeAddr(t), logs: &testutil.Buffer{}, exited: make(chan error, 1)}
	trusted := "trusted_proxies: [127.0.0.1/32]\n"
	if o.untrusted {
		trusted = ""
	}
	stores := ""
	if !o.noStores {
		stores = fmt.Sprintf(`store:
  redis: "redis://:${RAMPART_TEST_REDIS_PASSWORD}@%s/0"
  postgres_file: postgres.url
  key: "${RAMPART_TEST_STORE_KEY}"
  redis_timeout: 5s
  sql_timeout: 2s
  session_cache: 30s
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h, on_store_error: %s}
  tokens: {access_ttl: 5m, refresh_ttl: 24h, signing_key: jwt.pem}
`, d.rdCut.Addr, o.onStoreError)
	}
	body := fmt.Sprintf(`env: production
listen: %q
admin: {listen: %q}
upstream: %q
%s%slimits: {shutdown_delay: %s}
allow: {hosts: ["127.0.0.1"]}
log: {format: json, access: true}
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /notes"
`, r.listen, r.admin, d.app, trusted, stores, o.shutdownDelay)
	if o.noStores {
		body = strings.Replace(body, "  - match: \"GET /notes\"\n", "", 1)
	}
	cfg := filepath.Join(d.dir, fmt.Sprintf("replica%d.yaml", i))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(d.bin, "serve", "--config", cfg)
	r.cmd.Env = d.env
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		select {
		case <-r.exited:
		case <-time.After(10 * time.Second):
		}
	})
	if wait && !testutil.WaitFor(30*time.Second, func() bool { code, _ := r.readyz(); return code == 200 }) {
		_, why := r.readyz()
		t.Fatalf("replica %d never ready (%s):\n%s", i, why, r.logs)
	}
	return r
}

// steadyLoad sends GET path through base from workers goroutines until stop is
// closed, counting what it sent and what did not answer 200.
type steadyLoad struct {
	sent, failed atomic.Int64
	mu           sync.Mutex
	firstFailure string
	stop         chan struct{}
	wg           sync.WaitGroup
}

func startLoad(base, path string, workers int, header http.Header) *steadyLoad {
	l := &steadyLoad{stop: make(chan struct{})}
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", base+path, nil)
				for k, v := range header {
					req.Header[k] = v
				}
				resp, err := client.Do(req)
				l.sent.Add(1)
				if err != nil || resp.StatusCode != 200 {
					l.failed.Add(1)
					l.mu.Lock()
					if l.firstFailure == "" {
						if err != nil {
							l.firstFailure = err.Error()
						} else {
							l.firstFailure = resp.Status
						}
					}
					l.mu.Unlock()
				}
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *steadyLoad) end() (sent, failed int64, first string) {
	close(l.stop)
	l.wg.Wait()
	return l.sent.Load(), l.failed.Load(), l.firstFailure
}

// playLoadBalancer polls every replica's /readyz every interval and keeps
// nginx's upstream list to the replicas that answer 200, as Kubernetes
// does with a readiness probe and an ingress controller. It stops when
// stop is closed.
func playLoadBalancer(lb *loadBalancer, replicas []*replica, interval time.Duration, stop chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		in := make([]bool, len(replicas))
		for i := range in {
			in[i] = true
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			changed := false
			var live []string
			for i, r := range replicas {
				code, _ := r.readyz()
				ready := code == 200
				if ready != in[i] {
					in[i], changed = ready, true
				}
				if ready {
					live = append(live, r.listen)
				}
			}
			if changed && len(live) > 0 {
				lb.setUpstreams(live)
			}
		}
	}()
	return &wg
}

// TestDrainBehindNginx is the rolling restart behind a load balancer that
// does not retry (proxy_next_upstream off, max_fails=0) and learns of a
// leaving replica only from its readiness probe. With limits.shutdown_delay
// longer than the probe interval, /readyz answers 503 at SIGTERM, the
// load balancer takes the replica out while it still serves, and not one
// request fails. With shutdown_delay: 0 — the control that shows the test
// can fail — the listener closes at once and requests sent to it before
// the next probe fail.
func TestDrainBehindNginx(t *testing.T) {
	t.Parallel()
	d := newEdgeDeployment(t, false)
	const probe = 500 * time.Millisecond
	for _, tc := range []struct {
		delay    string
		wantFail bool
	}{
		{"2s", false},
		{"0s", true},
	} {
		t.Run("shutdown_delay="+tc.delay, func(t *testing.T) {
			rs := []*replica{
				d.start(t, 0, edgeOptions{noStores: true, shutdownDelay: tc.delay}, true),
				d.start(t, 1, edgeOptions{noStores: true, shutdownDelay: tc.delay}, true),
			}
			lb := startLoadBalancer(t, lbOptions{nextUpstream: "off", maxFails: -1}, []string{rs[0].listen, rs[1].listen})
			stop := make(chan struct{})
			prober := playLoadBalancer(lb, rs, probe, stop)
			l := startLoad(lb.url, "/public", 4, nil)
			time.Sleep(time.Second)
			rs[0].term(t)
			time.Sleep(time.Second)
			sent, failed, first := l.end()
			close(stop)
			prober.Wait()
			t.Logf("shutdown_delay %s: %d of %d requests through nginx failed (first: %s)", tc.delay, failed, sent, first)
			if sent < 100 {
				t.Fatalf("only %d requests were sent; the load is too thin to say anything", sent)
			}
			if tc.wantFail && failed == 0 {
				t.Errorf("shutdown_delay 0: no request failed; the test cannot tell a drain from none")
			}
			if !tc.wantFail && failed != 0 {
				t.Errorf("shutdown_delay %s: %d of %d requests failed (first: %s), want 0", tc.delay, failed, sent, first)
			}
			if code, _ := rs[1].readyz(); code != 200 {
				t.Errorf("the remaining replica: /readyz %d, want 200", code)
			}
		})
	}
}
