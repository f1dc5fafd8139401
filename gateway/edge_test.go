package gateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

// rawSeen sends a raw request through the gateway at h and returns the
// response and what the echo upstream saw (zero when it was not reached).
func rawSeen(t *testing.T, h *harness, request string) (*testutil.RawResponse, seen) {
	t.Helper()
	resp := testutil.Raw(t, strings.TrimPrefix(h.url, "http://"), request)
	var s seen
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") == "application/json" {
		s = decodeSeen(t, string(resp.Body))
	}
	return resp, s
}

// upstreamHeaderNames lists the header names the upstream received, sorted.
func upstreamHeaderNames(s seen) []string {
	var names []string
	for k := range s.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// clientHeaders are what an attacker sends: every forwarding,
// client-address, override and Rampart-owned header, in the spellings
// CGI-style servers fold together.
var clientHeaders = []string{
	"X-Forwarded-For: 6.6.6.6",
	"X_Forwarded_For: 6.6.6.6",
	"X.Forwarded.For: 6.6.6.6",
	"X-Forwarded-Proto: https",
	"X_Forwarded_Proto: https",
	"X-Forwarded-Host: evil.example",
	"X_Forwarded_Host: evil.example",
	"X-Forwarded-Prefix: /admin",
	"X_Forwarded_Prefix: /evil",
	"X.Forwarded.Prefix: /evil",
	"X-Forwarded-Uri: /admin",
	"X-Forwarded-Method: DELETE",
	"X-Forwarded-Server: evil.example",
	"X-Forwarded-Port: 443",
	"X-Forwarded-Ssl: on",
	"X-Forwarded-Scheme: https",
	"X-Forwarded: for=6.6.6.6",
	"X-Forward-For: 6.6.6.6",
	"Forwarded: for=6.6.6.6;proto=https",
	"Forwarded-For: 6.6.6.6",
	"X-Real-IP: 6.6.6.6",
	"X_Real_IP: 6.6.6.6",
	"True-Client-IP: 6.6.6.6",
	"X-Client-IP: 6.6.6.6",
	"Client-IP: 6.6.6.6",
	"CF-Connecting-IP: 6.6.6.6",
	"Fastly-Client-IP: 6.6.6.6",
	"X-Cluster-Client-IP: 6.6.6.6",
	"X-Original-Forwarded-For: 6.6.6.6",
	"X-ProxyUser-Ip: 6.6.6.6",
	"X-Originating-IP: 6.6.6.6",
	"X-Remote-Addr: 6.6.6.6",
	"Front-End-Https: on",
	"X-Url-Scheme: https",
	"X-Original-URL: /admin",
	"X-Rewrite-URL: /admin",
	"X-Original-Host: evil.example",
	"X-Host: evil.example",
	"X-HTTP-Host-Override: evil.example",
	"X-HTTP-Method-Override: DELETE",
	"Proxy: http://evil.example:8080",
	"X-Request-Id: forged-incident",
	"X_Request_Id: forged-incident",
	"X-Rampart-User: admin",
	"X_Rampart_User: admin",
	"X.Rampart.User: admin",
	"X.Rampart.Roles: admin",
	"X-Rampart-Csp-Nonce: forged",
	"X-Rampart-Anything: forged",
	"Remote-User: admin",
	"X-Remote-User: admin",
	"X-Auth-Request-User: admin",
	"X-Auth-Request-Email: admin@example.com",
	"X-Authenticated-Userid: admin",
	"X-Webauth-User: admin",
	"X-Ms-Client-Principal-Name: admin",
	"Cf-Access-Authenticated-User-Email: admin@example.com",
	"X-Goog-Authenticated-User-Email: accounts.google.com:admin@example.com",
	"X-Amzn-Oidc-Identity: admin",
	"Remote_User: admin",
	"REMOTE-USER: admin",
	"X.Auth.Request.User: admin",
	"X-Auth-Request-Groups: admins",
	"Cf-Access-Jwt-Assertion: forged",
	"X_Custom_Header: odd",
	"X.Custom.Header: odd",
	"X-App: kept",
}

// TestEdgeHeaders sends every header a client must not choose, over raw
// TCP, and asserts the exact set of headers and values the upstream
// receives, from an untrusted and from a trusted peer.
func TestEdgeHeaders(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	req := testutil.RequestText("GET", "/x", "app.example.com", clientHeaders...)
	computed := []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id"}

	t.Run("untrusted peer", func(t *testing.T) {
		t.Parallel()
		h := start(t, parse(t, up.URL, "request_headers: {trusted_forwarding: [X-Forwarded-Prefix]}\n"))
		resp, s := rawSeen(t, h, req)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		want := append([]string{"X-App"}, computed...)
		slices.Sort(want)
		if got := upstreamHeaderNames(s); !slices.Equal(got, want) {
			t.Errorf("upstream headers:\n got %v\nwant %v", got, want)
		}
		for k, v := range map[string]string{
			"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1", "X-Forwarded-Proto": "http",
			"X-Forwarded-Host": "app.example.com", "Forwarded": `for=127.0.0.1;host="app.example.com";proto=http`,
			"X-Request-Id": resp.Header.Get("X-Request-Id"), "X-App": "kept",
		} {
			if got := s.Header.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%s: got %q, want %q", k, got, v)
			}
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		h := start(t, parse(t, up.URL, "trusted_proxies: [127.0.0.0/8]\nrequest_headers: {trusted_forwarding: [X-Forwarded-Prefix]}\n"))
		resp, s := rawSeen(t, h, req)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		want := append([]string{"X-App", "X-Forwarded-Prefix"}, computed...)
		slices.Sort(want)
		if got := upstreamHeaderNames(s); !slices.Equal(got, want) {
			t.Errorf("upstream headers:\n got %v\nwant %v", got, want)
		}
		for k, v := range map[string]string{
			"X-Forwarded-For": "6.6.6.6", "X-Real-Ip": "6.6.6.6", "X-Forwarded-Proto": "https",
			"X-Forwarded-Host": "evil.example", "Forwarded": `for=6.6.6.6;host="evil.example";proto=https`,
			"X-Request-Id": "", "X-Forwarded-Prefix": "/admin",
		} {
			got := s.Header.Values(k)
			if k == "X-Request-Id" {
				// "forged-incident" from a trusted proxy is a valid id and
				// is believed; the underscore copy is not passed.
				if len(got) != 1 || got[0] != "forged-incident" {
					t.Errorf("%s: got %q", k, got)
				}
				continue
			}
			if len(got) != 1 || got[0] != v {
				t.Errorf("%s: got %q, want %q", k, got, v)
			}
		}
	})
	t.Run("trusted proxy without opt-in", func(t *testing.T) {
		t.Parallel()
		h := start(t, parse(t, up.URL, "trusted_proxies: [127.0.0.0/8]\n"))
		_, s := rawSeen(t, h, req)
		if v := s.Header.Get("X-Forwarded-Prefix"); v != "" {
			t.Errorf("X-Forwarded-Prefix passed without trusted_forwarding: %q", v)
		}
	})
	t.Run("unusual names allowed", func(t *testing.T) {
		t.Parallel()
		h := start(t, parse(t, up.URL, "request_headers: {allow_unusual_names: true}\n"))
		_, s := rawSeen(t, h, req)
		want := append([]string{"X-App", "X.custom.header", "X_custom_header"}, computed...)
		slices.Sort(want)
		if got := upstreamHeaderNames(s); !slices.Equal(got, want) {
			t.Errorf("upstream headers:\n got %v\nwant %v", got, want)
		}
	})
}

// TestEdgeConnectionNomination: a client's Connection header cannot make
// the proxy drop the headers Rampart sets.
func TestEdgeConnectionNomination(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	resp := testutil.Raw(t, strings.TrimPrefix(h.url, "http://"),
		"GET /x HTTP/1.1\r\nHost: app.example.com\r\nConnection: X-Request-Id, X-Real-IP, Forwarded, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, keep-alive\r\n\r\n")
	s := decodeSeen(t, string(resp.Body))
	for _, k := range []string{"X-Request-Id", "X-Real-Ip", "Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"} {
		if len(s.Header.Values(k)) != 1 {
			t.Errorf("%s: got %q, want Rampart's value", k, s.Header.Values(k))
		}
	}
	if got := s.Header.Get("X-Request-Id"); got != resp.Header.Get("X-Request-Id") {
		t.Errorf("X-Request-Id: upstream %q, response %q", got, resp.Header.Get("X-Request-Id"))
	}
}

// TestEdgeEncodedDelimiters: %3F and %23 in a path are refused unless the
// route opts out.
func TestEdgeEncodedDelimiters(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `routes:
  - match: "GET /public/{path...}"
  - match: "GET /files/{path...}"
    allow_encoded_delimiters: true
`))
	for _, target := range []string{"/public/a%3Fb", "/public/a%3fb", "/public/a%23b", "/public/a%3F/../b", "/public/%3F"} {
		resp, _ := rawSeen(t, h, testutil.RequestText("GET", target, "app.example.com"))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, resp.StatusCode)
		}
	}
	resp, s := rawSeen(t, h, testutil.RequestText("GET", "/files/a%3fb%23c?x=1", "app.example.com"))
	if resp.StatusCode != 200 {
		t.Fatalf("opted-out route: status %d", resp.StatusCode)
	}
	if (s.RawPath != "" && s.RawPath != "/files/a%3Fb%23c") || s.Path != "/files/a?b#c" || s.Query != "x=1" {
		t.Errorf("upstream saw raw %q path %q query %q", s.RawPath, s.Path, s.Query)
	}
}

// TestEdgeHostRouting: host-scoped routes match every spelling of their
// host, and the application receives the canonical one.
func TestEdgeHostRouting(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `routes:
  - match: "admin.example.com/app/{path...}"
    allow_ips: [10.0.0.0/8]
  - match: "GET /app/{path...}"
`))
	for _, host := range []string{"admin.example.com", "ADMIN.example.com", "Admin.Example.Com", "admin.example.com.", "admin.example.com.:443", "ADMIN.EXAMPLE.COM.:8080"} {
		resp, _ := rawSeen(t, h, testutil.RequestText("GET", "/app/secret", host))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("Host %q: status %d, want 403 from the host-scoped route", host, resp.StatusCode)
		}
	}
	for host, want := range map[string]string{
		"www.example.com":       "www.example.com",
		"WWW.Example.COM.":      "www.example.com",
		"www.example.com.:8080": "www.example.com:8080",
		"[::FFFF:127.0.0.1]":    "127.0.0.1",
		"[2001:DB8::1]:80":      "[2001:db8::1]:80",
	} {
		resp, s := rawSeen(t, h, testutil.RequestText("GET", "/app/x", host))
		if resp.StatusCode != 200 {
			t.Errorf("Host %q: status %d", host, resp.StatusCode)
			continue
		}
		if s.Host != want || s.Header.Get("X-Forwarded-Host") != want {
			t.Errorf("Host %q: upstream saw Host %q, X-Forwarded-Host %q; want %q", host, s.Host, s.Header.Get("X-Forwarded-Host"), want)
		}
	}
}

// TestEdgeHostValidation: a malformed or missing host is refused on
// HTTP/1.0 and 1.1; a trusted proxy's X-Forwarded-Host passes the same
// checks and the Host allow-list.
func TestEdgeHostValidation(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	addr := func(h *harness) string { return strings.TrimPrefix(h.url, "http://") }
	h := start(t, parse(t, up.URL, ""))
	resp := testutil.Raw(t, addr(h), "GET /x HTTP/1.0\r\n\r\n")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("HTTP/1.0 without Host: status %d, want 400", resp.StatusCode)
	}
	for _, host := range []string{"user@app.example.com", "app.example.com:", "app.example.com:99999", "a..b", "-", "app_example com", "256.1.1.1", "127.1", "[::1%25eth0]"} {
		resp := testutil.Raw(t, addr(h), testutil.RequestText("GET", "/x", host))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Host %q: status %d, want 400", host, resp.StatusCode)
		}
	}
	d := start(t, parse(t, up.URL, "allow: {default_host: app.example.com}\n"))
	if _, err := gatewayNew(parse(t, up.URL, "allow: {default_host: evil.example, hosts: [app.example.com]}\n")); err == nil {
		t.Error("a default_host outside allow.hosts was accepted")
	}
	resp, s := rawSeen(t, d, "GET /x HTTP/1.0\r\n\r\n")
	if resp.StatusCode != 200 || s.Host != "app.example.com" {
		t.Errorf("HTTP/1.0 without Host, default_host set: status %d, host %q", resp.StatusCode, s.Host)
	}

	tr := start(t, parse(t, up.URL, "trusted_proxies: [127.0.0.0/8]\nallow: {hosts: [app.example.com]}\n"))
	for xfh, want := range map[string]int{
		"app.example.com":            200,
		"APP.example.com.":           200,
		"evil.example":               http.StatusMisdirectedRequest,
		"app.example.com, evil.test": http.StatusMisdirectedRequest,
		`x",for=6.6.6.6;host="good`:  http.StatusBadRequest,
		"app.example.com/../x":       http.StatusBadRequest,
		"":                           200,
	} {
		headers := []string{}
		if xfh != "" {
			headers = append(headers, "X-Forwarded-Host: "+xfh)
		}
		resp, s := rawSeen(t, tr, testutil.RequestText("GET", "/x", "app.example.com", headers...))
		if resp.StatusCode != want {
			t.Errorf("X-Forwarded-Host %q: status %d, want %d", xfh, resp.StatusCode, want)
			continue
		}
		if want == 200 && s.Header.Get("X-Forwarded-Host") != "app.example.com" {
			t.Errorf("X-Forwarded-Host %q: upstream saw %q", xfh, s.Header.Get("X-Forwarded-Host"))
		}
	}
	// The same, as separate header lines and with a duplicate's case and
	// spelling varied: every line is checked, not only the first.
	for _, headers := range [][]string{
		{"X-Forwarded-Host: app.example.com", "X-Forwarded-Host: evil.example"},
		{"X-Forwarded-Host: app.example.com", "x-forwarded-host: evil.example"},
	} {
		if resp, _ := rawSeen(t, tr, testutil.RequestText("GET", "/x", "app.example.com", headers...)); resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("%v: status %d, want 421", headers, resp.StatusCode)
		}
	}
	resp, s = rawSeen(t, tr, testutil.RequestText("GET", "/x", "app.example.com", "X_Forwarded_Host: evil.example"))
	if resp.StatusCode != 200 || s.Header.Get("X-Forwarded-Host") != "app.example.com" {
		t.Errorf("X_Forwarded_Host from a trusted proxy: status %d, upstream host %q", resp.StatusCode, s.Header.Get("X-Forwarded-Host"))
	}
}

// TestEdgeWebSocketOrigin: a WebSocket handshake from another site is
// refused like any unsafe cross-site request (cross-site WebSocket
// hijacking); a same-origin one and a non-browser one go through.
func TestEdgeWebSocketOrigin(t *testing.T) {
	t.Parallel()
	var upgrades int
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			w.WriteHeader(200)
			return
		}
		upgrades++
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
		_ = brw.Flush()
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, ""))
	handshake := func(extra ...string) int {
		headers := append([]string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"}, extra...)
		var b strings.Builder
		b.WriteString("GET /ws HTTP/1.1\r\nHost: app.example.com\r\n")
		for _, x := range headers {
			b.WriteString(x + "\r\n")
		}
		b.WriteString("\r\n")
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(h.url, "http://"), testutil.RawTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(testutil.RawTimeout))
		_, _ = io.WriteString(conn, b.String())
		resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("handshake %v: %v", extra, err)
		}
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name  string
		extra []string
		want  int
	}{
		{"cross-site", []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}, http.StatusForbidden},
		{"same-site", []string{"Origin: http://sub.app.example.com", "Sec-Fetch-Site: same-site"}, http.StatusForbidden},
		{"foreign origin, no fetch metadata", []string{"Origin: https://evil.example"}, http.StatusForbidden},
		{"look-alike origin", []string{"Origin: http://app.example.com.evil.example"}, http.StatusForbidden},
		{"null origin", []string{"Origin: null"}, http.StatusForbidden},
		{"same origin", []string{"Origin: http://app.example.com", "Sec-Fetch-Site: same-origin"}, http.StatusSwitchingProtocols},
		{"no browser headers", nil, http.StatusSwitchingProtocols},
	} {
		if got := handshake(tc.extra...); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	if upgrades != 2 {
		t.Errorf("the upstream saw %d handshakes, want 2 (the refused ones must not reach it)", upgrades)
	}
}

// TestEdgeUpgradeDeadlines: only a real WebSocket handshake is upgraded,
// and the connection's deadlines hold until the upstream answers 101: a
// handshake with a body that never finishes is cut by read_timeout.
func TestEdgeUpgradeDeadlines(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, "limits: {read_timeout: 1s, write_timeout: 2s}\n"))
	addr := strings.TrimPrefix(h.url, "http://")

	for name, req := range map[string]string{
		"POST with Upgrade":  "POST /x HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
		"no key":             "GET /x HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"version 8":          "GET /x HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
		"h2c":                "GET /x HTTP/1.1\r\nHost: a.example\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
		"two Upgrade values": "GET /x HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
	} {
		resp, s := rawSeen(t, h, req)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d, want 200 as a plain request", name, resp.StatusCode)
			continue
		}
		if s.Header.Get("Upgrade") != "" || strings.Contains(strings.ToLower(s.Header.Get("Connection")), "upgrade") {
			t.Errorf("%s: the upstream was asked to upgrade: %v", name, s.Header)
		}
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /x HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 100\r\n\r\nab")
	_ = conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	start := time.Now()
	_, _ = io.Copy(io.Discard, conn)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("a handshake with a stalled body held the connection for %v; read_timeout is 1s", el)
	}
}

// TestEdgeShield: error bodies whose type is ambiguous or unusual are
// judged, 103 Early Hints do not wipe the headers Rampart set for the
// final response, and a malformed chunked request body is the client's
// error, not the upstream's.
func TestEdgeShield(t *testing.T) {
	t.Parallel()
	trace := "Error: boom\n    at Object.<anonymous> (/srv/app/index.js:10:11)\n    at Module._compile (node:internal/modules/cjs/loader:1105:14)\n"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/two-types":
			w.Header()["Content-Type"] = []string{"image/png", "text/html"}
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, trace)
		case "/comma-type":
			w.Header().Set("Content-Type", "image/png, text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "<p>not found</p>")
		case "/octet", "/xjs", "/pdf", "/ecma":
			w.Header().Set("Content-Type", map[string]string{"/octet": "application/octet-stream", "/xjs": "application/x-javascript", "/pdf": "application/pdf", "/ecma": "application/ecmascript"}[r.URL.Path])
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, trace)
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "\x89PNG\r\n\x1a\n")
		case "/hints":
			w.Header().Set("Link", "</app.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Vary", "Accept-Encoding")
			_, _ = io.WriteString(w, "ok")
		default:
			n, err := io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, strings.Repeat("x", int(n))+errString(err))
		}
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, `cors: {origins: ["https://app.example.com"]}
rate_limits: [{name: per-ip, key: ip, limit: 1000, per: 1m}]
`))
	for _, path := range []string{"/two-types", "/comma-type", "/octet", "/xjs", "/pdf", "/ecma"} {
		resp, body := get(t, h.url+path)
		if strings.Contains(body, "index.js") || strings.Contains(body, "not found</p>") {
			t.Errorf("%s: the upstream's error body reached the client: %q", path, body)
		}
		if resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: content type %q, want the neutral problem", path, resp.Header.Get("Content-Type"))
		}
	}
	if resp, _ := get(t, h.url+"/png"); resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("an image 404 was replaced: %q", resp.Header.Get("Content-Type"))
	}

	req, _ := http.NewRequest("GET", h.url+"/hints", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, body := do(t, nil, req)
	if body != "ok" {
		t.Fatalf("early hints: body %q", body)
	}
	for _, k := range []string{"X-Request-Id", "Ratelimit", "Ratelimit-Policy", "Access-Control-Allow-Origin", "X-Content-Type-Options", "Content-Security-Policy"} {
		if resp.Header.Get(k) == "" {
			t.Errorf("after 103 Early Hints the final response lacks %s: %v", k, resp.Header)
		}
	}
	if v := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(v, "Origin") || !strings.Contains(v, "Accept-Encoding") {
		t.Errorf("after 103 Early Hints Vary is %q, want Origin and the upstream's Accept-Encoding", v)
	}

	before := upstreamErrors(t, h)
	r := testutil.Raw(t, strings.TrimPrefix(h.url, "http://"), "POST /chunked HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\nzz\r\nxx\r\n0\r\n\r\n")
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed chunked body: status %d, want 400 (%s)", r.StatusCode, r.Body)
	}
	if after := upstreamErrors(t, h); after != before {
		t.Errorf("a malformed request body counted as an upstream error (%v -> %v)", before, after)
	}
}

func errString(err error) string {
	if err != nil {
		return " error: " + err.Error()
	}
	return ""
}

// upstreamErrors reads rampart_upstream_errors_total from the admin
// listener, summed over kinds.
func upstreamErrors(t *testing.T, h *harness) float64 {
	t.Helper()
	_, body := get(t, h.admin+"/metrics")
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "rampart_upstream_errors_total") {
			var v float64
			f := strings.Fields(line)
			_, _ = fmt.Sscan(f[len(f)-1], &v)
			sum += v
		}
	}
	return sum
}

// TestEdgeCatchAllRoutes: "/" and "/{path...}" both work as a catch-all,
// and a real conflict between two routes names both by key and line, never
// a source file of Rampart's.
func TestEdgeCatchAllRoutes(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	for _, pattern := range []string{"/", "/{path...}", "/{rest...}"} {
		h := start(t, parse(t, up.URL, "routes:\n  - match: \"GET /api/{id}\"\n  - match: \""+pattern+"\"\n    auth: none\n"))
		for _, target := range []string{"/", "/x", "/a/b/c", "/api/1"} {
			if resp, _ := rawSeen(t, h, testutil.RequestText("GET", target, "app.example.com")); resp.StatusCode != 200 {
				t.Errorf("catch-all %q: GET %s got %d", pattern, target, resp.StatusCode)
			}
		}
	}
	for _, tc := range []struct{ yaml, want string }{
		{"routes:\n  - match: \"/{path...}\"\n  - match: \"/{other...}\"\n", `routes[1].match: pattern "/{other...}" conflicts with "/{path...}" at routes[0] (line 3)`},
		{"routes:\n  - match: \"GET /a/{x}\"\n  - match: \"GET /{y}/b\"\n  - match: \"GET /a/b/c\"\n", `routes[1].match: pattern "GET /{y}/b" conflicts with "GET /a/{x}" at routes[0] (line 3)`},
		{"routes:\n  - match: \"GET /.rampart/{x}\"\n", `Rampart's own endpoints`},
		{"routes:\n  - match: \"app.example.com/.rampart/x\"\n", `Rampart's own endpoints`},
	} {
		c := parse(t, up.URL, tc.yaml)
		_, err := gatewayNew(c)
		if err == nil {
			t.Errorf("%q: no error", tc.yaml)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), ".go:") {
			t.Errorf("%q:\n got %v\nwant it to contain %q and no source location", tc.yaml, err, tc.want)
		}
	}
}

func gatewayNew(c *configT) (*gateway.Gateway, error) {
	g, err := gateway.New(c, gateway.Options{})
	if err == nil {
		_ = g.Close()
	}
	return g, err
}

// TestCutBodyIsNotASuccess: a request body cut off by read_timeout is
// answered 408 (or the connection closes without a status), never 2xx,
// and the upstream never completes the request.
func TestCutBodyIsNotASuccess(t *testing.T) {
	t.Parallel()
	var completed atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err == nil {
			completed.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, "limits: {read_timeout: 1s}\n"))
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "POST /x HTTP/1.1\r\nHost: a.example\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "POST"})
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("a cut body was answered %d", resp.StatusCode)
		} else if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("a cut body was answered %d, want 408", resp.StatusCode)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := completed.Load(); n != 0 {
		t.Errorf("the upstream completed %d cut requests", n)
	}
}
