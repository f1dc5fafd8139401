package gateway_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/testutil"
)

// slowUpstream is a real upstream whose /slow requests wait until release
// is closed (or the request ends). It counts the requests it received and
// the most it held at once.
type slowUpstream struct {
	*httptest.Server
	release  chan struct{}
	received atomic.Int64
	current  atomic.Int64
	peak     atomic.Int64
	entered  chan struct{}
}

func newSlowUpstream(t *testing.T) *slowUpstream {
	t.Helper()
	u := &slowUpstream{release: make(chan struct{}), entered: make(chan struct{}, 1024)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.received.Add(1)
		n := u.current.Add(1)
		defer u.current.Add(-1)
		for {
			p := u.peak.Load()
			if n <= p || u.peak.CompareAndSwap(p, n) {
				break
			}
		}
		if strings.HasPrefix(r.URL.Path, "/slow") {
			u.entered <- struct{}{}
			select {
			case <-u.release:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(u.Server.Close)
	t.Cleanup(func() {
		select {
		case <-u.release:
		default:
			close(u.release)
		}
	})
	return u
}

// inBackground sends req in a goroutine and returns a channel with its
// status (0 on a transport error).
func inBackground(client *http.Client, req *http.Request) <-chan int {
	ch := make(chan int, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			ch <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ch <- resp.StatusCode
	}()
	return ch
}

func request(t *testing.T, method, url string, hdr ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

// metricValue returns the value of series on h's admin listener as
// exposed, or "" when it is absent.
func metricValue(t *testing.T, h *harness, series string) string {
	t.Helper()
	v := sampleValue(t, h.admin, series)
	if v < 0 {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// dialFrom connects to addr from the loopback address from; nil means the
// server reset the connection during the dial (refused).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.ECONNRESET) {
			return nil
		}
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// stillOpen reports whether the server keeps c open for a short while.
func stillOpen(c net.Conn) bool {
	if c == nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestConnsPerClient opens N+1 idle connections from one address with a
// limit of N: the last is closed while another address still connects and
// is served, and a trusted proxy is not limited.
func TestConnsPerClient(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, "trusted_proxies: [\"127.0.0.4/32\"]\nlimits:\n  max_conns_per_client: 3\n"))
	addr := strings.TrimPrefix(h.url, "http://")
	var held []net.Conn
	for range 3 {
		held = append(held, dialFrom(t, "127.0.0.2", addr))
	}
	for i, c := range held {
		if !stillOpen(c) {
			t.Fatalf("idle connection %d within the limit was closed", i)
		}
	}
	if stillOpen(dialFrom(t, "127.0.0.2", addr)) {
		t.Fatal("connection 4 from the same address stayed open")
	}
	other := dialFrom(t, "127.0.0.3", addr)
	if !stillOpen(other) {
		t.Fatal("a connection from another address was closed")
	}
	if _, err := io.WriteString(other, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = other.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := io.ReadAll(io.LimitReader(other, 12))
	if string(line) != "HTTP/1.1 200" {
		t.Errorf("another address: got %q, want HTTP/1.1 200", line)
	}
	for i := range 5 {
		if !stillOpen(dialFrom(t, "127.0.0.4", addr)) {
			t.Fatalf("trusted proxy's connection %d was closed", i)
		}
	}
	if got := metricValue(t, h, `rampart_limit_rejections_total{limit="max_conns_per_client"}`); got != "1" {
		t.Errorf("rejections metric: got %q, want 1", got)
	}
	if !strings.Contains(h.logs.String(), `"msg":"connection refused by limit","limit":"max_conns_per_client","peer":"127.0.0.2"`) {
		t.Errorf("no log line for the refused connection:\n%s", h.logs.String())
	}
	_ = held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for !stillOpen(dialFrom(t, "127.0.0.2", addr)) {
		if time.Now().After(deadline) {
			t.Fatal("a closed connection did not make room for another")
		}
	}
}

// TestInflightPerClient holds a client's requests at a slow upstream: the
// one over the limit gets a neutral 429 with Retry-After, another client
// (resolved through a trusted proxy) is still served, and the first
// recovers when its requests finish.
func TestInflightPerClient(t *testing.T) {
	t.Parallel()
	up := newSlowUpstream(t)
	h := start(t, parse(t, up.URL, "trusted_proxies: [\"127.0.0.1/32\"]\nlimits:\n  max_inflight_per_client: 2\n"))
	client := &http.Client{Timeout: 10 * time.Second}
	var slow []<-chan int
	for range 2 {
		slow = append(slow, inBackground(client, request(t, "GET", h.url+"/slow", "X-Forwarded-For", "203.0.113.1")))
		<-up.entered
	}
	resp, body := do(t, client, request(t, "GET", h.url+"/fast", "X-Forwarded-For", "203.0.113.1"))
	assertNeutral(t, resp, body, http.StatusTooManyRequests)
	if got := resp.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After: got %q, want 1", got)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("the refusal lacks the security headers")
	}
	id := resp.Header.Get("X-Request-Id")
	if !strings.Contains(h.logs.String(), `"msg":"request refused by limit","request_id":"`+id+`","limit":"max_inflight_per_client","client_ip":"203.0.113.1"`) {
		t.Errorf("no log line with the request id %s:\n%s", id, h.logs.String())
	}
	if resp, _ := do(t, client, request(t, "GET", h.url+"/fast", "X-Forwarded-For", "203.0.113.2")); resp.StatusCode != 200 {
		t.Errorf("another client: got %d, want 200", resp.StatusCode)
	}
	close(up.release)
	for _, ch := range slow {
		if got := <-ch; got != 200 {
			t.Errorf("slow request: got %d, want 200", got)
		}
	}
	if resp, _ := do(t, client, request(t, "GET", h.url+"/fast", "X-Forwarded-For", "203.0.113.1")); resp.StatusCode != 200 {
		t.Errorf("after its requests finished: got %d, want 200", resp.StatusCode)
	}
	if got := metricValue(t, h, `rampart_limit_rejections_total{limit="max_inflight_per_client"}`); got != "1" {
		t.Errorf("rejections metric: got %q, want 1", got)
	}
	if got := metricValue(t, h, `rampart_requests_total{code="429",policy="limits",route="unmatched"}`); got != "1" {
		t.Errorf("requests metric: got %q, want 1", got)
	}
}

// TestGlobalOverload fills max_inflight with slow requests: the next waits
// in the queue and gets 503 quickly, one more finds the queue full, the
// admin listener still answers, and the gateway recovers.
func TestGlobalOverload(t *testing.T) {
	t.Parallel()
	up := newSlowUpstream(t)
	h := start(t, parse(t, up.URL, "limits:\n  max_inflight: 2\n  max_inflight_per_client: 0\n  max_queue: 1\n  queue_timeout: 300ms\n"))
	client := &http.Client{Timeout: 10 * time.Second}
	var slow []<-chan int
	for range 2 {
		slow = append(slow, inBackground(client, request(t, "GET", h.url+"/slow")))
		<-up.entered
	}
	start := time.Now()
	queued := inBackground(client, request(t, "GET", h.url+"/fast"))
	waitUntil(t, func() bool { return metricValue(t, h, "rampart_requests_queued") == "1" })
	resp, body := do(t, client, request(t, "GET", h.url+"/fast"))
	assertNeutral(t, resp, body, http.StatusServiceUnavailable)
	if got := resp.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After: got %q, want 1", got)
	}
	if resp, _ := get(t, h.admin+"/healthz"); resp.StatusCode != 200 {
		t.Errorf("admin /healthz under overload: got %d, want 200", resp.StatusCode)
	}
	if got := <-queued; got != http.StatusServiceUnavailable {
		t.Errorf("queued request: got %d, want 503 after the queue timeout", got)
	}
	bound := 2 * time.Second
	if testutil.RaceEnabled {
		bound = 6 * time.Second
	}
	if el := time.Since(start); el < 300*time.Millisecond || el > bound {
		t.Errorf("the queued request waited %v, want about queue_timeout (300ms)", el)
	}
	close(up.release)
	for _, ch := range slow {
		if got := <-ch; got != 200 {
			t.Errorf("slow request: got %d, want 200", got)
		}
	}
	if resp, _ := get(t, h.url+"/fast"); resp.StatusCode != 200 {
		t.Errorf("after recovery: got %d, want 200", resp.StatusCode)
	}
	if got := metricValue(t, h, `rampart_limit_rejections_total{limit="max_inflight"}`); got != "2" {
		t.Errorf("rejections metric: got %q, want 2", got)
	}
}

// TestUpstreamInflight: the upstream never holds more than
// max_upstream_inflight requests; the queue serialises a burst, and without
// a queue the excess gets 503 at once.
func TestUpstreamInflight(t *testing.T) {
	t.Parallel()
	t.Run("queue", func(t *testing.T) {
		t.Parallel()
		up := newSlowUpstream(t)
		h := start(t, parse(t, up.URL, "limits:\n  max_upstream_inflight: 1\n  max_queue: 8\n  queue_timeout: 10s\n"))
		client := &http.Client{Timeout: 20 * time.Second}
		var all []<-chan int
		for range 4 {
			all = append(all, inBackground(client, request(t, "GET", h.url+"/slow")))
		}
		<-up.entered
		waitUntil(t, func() bool { return metricValue(t, h, "rampart_requests_queued") == "3" })
		close(up.release)
		for _, ch := range all {
			if got := <-ch; got != 200 {
				t.Errorf("got %d, want 200", got)
			}
		}
		if got := up.peak.Load(); got != 1 {
			t.Errorf("the upstream held %d requests at once, want 1", got)
		}
	})
	t.Run("no queue", func(t *testing.T) {
		t.Parallel()
		up := newSlowUpstream(t)
		h := start(t, parse(t, up.URL, "limits:\n  max_upstream_inflight: 1\n  max_queue: 0\n"))
		client := &http.Client{Timeout: 10 * time.Second}
		held := inBackground(client, request(t, "GET", h.url+"/slow"))
		<-up.entered
		resp, body := do(t, client, request(t, "GET", h.url+"/fast"))
		assertNeutral(t, resp, body, http.StatusServiceUnavailable)
		if got := metricValue(t, h, `rampart_upstream_requests_in_flight{upstream="`+up.URL+`"}`); got != "1" {
			t.Errorf("upstream in-flight gauge: got %q, want 1", got)
		}
		close(up.release)
		if got := <-held; got != 200 {
			t.Errorf("held request: got %d, want 200", got)
		}
		if got := metricValue(t, h, `rampart_limit_rejections_total{limit="max_upstream_inflight"}`); got != "1" {
			t.Errorf("rejections metric: got %q, want 1", got)
		}
	})
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWebSocketGivesBackItsSlots: an upgraded WebSocket connection no
// longer holds request slots (it lives as long as the application wants,
// bounded by the connection limit), so with limits of one the next request
// is still served while it is open.
func TestWebSocketGivesBackItsSlots(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		_ = brw.Flush()
		<-hold
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, "limits:\n  max_inflight_per_client: 1\n  max_inflight: 1\n  max_upstream_inflight: 1\n  max_queue: 0\n"))
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(h.url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	line, _ := io.ReadAll(io.LimitReader(conn, 12))
	if string(line) != "HTTP/1.1 101" {
		t.Fatalf("handshake: got %q, want HTTP/1.1 101", line)
	}
	if resp, body := get(t, h.url+"/next"); resp.StatusCode != 200 {
		t.Errorf("request while a WebSocket is open: got %d %s, want 200", resp.StatusCode, body)
	}
}

// TestLimitsAcrossReload: a reload applies new limits to the requests the
// old configuration admitted, since the counts live as long as the
// gateway: two requests held under a limit of 5 fill a limit of 2.
func TestLimitsAcrossReload(t *testing.T) {
	t.Parallel()
	up := newSlowUpstream(t)
	h := start(t, parse(t, up.URL, "limits:\n  max_inflight_per_client: 5\n"))
	client := &http.Client{Timeout: 10 * time.Second}
	var slow []<-chan int
	for range 2 {
		slow = append(slow, inBackground(client, request(t, "GET", h.url+"/slow")))
		<-up.entered
	}
	if err := h.g.Reload(parse(t, up.URL, "limits:\n  max_inflight_per_client: 2\n")); err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, client, request(t, "GET", h.url+"/fast"))
	assertNeutral(t, resp, body, http.StatusTooManyRequests)
	close(up.release)
	for _, ch := range slow {
		if got := <-ch; got != 200 {
			t.Errorf("request admitted before the reload: got %d, want 200", got)
		}
	}
	if resp, _ := get(t, h.url+"/fast"); resp.StatusCode != 200 {
		t.Errorf("after they finished: got %d, want 200", resp.StatusCode)
	}
}
