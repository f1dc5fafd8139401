package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// crashingUpstream answers /crash with a stack trace (which the shield
// replaces with a neutral 500) and everything else with 200.
func crashingUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/crash" {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "Error: boom\n    at Object.<anonymous> (/app/server.js:12:9)\n")
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCORSOnRampartsOwnAnswers: a page on an allowed origin can read every
// answer Rampart gives it — 429 from a rate limit, 403 from an IP list,
// 421 from the Host check, 404 from the route table, 500 from the shield —
// with the incident id and Retry-After exposed, and every response varies
// on Origin. A disallowed origin gets none of it.
func TestCORSOnRampartsOwnAnswers(t *testing.T) {
	t.Parallel()
	up := crashingUpstream(t)
	const friend = "https://app.example.com"
	h := start(t, parse(t, up.URL, `cors:
  origins: ["`+friend+`"]
  credentials: true
  expose_headers: [X-Total]
allow:
  hosts: ["127.0.0.1", "api.example.com"]
rate_limits:
  - {name: per-ip, key: ip, limit: 3, per: 1m}
routes:
  - match: "GET /ok"
  - match: "GET /crash"
  - match: "GET /internal"
    allow_ips: ["10.0.0.0/8"]
`))
	send := func(path, origin, host string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", h.url+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Accept", "application/json")
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	checkCORS := func(name string, resp *http.Response, want int) {
		t.Helper()
		if resp.StatusCode != want {
			t.Errorf("%s: status got %d, want %d", name, resp.StatusCode, want)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != friend {
			t.Errorf("%s: Access-Control-Allow-Origin got %q, want %q", name, got, friend)
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("%s: Access-Control-Allow-Credentials got %q, want true", name, got)
		}
		if got := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(got, "Origin") {
			t.Errorf("%s: Vary got %q, want Origin", name, got)
		}
		expose := resp.Header.Get("Access-Control-Expose-Headers")
		if !strings.Contains(expose, "X-Request-Id") || !strings.Contains(expose, "X-Total") {
			t.Errorf("%s: Access-Control-Expose-Headers got %q, want X-Total and X-Request-Id", name, expose)
		}
	}
	checkCORS("200 from the app", send("/ok", friend, ""), 200)
	checkCORS("500 from the shield", send("/crash", friend, ""), 500)
	checkCORS("404 from the route table", send("/nowhere", friend, ""), 404)
	checkCORS("403 from a route's IP list", send("/internal", friend, ""), 403)
	checkCORS("421 from the Host check", send("/ok", friend, "evil.example.net"), 421)
	var limited *http.Response
	for range 5 {
		if limited = send("/ok", friend, ""); limited.StatusCode == 429 {
			break
		}
	}
	checkCORS("429 from a rate limit", limited, 429)
	if ra := limited.Header.Get("Retry-After"); ra == "" || !strings.Contains(limited.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Errorf("429: Retry-After %q not exposed (%q)", ra, limited.Header.Get("Access-Control-Expose-Headers"))
	}

	// A disallowed origin reads nothing, and the answers still vary.
	for _, path := range []string{"/ok", "/nowhere", "/crash"} {
		resp := send(path, "https://evil.example", "")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s for a disallowed origin: Access-Control-Allow-Origin %q", path, got)
		}
		if got := strings.Join(resp.Header.Values("Vary"), ","); !strings.Contains(got, "Origin") {
			t.Errorf("%s for a disallowed origin: Vary got %q, want Origin", path, got)
		}
	}
	// Without an Origin the answers vary too: a cache must not serve one
	// origin's answer to another.
	if got := strings.Join(send("/nowhere", "", "").Header.Values("Vary"), ","); !strings.Contains(got, "Origin") {
		t.Errorf("404 without Origin: Vary got %q, want Origin", got)
	}
}

// TestCORSOnRampartsEndpoints: an allowed origin's single-page app can use
// Rampart's own auth endpoints: preflights of /.rampart/token, /login and
// /me are answered (not 405), and the answers carry credentials.
func TestCORSOnRampartsEndpoints(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	y, db := authConfig(t, up.URL)
	seedUser(t, db, "alice", "editor")
	const spa = "https://spa.example.com"
	h := start(t, parse(t, up.URL, y+`cors:
  origins: ["`+spa+`"]
  credentials: true
  methods: [GET, POST]
  headers: [Content-Type, Authorization]
`))
	for _, path := range []string{"/.rampart/token", "/.rampart/login", "/.rampart/me", "/.rampart/logout"} {
		req, _ := http.NewRequest("OPTIONS", h.url+path, nil)
		req.Header.Set("Origin", spa)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != spa ||
			resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight of %s: got %d, ACAO %q, ACAC %q; want 204 for %s with credentials", path,
				resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"), spa)
		}
	}
	// The token request itself, as the browser sends it cross-site.
	req, _ := http.NewRequest("POST", h.url+"/.rampart/token", strings.NewReader(`{"username":"alice","password":"`+testPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", spa)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "access_token") || resp.Header.Get("Access-Control-Allow-Origin") != spa {
		t.Errorf("cross-origin token request: got %d %q, ACAO %q", resp.StatusCode, body, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// A JSON login from the allowed origin signs in; from another site it
	// is refused as a login CSRF.
	for _, tc := range []struct {
		origin string
		want   int
	}{{spa, 200}, {"https://evil.example", 403}} {
		req, _ := http.NewRequest("POST", h.url+"/.rampart/login", strings.NewReader(`{"username":"alice","password":"`+testPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("JSON login from %s: got %d, want %d", tc.origin, resp.StatusCode, tc.want)
		}
	}
}
