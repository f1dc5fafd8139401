package gateway_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rampartsec/rampart/internal/testutil"
)

func TestProxyGET(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	req, _ := http.NewRequest("GET", h.url+"/a/b?x=1&y=%2F", nil)
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "must not pass")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Proxy-Authorization", "Basic c2VjcmV0")
	req.Header.Set("X-App", "kept")
	req.Host = "app.example.com"
	resp, body := do(t, nil, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	s := decodeSeen(t, body)
	if s.Path != "/a/b" || s.Query != "x=1&y=%2F" {
		t.Errorf("path/query: got %q %q", s.Path, s.Query)
	}
	if s.Host != "app.example.com" {
		t.Errorf("host: got %q, want the public host app.example.com", s.Host)
	}
	for _, k := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization"} {
		if v := s.Header.Get(k); v != "" {
			t.Errorf("hop-by-hop header %s reached the upstream: %q", k, v)
		}
	}
	if s.Header.Get("X-App") != "kept" {
		t.Error("end-to-end header X-App was dropped")
	}
	id := resp.Header.Get("X-Request-Id")
	if id == "" || s.Header.Get("X-Request-Id") != id {
		t.Errorf("request id: response %q, upstream %q", id, s.Header.Get("X-Request-Id"))
	}
	for k, want := range map[string]string{
		"X-Forwarded-For":   "127.0.0.1",
		"X-Real-Ip":         "127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Host":  "app.example.com",
		"Forwarded":         `for=127.0.0.1;host="app.example.com";proto=http`,
	} {
		if got := s.Header.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
}

// TestSpoofedForwardingHeaders: a client that is not a trusted proxy cannot
// choose the address, scheme or host the upstream believes.
func TestSpoofedForwardingHeaders(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	spoof := func(req *http.Request) {
		req.Header.Set("X-Forwarded-For", "1.2.3.4")
		req.Header.Set("X-Real-IP", "1.2.3.4")
		req.Header.Set("Forwarded", "for=1.2.3.4;proto=https")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Request-Id", "forged-incident")
		req.Header.Set("X-Rampart-User", "admin")
		req.Header.Set("X_Rampart_Roles", "admin")
		req.Header.Set("X-Rampart-CSP-Nonce", "forged-nonce")
		req.Header.Set("X-Rampart-CSRF-Token", "forged-token")
		// PHP, Rack and WSGI read "_" as "-": these are the same headers
		// to many applications.
		req.Header["X_Rampart_Csp_Nonce"] = []string{"forged-nonce"}
		req.Header["X_Rampart_Csrf_Token"] = []string{"forged-token"}
	}
	t.Run("untrusted peer", func(t *testing.T) {
		t.Parallel()
		h := start(t, parse(t, up.URL, ""))
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		spoof(req)
		resp, body := do(t, nil, req)
		s := decodeSeen(t, body)
		for k, want := range map[string]string{
			"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1", "X-Forwarded-Proto": "http",
		} {
			if got := strings.Join(s.Header.Values(k), ","); got != want {
				t.Errorf("%s: got %q, want %q", k, got, want)
			}
		}
		if got := s.Header.Get("X-Forwarded-Host"); got == "evil.example" {
			t.Errorf("X-Forwarded-Host: client value passed on")
		}
		if strings.Contains(s.Header.Get("Forwarded"), "1.2.3.4") {
			t.Errorf("Forwarded: client value passed on: %q", s.Header.Get("Forwarded"))
		}
		if resp.Header.Get("X-Request-Id") == "forged-incident" || s.Header.Get("X-Request-Id") == "forged-incident" {
			t.Error("client chose its own request id")
		}
		// Headers only Rampart may send upstream are removed even in
		// zero-config mode, with no authentication configured.
		for _, k := range []string{"X-Rampart-User", "X_rampart_roles", "X-Rampart-Roles", "X-Rampart-Csp-Nonce", "X-Rampart-Csrf-Token", "X_rampart_csp_nonce", "X_rampart_csrf_token"} {
			if v := s.Header.Get(k); v != "" && strings.HasPrefix(v, "forged") || v == "admin" {
				t.Errorf("%s reached the upstream: %q", k, v)
			}
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		h := start(t, parse(t, up.URL, "trusted_proxies: [127.0.0.0/8]\n"))
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		spoof(req)
		req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
		_, body := do(t, nil, req)
		s := decodeSeen(t, body)
		for k, want := range map[string]string{
			"X-Forwarded-For": "198.51.100.7", "X-Real-Ip": "198.51.100.7",
			"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
			"X-Request-Id": "forged-incident",
		} {
			if got := strings.Join(s.Header.Values(k), ","); got != want {
				t.Errorf("%s: got %q, want %q", k, got, want)
			}
		}
	})
}

// TestStreamedRequestBody sends 100 MB through the gateway and checks that
// the upstream receives every byte, and that it starts receiving before the
// client has finished sending (nothing buffers the whole body).
func TestStreamedRequestBody(t *testing.T) {
	t.Parallel()
	const size = 100 << 20
	firstChunk := make(chan struct{})
	type result struct {
		n   int64
		sum string
	}
	got := make(chan result, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash := sha256.New()
		buf := make([]byte, 64<<10)
		var n int64
		signalled := false
		for {
			k, err := r.Body.Read(buf)
			hash.Write(buf[:k])
			n += int64(k)
			if !signalled && n >= 1<<20 {
				close(firstChunk)
				signalled = true
			}
			if err != nil {
				break
			}
		}
		got <- result{n, hex.EncodeToString(hash.Sum(nil))}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, "limits:\n  max_body_bytes: 200MiB\n"))

	pr, pw := io.Pipe()
	sent := sha256.New()
	go func() {
		chunk := make([]byte, 1<<20)
		for i := range chunk {
			chunk[i] = byte(i * 7)
		}
		for i := 0; i < size/len(chunk); i++ {
			if i == 2 {
				// Two chunks are out; the upstream must have the first
				// before we send more.
				select {
				case <-firstChunk:
				case <-time.After(10 * time.Second):
					pw.CloseWithError(fmt.Errorf("upstream saw nothing after 2 MiB: the body is being buffered"))
					return
				}
			}
			sent.Write(chunk)
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", h.url+"/upload", pr)
	resp, _ := do(t, nil, req)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status: got %d, want 204", resp.StatusCode)
	}
	r := <-got
	if r.n != size || r.sum != hex.EncodeToString(sent.Sum(nil)) {
		t.Errorf("upstream got %d bytes (sha256 %s), want %d bytes matching what was sent", r.n, r.sum, size)
	}
}

// TestStreamedResponse checks that response chunks reach the client as the
// upstream flushes them.
func TestStreamedResponse(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "data: second\n\n")
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, ""))
	resp, err := http.Get(h.url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line := make(chan string, 1)
	go func() {
		l, _ := br.ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "data: first\n" {
			t.Fatalf("got %q, want the first event", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first event not delivered while the upstream was still streaming")
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Errorf("second event missing: %q", rest)
	}
}

func TestWebSocketEcho(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	}))
	t.Cleanup(up.Close)
	// Short whole-request timeouts prove an upgraded connection is exempt.
	h := start(t, parse(t, up.URL, "limits:\n  read_timeout: 300ms\n  write_timeout: 300ms\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.url, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial through gateway: %v", err)
	}
	defer c.CloseNow()
	for i := range 3 {
		if i == 2 {
			time.Sleep(500 * time.Millisecond)
		}
		msg := fmt.Sprintf("hello %d", i)
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if string(got) != "echo: "+msg {
			t.Errorf("got %q, want %q", got, "echo: "+msg)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// TestH2CUpgradeStripped: an h2c upgrade through a proxy can smuggle
// requests past its checks; only WebSocket upgrades pass.
func TestH2CUpgradeStripped(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	req, _ := http.NewRequest("GET", h.url+"/", nil)
	req.Header.Set("Connection", "Upgrade, HTTP2-Settings")
	req.Header.Set("Upgrade", "h2c")
	req.Header.Set("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA")
	resp, body := do(t, nil, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	s := decodeSeen(t, body)
	if v := s.Header.Get("Upgrade"); v != "" {
		t.Errorf("Upgrade reached the upstream: %q", v)
	}
}

func TestMethodsRefused(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	for _, m := range []string{"TRACE", "CONNECT"} {
		req, _ := http.NewRequest(m, h.url+"/", nil)
		if m == "CONNECT" {
			req.URL.Path, req.Host = "", "example.com:443"
		}
		resp, body := do(t, nil, req)
		assertNeutral(t, resp, body, http.StatusMethodNotAllowed)
	}
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, "limits:\n  max_body_bytes: 1KiB\nroutes:\n  - match: /small\n    max_body_bytes: 10\n  - match: /\n"))
	tests := []struct {
		name    string
		path    string
		body    string
		chunked bool
		want    int
	}{
		{"under global limit", "/any", strings.Repeat("a", 1024), false, 200},
		{"over global limit by content-length", "/any", strings.Repeat("a", 1025), false, 413},
		{"over global limit chunked", "/any", strings.Repeat("a", 4096), true, 413},
		{"route limit", "/small", strings.Repeat("a", 11), false, 413},
		{"route limit chunked", "/small", strings.Repeat("a", 11), true, 413},
		{"under route limit", "/small", "0123456789", true, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				r = io.MultiReader(r) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("POST", h.url+tc.path, r)
			resp, body := do(t, nil, req)
			if tc.want == 413 {
				assertNeutral(t, resp, body, 413)
				return
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
			}
			if s := decodeSeen(t, body); s.Body != int64(len(tc.body)) {
				t.Errorf("upstream got %d bytes, want %d", s.Body, len(tc.body))
			}
		})
	}
}

func TestSlowlorisAndHugeHeaders(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, "limits:\n  read_header_timeout: 300ms\n  max_header_bytes: 4KiB\n"))
	addr := strings.TrimPrefix(h.url, "http://")

	t.Run("slow headers are cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for range 10 {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte("a")); err != nil {
				break
			}
		}
		_, err = io.ReadAll(conn)
		if elapsed := time.Since(start); elapsed > 3*time.Second || err != nil {
			t.Errorf("connection not closed promptly: %v after %v", err, elapsed)
		}
	})
	t.Run("oversized headers get 431", func(t *testing.T) {
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 8<<10))
		resp, _ := do(t, nil, req)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("got %d, want 431", resp.StatusCode)
		}
	})
}

func TestUpstreamFailuresAreNeutral(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		h := start(t, parse(t, "http://"+testutil.FreeAddr(t), ""))
		resp, body := get(t, h.url+"/x")
		assertNeutral(t, resp, body, http.StatusBadGateway)
		if strings.Contains(body, "refused") || strings.Contains(body, "127.0.0.1") {
			t.Errorf("internal detail leaked: %s", body)
		}
		id := resp.Header.Get("X-Request-Id")
		if !testutil.WaitFor(2*time.Second, func() bool {
			return strings.Contains(h.logs.String(), `"msg":"upstream error","request_id":"`+id+`"`)
		}) {
			t.Errorf("incident %s not in the log:\n%s", id, h.logs)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		block := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(func() { close(block); up.Close() })
		h := start(t, parse(t, up.URL, "limits:\n  upstream_timeout: 200ms\n"))
		resp, body := get(t, h.url+"/slow")
		assertNeutral(t, resp, body, http.StatusGatewayTimeout)
	})
	t.Run("reset after headers aborts the client connection", func(t *testing.T) {
		t.Parallel()
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		}))
		t.Cleanup(up.Close)
		h := start(t, parse(t, up.URL, ""))
		resp, err := http.Get(h.url + "/")
		if err != nil {
			return // aborted before the headers were flushed: fine
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Error("a truncated upstream response looked complete to the client")
		}
	})
}

func TestHTTP2OnTLS(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	dir := t.TempDir()
	cert, key, pool := testutil.SelfSignedCert(t, dir)
	h := start(t, parse(t, up.URL, fmt.Sprintf("tls:\n  cert: %q\n  key: %q\n", cert, key)))
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}}
	req, _ := http.NewRequest("GET", h.url+"/h2", nil)
	resp, body := do(t, client, req)
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol: got %s, want HTTP/2", resp.Proto)
	}
	if s := decodeSeen(t, body); s.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("X-Forwarded-Proto: got %q, want https", s.Header.Get("X-Forwarded-Proto"))
	}
}

func TestRoundRobinAndFailover(t *testing.T) {
	t.Parallel()
	hits := make([]int, 2)
	var servers []string
	for i := range 2 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i]++ // the test sends sequentially
			_ = json.NewEncoder(w).Encode(i)
		}))
		t.Cleanup(srv.Close)
		servers = append(servers, srv.URL)
	}
	down := "http://" + testutil.FreeAddr(t)
	h := start(t, parse(t, "", fmt.Sprintf("upstream: [%q, %q, %q]\n", servers[0], servers[1], down)))
	// Wait for the prober to mark the dead upstream down.
	time.Sleep(300 * time.Millisecond)
	for range 20 {
		resp, _ := get(t, h.url+"/")
		if resp.StatusCode != 200 {
			t.Fatalf("got %d: a down upstream was chosen", resp.StatusCode)
		}
	}
	if hits[0] < 5 || hits[1] < 5 {
		t.Errorf("uneven distribution: %v", hits)
	}
}
