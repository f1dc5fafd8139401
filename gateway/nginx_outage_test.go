package gateway_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
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
	// forwardedProto is the X-Forwarded-Proto nginx sets: "" means https
	// (nginx terminating TLS, as in production), "$scheme" what the
	// client used.
	forwardedProto string
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
	if o.forwardedProto == "" {
		o.forwardedProto = "https"
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
            proxy_set_header X-Forwarded-Proto %[7]s;
            proxy_set_header X-Forwarded-Host %[5]s;
            proxy_next_upstream %[6]s;
            proxy_next_upstream_tries 2;
        }
    }
}
`, user, lb.dir, servers.String(), listen, xfh, o.nextUpstream, o.forwardedProto)
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

// edgeSPA is the browser application on another origin that the
// deployment's CORS policy lists.
const edgeSPA = "https://spa.example.com"

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
cors:
  origins: ["%s"]
  credentials: true
  methods: [GET, POST]
  headers: [Content-Type, Authorization]
`, d.rdCut.Addr, o.onStoreError, edgeSPA)
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

// edgeUser is a client of the deployment: a session cookie and a token
// pair, obtained through nginx.
type edgeUser struct {
	cookie  string // "name=value" of the session cookie
	refresh string
}

// post sends a JSON POST through base.
func edgePost(t *testing.T, base, path, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(t, &http.Client{Timeout: 20 * time.Second}, req)
}

// signIn logs gail in through base (a session) and takes a token pair.
func signIn(t *testing.T, base string) *edgeUser {
	t.Helper()
	resp, body := loginJSON(t, &http.Client{Timeout: 20 * time.Second}, base, "gail", testPassword)
	if resp.StatusCode != 200 {
		t.Fatalf("login through nginx: got %d %s", resp.StatusCode, body)
	}
	u := &edgeUser{}
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") {
			u.cookie = c.Name + "=" + c.Value
		}
	}
	if u.cookie == "" {
		t.Fatalf("login through nginx set no session cookie: %v", resp.Header["Set-Cookie"])
	}
	resp, body = edgePost(t, base, "/.rampart/token", fmt.Sprintf(`{"username":"gail","password":%q}`, testPassword))
	if resp.StatusCode != 200 {
		t.Fatalf("token through nginx: got %d %s", resp.StatusCode, body)
	}
	u.refresh = between(body, `"refresh_token":"`, `"`)
	return u
}

// notes is a signed-in request through base.
func (u *edgeUser) notes(t *testing.T, base string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/notes", nil)
	req.Header.Set("Cookie", u.cookie)
	resp, _ := do(t, &http.Client{Timeout: 20 * time.Second}, req)
	return resp.StatusCode
}

// refreshOnce exchanges u's refresh token through base, keeping the new
// one on success.
func (u *edgeUser) refreshOnce(t *testing.T, base string) (*http.Response, string) {
	t.Helper()
	resp, body := edgePost(t, base, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, u.refresh))
	if resp.StatusCode == 200 {
		u.refresh = between(body, `"refresh_token":"`, `"`)
	}
	return resp, body
}

// assertStoreError checks what a user sees for a request that needs a
// store that is down: 503 with Retry-After, and nothing of the store's
// error.
func assertStoreError(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s: got %d Retry-After %q, want 503 with Retry-After\n%s", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for _, leak := range []string{"dial", "connection refused", "redis", "postgres", "127.0.0.1"} {
		if strings.Contains(strings.ToLower(body), leak) {
			t.Errorf("%s: the store's error reached the client (%q): %s", what, leak, body)
		}
	}
}

// waitStoreUp waits until every replica reports the store's health as up.
func waitStoreUp(t *testing.T, rs []*replica, store string, up bool) {
	t.Helper()
	want := fmt.Sprintf(`rampart_store_up{store=%q} `, store)
	if up {
		want += "1"
	} else {
		want += "0"
	}
	for i, r := range rs {
		if !testutil.WaitFor(30*time.Second, func() bool { return strings.Contains(r.metrics(t), want) }) {
			t.Fatalf("replica %d: %s never reported\n%s", i, want, grep(r.metrics(t), "rampart_store_up"))
		}
	}
}

// TestOutagesBehindNginx runs the production deployment through Redis and
// PostgreSQL outages, each made twice — by stopping the server and by
// cutting every connection to it — and checks what users and nginx see
// during and after each. The replicas run with on_store_error: cache, and
// sit behind two nginx instances: the common setup that retries and
// ejects on 503 (proxy_next_upstream error timeout http_503, max_fails=1)
// and the recommended one that does not count 503s (proxy_next_upstream
// error timeout), which also passes the client's X-Forwarded-Host.
func TestOutagesBehindNginx(t *testing.T) {
	t.Parallel()
	d := newEdgeDeployment(t, true)
	rs := []*replica{
		d.start(t, 0, edgeOptions{onStoreError: "cache"}, true),
		d.start(t, 1, edgeOptions{onStoreError: "cache"}, true),
	}
	addrs := []string{rs[0].listen, rs[1].listen}
	common := startLoadBalancer(t, lbOptions{nextUpstream: "error timeout http_503", maxFails: 1}, addrs)
	rec := startLoadBalancer(t, lbOptions{nextUpstream: "error timeout", maxFails: 3, passForwardedHost: true}, addrs)

	// The Redis password reached the replicas through the environment
	// only, the PostgreSQL URL through a file, the record key through the
	// environment: a login on one replica is a session on the other.
	waitStoreUp(t, rs, "redis", true)
	waitStoreUp(t, rs, "postgres", true)
	u := signIn(t, rec.url)
	for range 4 {
		if got := u.notes(t, common.url); got != 200 {
			t.Fatalf("signed-in request through nginx: got %d, want 200", got)
		}
	}
	for i := range 2 {
		b, _ := os.ReadFile(filepath.Join(d.dir, fmt.Sprintf("replica%d.yaml", i)))
		if strings.Contains(string(b), redisPassword) {
			t.Fatalf("the Redis password is in replica %d's configuration file", i)
		}
	}

	t.Run("forwarded host from the client is refused and says why", func(t *testing.T) {
		req, _ := http.NewRequest("GET", rec.url+"/public", nil)
		req.Header.Set("X-Forwarded-Host", "evil.test")
		resp, _ := do(t, nil, req)
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Fatalf("X-Forwarded-Host evil.test through nginx: got %d, want 421", resp.StatusCode)
		}
		id := resp.Header.Get("X-Request-Id")
		if id == "" {
			t.Fatal("the refusal carries no X-Request-Id")
		}
		var line string
		if !testutil.WaitFor(5*time.Second, func() bool {
			line = grep(rs[0].logs.String()+rs[1].logs.String(), `"request_id":"`+id+`"`)
			return strings.Contains(line, `"reason":"host_not_allowed header=x-forwarded-host"`)
		}) {
			t.Errorf("no log line with request id %s and the reason:\n%s", id, line)
		}
		m := rs[0].metrics(t) + rs[1].metrics(t)
		if !strings.Contains(grep(m, "rampart_policy_denials_total"), "host_not_allowed") {
			t.Errorf("no denial metric with the reason:\n%s", grep(m, "rampart_policy_denials_total"))
		}
		// A refusal is not a failure to nginx: both replicas still serve.
		for range 4 {
			if resp, _ := get(t, common.url+"/public"); resp.StatusCode != 200 {
				t.Fatalf("after the refusal: got %d, want 200", resp.StatusCode)
			}
		}
	})

	// A browser application on another origin gets tokens through nginx:
	// the preflight of /.rampart/token is answered with credentials, and
	// the token request carries the CORS headers.
	t.Run("CORS on rampart's endpoints", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", rec.url+"/.rampart/token", nil)
		req.Header.Set("Origin", edgeSPA)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, _ := do(t, nil, req)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != edgeSPA ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight through nginx: got %d ACAO %q ACAC %q, want 204 for %s with credentials",
				resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"), edgeSPA)
		}
		req, _ = http.NewRequest("POST", rec.url+"/.rampart/token", strings.NewReader(fmt.Sprintf(`{"username":"gail","password":%q}`, testPassword)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", edgeSPA)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, body := do(t, nil, req)
		if resp.StatusCode != 200 || !strings.Contains(body, "access_token") || resp.Header.Get("Access-Control-Allow-Origin") != edgeSPA {
			t.Errorf("cross-origin token request through nginx: got %d ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	// A refresh applied by Rampart whose answer the client never read
	// (it closed the connection: a cut network, a crashed app): the retry
	// with the same token gets a pair instead of a revoked family, and
	// reuse detection still works after it.
	t.Run("refresh answer lost", func(t *testing.T) {
		u := signIn(t, rec.url)
		conn, err := net.Dial("tcp", strings.TrimPrefix(rec.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf(`{"refresh_token":%q}`, u.refresh)
		fmt.Fprintf(conn, "POST /.rampart/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			strings.TrimPrefix(rec.url, "http://"), len(body), body)
		// Wait until the answer is on its way back, then drop it.
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Read(make([]byte, 1)); err != nil {
			t.Fatalf("the first refresh got no answer: %v", err)
		}
		conn.Close()
		old := u.refresh
		resp, rbody := u.refreshOnce(t, rec.url)
		if resp.StatusCode != 200 {
			t.Fatalf("the retry of a refresh whose answer was lost: got %d %s, want 200", resp.StatusCode, rbody)
		}
		if resp, rbody := u.refreshOnce(t, rec.url); resp.StatusCode != 200 {
			t.Fatalf("the next refresh after the retry: got %d %s, want 200", resp.StatusCode, rbody)
		}
		// The old token again, now that its successor is used: reuse.
		if resp, _ := edgePost(t, rec.url, "/.rampart/token", fmt.Sprintf(`{"refresh_token":%q}`, old)); resp.StatusCode != 401 {
			t.Errorf("the lost-answer token after its successor was used: got %d, want 401", resp.StatusCode)
		}
		if resp, _ := u.refreshOnce(t, rec.url); resp.StatusCode != 401 {
			t.Errorf("the newest token after reuse: got %d, want 401 (family revoked)", resp.StatusCode)
		}
	})

	// Item 3, the Redis outage behind the common nginx setup: anonymous
	// and signed-in users keep being served, from the process cache.
	redisOutage := func(t *testing.T, down, up func()) {
		t.Helper()
		u := signIn(t, rec.url)
		for range 4 { // both replicas confirm the session in Redis
			u.notes(t, common.url)
		}
		anon := startLoad(common.url, "/public", 2, nil)
		signed := startLoad(common.url, "/notes", 2, http.Header{"Cookie": {u.cookie}})
		time.Sleep(500 * time.Millisecond)
		down()
		waitStoreUp(t, rs, "redis", false)
		time.Sleep(2 * time.Second)
		if got := grep(rs[0].metrics(t)+rs[1].metrics(t), `rampart_degraded{feature="sessions"} 1`); got == "" {
			t.Errorf("no replica reports rampart_degraded{feature=\"sessions\"} 1 during the outage")
		}
		// What a refresh gets meanwhile: 503, consuming nothing (through
		// the recommended setup, which does not eject on 503).
		resp, body := u.refreshOnce(t, rec.url)
		assertStoreError(t, "refresh during the Redis outage", resp, body)
		as, af, afirst := anon.end()
		ss, sf, sfirst := signed.end()
		t.Logf("during the Redis outage: anonymous %d/%d failed (%s), signed-in %d/%d failed (%s)", af, as, afirst, sf, ss, sfirst)
		if af != 0 || sf != 0 || as < 20 || ss < 20 {
			t.Errorf("during the Redis outage: anonymous %d of %d failed (first: %s), signed-in %d of %d failed (first: %s); want none of at least 20 each",
				af, as, afirst, sf, ss, sfirst)
		}
		for i, r := range rs {
			if code, body := r.readyz(); code != 200 || !strings.Contains(body, "redis") {
				t.Errorf("replica %d /readyz during the outage: got %d %q, want 200 (ready, degraded) naming redis", i, code, body)
			}
		}
		up()
		waitStoreUp(t, rs, "redis", true)
	}

	t.Run("redis cut", func(t *testing.T) {
		var u *edgeUser
		redisOutage(t, d.rdCut.Cut, d.rdCut.Restore)
		// Nothing was lost: the user's refresh token, presented during
		// the outage, still works.
		u = signIn(t, rec.url)
		d.rdCut.Cut()
		resp, body := u.refreshOnce(t, rec.url)
		assertStoreError(t, "refresh while Redis is cut off", resp, body)
		d.rdCut.Restore()
		waitStoreUp(t, rs, "redis", true)
		if resp, body := u.refreshOnce(t, rec.url); resp.StatusCode != 200 {
			t.Errorf("the same refresh token after the outage: got %d %s, want 200", resp.StatusCode, body)
		}
		if got := u.notes(t, common.url); got != 200 {
			t.Errorf("the session after the outage: got %d, want 200", got)
		}
	})

	t.Run("redis stopped", func(t *testing.T) {
		redisOutage(t, d.rd.Stop, d.rd.Restart)
		// The Redis came back empty (no persistence): sessions and
		// refresh tokens it held are gone, and users sign in again —
		// which works at once.
		signIn(t, rec.url)
		if !strings.Contains(rs[0].logs.String()+rs[1].logs.String(), "degraded mode over") {
			t.Errorf("no log line saying degraded mode is over")
		}
	})

	// Items 1 and 2, the PostgreSQL outage: logins and refreshes answer
	// 503 with Retry-After, count nothing against the user and consume
	// nothing; anonymous and signed-in requests are served; afterwards
	// the same user logs in at once and the same refresh token works.
	pgOutage := func(t *testing.T, down, up func()) {
		u := signIn(t, rec.url)
		down()
		waitStoreUp(t, rs, "postgres", false)
		for i := range 8 {
			resp, body := loginJSON(t, &http.Client{Timeout: 20 * time.Second}, rec.url, "gail", testPassword)
			assertStoreError(t, fmt.Sprintf("login %d during the PostgreSQL outage", i+1), resp, body)
		}
		resp, body := u.refreshOnce(t, rec.url)
		assertStoreError(t, "refresh during the PostgreSQL outage", resp, body)
		if resp, _ := get(t, common.url+"/public"); resp.StatusCode != 200 {
			t.Errorf("anonymous request during the PostgreSQL outage: got %d, want 200", resp.StatusCode)
		}
		if got := u.notes(t, common.url); got != 200 {
			t.Errorf("signed-in request during the PostgreSQL outage: got %d, want 200 (sessions live in Redis)", got)
		}
		up()
		waitStoreUp(t, rs, "postgres", true)
		if resp, body := loginJSON(t, &http.Client{Timeout: 20 * time.Second}, rec.url, "gail", testPassword); resp.StatusCode != 200 {
			t.Errorf("login after the outage: got %d %s, want 200 (the outage must not count against the user)", resp.StatusCode, body)
		}
		if resp, body := u.refreshOnce(t, rec.url); resp.StatusCode != 200 {
			t.Errorf("the same refresh token after the outage: got %d %s, want 200 (nothing consumed or revoked)", resp.StatusCode, body)
		}
	}
	t.Run("postgres cut", func(t *testing.T) { pgOutage(t, d.pgCut.Cut, d.pgCut.Restore) })
	t.Run("postgres stopped", func(t *testing.T) { pgOutage(t, d.pg.Stop, d.pg.Restart) })

	// Item 4: a replica started while PostgreSQL is unreachable starts,
	// serves what needs no user, is not ready (naming the store) — so a
	// load balancer following /readyz keeps it out — and becomes ready
	// when the database answers.
	startWhileDown := func(t *testing.T, i int, down, up func()) {
		down()
		r := d.start(t, i, edgeOptions{onStoreError: "cache"}, false)
		var body string
		if !testutil.WaitFor(30*time.Second, func() bool {
			var code int
			code, body = r.readyz()
			return code == 503
		}) || !strings.Contains(body, "postgres") {
			t.Fatalf("replica started while PostgreSQL is down: /readyz %q, want 503 naming postgres\n%s", body, r.logs)
		}
		if resp, _ := get(t, "http://"+r.listen+"/public"); resp.StatusCode != 200 {
			t.Errorf("anonymous request to the replica that is not ready: got %d, want 200", resp.StatusCode)
		}
		resp, lbody := loginJSON(t, &http.Client{Timeout: 20 * time.Second}, "http://"+r.listen, "gail", testPassword)
		assertStoreError(t, "login on the replica that is not ready", resp, lbody)
		up()
		if !testutil.WaitFor(60*time.Second, func() bool { code, _ := r.readyz(); return code == 200 }) {
			t.Fatalf("the replica never became ready after the database came back\n%s", r.logs)
		}
		select {
		case err := <-r.exited:
			t.Fatalf("the replica exited: %v", err)
		default:
		}
	}
	t.Run("start while postgres is cut", func(t *testing.T) { startWhileDown(t, 2, d.pgCut.Cut, d.pgCut.Restore) })
	t.Run("start while postgres is stopped", func(t *testing.T) { startWhileDown(t, 3, d.pg.Stop, d.pg.Restart) })

	// What docs/gateway.md says of fail_closed: every signed-in request
	// answers 503 during a Redis outage. Behind the common setup, nginx
	// counts those 503s against both replicas and ejects them, and then
	// anonymous requests fail too (502); behind the recommended one,
	// anonymous requests are all served.
	t.Run("fail_closed", func(t *testing.T) {
		fc := []*replica{
			d.start(t, 4, edgeOptions{onStoreError: "fail_closed"}, true),
			d.start(t, 5, edgeOptions{onStoreError: "fail_closed"}, true),
		}
		fcAddrs := []string{fc[0].listen, fc[1].listen}
		fcCommon := startLoadBalancer(t, lbOptions{nextUpstream: "error timeout http_503", maxFails: 1}, fcAddrs)
		fcRec := startLoadBalancer(t, lbOptions{nextUpstream: "error timeout", maxFails: 3}, fcAddrs)
		u := signIn(t, fcRec.url)
		d.rdCut.Cut()
		defer d.rdCut.Restore()
		waitStoreUp(t, fc, "redis", false)
		signed := startLoad(fcRec.url, "/notes", 2, http.Header{"Cookie": {u.cookie}})
		anonRec := startLoad(fcRec.url, "/public", 2, nil)
		signedCommon := startLoad(fcCommon.url, "/notes", 2, http.Header{"Cookie": {u.cookie}})
		anonCommon := startLoad(fcCommon.url, "/public", 2, nil)
		time.Sleep(3 * time.Second)
		ss, sf, _ := signed.end()
		rs, rf, rfirst := anonRec.end()
		signedCommon.end()
		cs, cf, cfirst := anonCommon.end()
		t.Logf("fail_closed during a Redis outage: signed-in %d/%d failed; anonymous behind the recommended nginx %d/%d failed (%s), behind the common one %d/%d failed (%s)",
			sf, ss, rf, rs, rfirst, cf, cs, cfirst)
		if sf != ss {
			t.Errorf("signed-in requests with fail_closed: %d of %d failed, want all (503)", sf, ss)
		}
		if rf != 0 {
			t.Errorf("anonymous requests behind the recommended nginx: %d of %d failed (first: %s), want none", rf, rs, rfirst)
		}
		if cf == 0 {
			t.Errorf("anonymous requests behind the common nginx: none of %d failed; docs/gateway.md says the replicas get ejected", cs)
		}
	})
}

// TestUntrustedProxyBehindNginx: replicas that forgot trusted_proxies
// behind nginx log a warning naming the setting and count the requests.
func TestUntrustedProxyBehindNginx(t *testing.T) {
	t.Parallel()
	d := newEdgeDeployment(t, false)
	r := d.start(t, 0, edgeOptions{noStores: true, untrusted: true}, true)
	lb := startLoadBalancer(t, lbOptions{nextUpstream: "error timeout"}, []string{r.listen})
	for range 5 {
		if resp, _ := get(t, lb.url+"/public"); resp.StatusCode != 200 {
			t.Fatalf("through nginx: got %d, want 200", resp.StatusCode)
		}
	}
	if !testutil.WaitFor(5*time.Second, func() bool { return strings.Contains(r.logs.String(), "trusted_proxies") }) {
		t.Errorf("no warning naming trusted_proxies:\n%s", r.logs)
	}
	// nginx's own start-up probe went through too.
	got := grep(r.metrics(t), `rampart_untrusted_forwarding_headers_total{peer="loopback"}`)
	var n int
	if _, err := fmt.Sscanf(strings.TrimPrefix(got, `rampart_untrusted_forwarding_headers_total{peer="loopback"} `), "%d", &n); err != nil || n < 5 {
		t.Errorf("rampart_untrusted_forwarding_headers_total: got %q, want at least the 5 requests", got)
	}
}
