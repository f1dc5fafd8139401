package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/internal/testutil"
)

// loginJSON posts a JSON login and returns the response.
func loginJSON(t *testing.T, client *http.Client, base, user, pw string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/.rampart/login", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
	req.Header.Set("Content-Type", "application/json")
	return do(t, client, req)
}

// seedPostgresUser creates a user in the PostgreSQL database at dsn.
func seedPostgresUser(t *testing.T, pg *testutil.Postgres, name string) {
	t.Helper()
	ctx := context.Background()
	st, err := users.NewSQLStore(ctx, pg.Open(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := password.NewHasher(password.Params{})
	hash, err := h.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, users.User{Name: name, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

// TestStartWhilePostgresIsDown: the gateway starts although its user
// database refuses connections (nothing listens where it should be): it
// serves the routes that need no user, answers /readyz 503 naming the
// store, refuses logins with 503 and Retry-After without counting them
// against the user, and becomes ready once the database answers — after
// which the same user logs in at once from the same address.
func TestStartWhilePostgresIsDown(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	seedPostgresUser(t, pg, "dora")
	up := echoUpstream(t)
	addr := testutil.FreeAddr(t) // the database's address: nothing listens yet
	dsn := strings.Replace(pg.DSN, pg.Addr, addr, 1)
	h := start(t, parse(t, up.URL, fmt.Sprintf(`store: {postgres: %q}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 5m, refresh_ttl: 24h}
env: development
routes:
  - match: "GET /public"
    auth: none
  - match: "GET /notes"
`, dsn)))

	if resp, _ := get(t, h.url+"/public"); resp.StatusCode != 200 {
		t.Errorf("public route while the database is down: got %d, want 200", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, func() bool { r, _ := get(t, h.admin+"/readyz"); return r.StatusCode == 503 })
	if resp, body := get(t, h.admin+"/readyz"); resp.StatusCode != 503 || !strings.Contains(body, "postgres") {
		t.Errorf("/readyz: got %d %q, want 503 naming postgres", resp.StatusCode, body)
	}
	for i := range 8 {
		resp, body := loginJSON(t, nil, h.url, "dora", testPassword)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("login %d while the database is down: got %d Retry-After %q, want 503 with Retry-After", i+1, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if strings.Contains(body, "connect") || strings.Contains(body, addr) {
			t.Fatalf("the store's error reached the client: %s", body)
		}
	}
	req, _ := http.NewRequest("POST", h.url+"/.rampart/token", strings.NewReader(`{"username":"dora","password":"`+testPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, _ := do(t, nil, req); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("token password grant while the database is down: got %d, want 503 with Retry-After", resp.StatusCode)
	}
	if m := metricsText(t, h); !strings.Contains(m, `rampart_store_up{store="postgres"} 0`) {
		t.Errorf("metrics while the database is down: want rampart_store_up{store=\"postgres\"} 0\n%s", grep(m, "rampart_store_up"))
	}

	// The database comes up where it was expected.
	testutil.StartCutProxy(t, addr, pg.Addr)
	waitFor(t, 60*time.Second, func() bool { r, _ := get(t, h.admin+"/readyz"); return r.StatusCode == 200 })
	if resp, body := loginJSON(t, nil, h.url, "dora", testPassword); resp.StatusCode != 200 {
		t.Fatalf("login after the database came up: got %d %s, want 200 (the outage must not count against the user)", resp.StatusCode, body)
	}
	waitFor(t, 5*time.Second, func() bool {
		return strings.Contains(metricsText(t, h), `rampart_store_up{store="postgres"} 1`)
	})
	if !strings.Contains(h.logs.String(), "the database answered; ready") {
		t.Errorf("no log line saying the database answered:\n%s", grep(h.logs.String(), "database"))
	}
}

// TestPostgresOutageWhileServing: PostgreSQL is cut off after the gateway
// started (every connection dropped, new ones refused). Logins and
// password grants answer 503 with Retry-After and count nothing; a
// refresh answers 503 and consumes nothing; /readyz stays ready but says
// it is degraded; rampart_store_up goes to 0. After the database is back,
// the user logs in at once and the refresh token presented during the
// outage still works.
func TestPostgresOutageWhileServing(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	seedPostgresUser(t, pg, "eve")
	up := echoUpstream(t)
	proxy := testutil.StartCutProxy(t, "", pg.Addr)
	dsn := strings.Replace(pg.DSN, pg.Addr, proxy.Addr, 1)
	h := start(t, parse(t, up.URL, fmt.Sprintf(`store: {postgres: %q}
auth:
  sessions: {idle_timeout: 30m, absolute_timeout: 12h}
  tokens: {access_ttl: 5m, refresh_ttl: 24h}
env: development
routes:
  - match: "GET /public"
    auth: none
`, dsn)))
	waitFor(t, 5*time.Second, func() bool { r, _ := get(t, h.admin+"/readyz"); return r.StatusCode == 200 })
	token := func(body string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", h.url+"/.rampart/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return do(t, nil, req)
	}
	resp, body := token(`{"username":"eve","password":"` + testPassword + `"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("password grant: got %d %s", resp.StatusCode, body)
	}
	refresh := between(body, `"refresh_token":"`, `"`)

	proxy.Cut()
	for i := range 8 {
		if resp, _ := loginJSON(t, nil, h.url, "eve", testPassword); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("login %d during the outage: got %d Retry-After %q, want 503 with Retry-After", i+1, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp, body := token(`{"refresh_token":"` + refresh + `"}`); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("refresh during the outage: got %d %s, want 503 with Retry-After", resp.StatusCode, body)
	}
	if resp, _ := get(t, h.url+"/public"); resp.StatusCode != 200 {
		t.Errorf("public route during the outage: got %d, want 200", resp.StatusCode)
	}
	waitFor(t, 10*time.Second, func() bool {
		_, b := get(t, h.admin+"/readyz")
		return strings.Contains(b, "degraded") && strings.Contains(b, "postgres")
	})
	if resp, _ := get(t, h.admin+"/readyz"); resp.StatusCode != 200 {
		t.Errorf("/readyz during an outage of a store that answered before: got %d, want 200 (degraded)", resp.StatusCode)
	}

	proxy.Restore()
	waitFor(t, 10*time.Second, func() bool { _, b := get(t, h.admin+"/readyz"); return b == "ready\n" })
	if resp, body := loginJSON(t, nil, h.url, "eve", testPassword); resp.StatusCode != 200 {
		t.Fatalf("login after the outage: got %d %s, want 200", resp.StatusCode, body)
	}
	if resp, body := token(`{"refresh_token":"` + refresh + `"}`); resp.StatusCode != 200 {
		t.Fatalf("retried refresh after the outage: got %d %s, want 200 (nothing consumed or revoked)", resp.StatusCode, body)
	}
}

// metricsText returns the admin listener's /metrics.
func metricsText(t *testing.T, h *harness) string {
	t.Helper()
	_, body := get(t, h.admin+"/metrics")
	return body
}

// between returns the text of s between the first start and the next end.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

// TestForwardingHeadersFromAnUntrustedPrivatePeer: a proxy left out of
// trusted_proxies (here the test client on loopback) sends X-Forwarded-For;
// Rampart ignores it, as it must, and says so: one warning per peer per
// interval, and a metric counting every such request. A trusted peer is
// not reported.
func TestForwardingHeadersFromAnUntrustedPrivatePeer(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	for range 3 {
		req, _ := http.NewRequest("GET", h.url+"/x", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		resp, body := do(t, nil, req)
		if resp.StatusCode != 200 {
			t.Fatalf("got %d", resp.StatusCode)
		}
		if got := decodeSeen(t, body).Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
			t.Fatalf("the upstream was told the client is %q; want the peer 127.0.0.1 (the header is not trusted)", got)
		}
	}
	if m := metricsText(t, h); !strings.Contains(m, `rampart_untrusted_forwarding_headers_total{peer="loopback"} 3`) {
		t.Errorf("metric: want 3 requests counted\n%s", grep(m, "rampart_untrusted_forwarding"))
	}
	waitFor(t, 2*time.Second, func() bool { return strings.Contains(h.logs.String(), "trusted_proxies does not list") })
	if n := strings.Count(h.logs.String(), "trusted_proxies does not list"); n != 1 {
		t.Errorf("got %d warnings for one peer, want 1", n)
	}
	if !strings.Contains(h.logs.String(), `"header":"X-Forwarded-For"`) {
		t.Errorf("the warning does not name the header:\n%s", grep(h.logs.String(), "trusted_proxies"))
	}

	trusted := start(t, parse(t, up.URL, "trusted_proxies: [127.0.0.1/32]\n"))
	req, _ := http.NewRequest("GET", trusted.url+"/x", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	do(t, nil, req)
	if strings.Contains(trusted.logs.String(), "trusted_proxies does not list") || strings.Contains(metricsText(t, trusted), "rampart_untrusted_forwarding_headers_total{") {
		t.Error("a trusted proxy was reported")
	}
}

// TestRefusalsSayWhy: the access log line of every refusal carries the
// request id the client saw and a reason naming the rule, the check or the
// header.
func TestRefusalsSayWhy(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `trusted_proxies: [127.0.0.1/32]
allow:
  hosts: [app.test]
routes:
  - match: "GET /a"
    rate_limits: [{name: per-ip-a, key: ip, limit: 1, per: 1m}]
`))
	send := func(path string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", h.url+path, nil)
		req.Host = "app.test"
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		resp, _ := do(t, nil, req)
		return resp, resp.Header.Get("X-Request-Id")
	}
	cases := []struct {
		name, path string
		hdr        map[string]string
		status     int
		reason     string
	}{
		{"allowed", "/a", nil, 200, ""},
		{"rate limited", "/a", nil, 429, "rule=per-ip-a"},
		{"host not listed", "/a", map[string]string{"Host": "evil.test"}, 421, "host_not_allowed header=host"},
		{"forwarded host not listed", "/a", map[string]string{"X-Forwarded-Host": "evil.test"}, 421, "host_not_allowed header=x-forwarded-host"},
		{"not routed", "/nope", nil, 404, "path_not_routed"},
	}
	for _, c := range cases {
		resp, id := send(c.path, c.hdr)
		if resp.StatusCode != c.status {
			t.Fatalf("%s: got %d, want %d", c.name, resp.StatusCode, c.status)
		}
		var line string
		waitFor(t, 2*time.Second, func() bool {
			line = grep(h.logs.String(), `"request_id":"`+id+`"`)
			return strings.Contains(line, `"msg":"request"`)
		})
		if c.reason == "" {
			if strings.Contains(line, `"reason"`) {
				t.Errorf("%s: an allowed request logged a reason: %s", c.name, line)
			}
			continue
		}
		if !strings.Contains(line, `"reason":"`+c.reason+`"`) {
			t.Errorf("%s: log line %s\nwant reason %q", c.name, line, c.reason)
		}
	}
}
