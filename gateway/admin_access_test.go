package gateway_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
)

const adminTestToken = "0123456789abcdef0123456789abcdef"

// startPublicAdmin runs a gateway whose admin listener is bound to every
// interface (not loopback), and returns the gateway's URL and the admin
// listener's address on 127.0.0.1.
func startPublicAdmin(t *testing.T, c *config.Config) (gw, admin string) {
	t.Helper()
	g, err := gateway.New(c, gateway.Options{Logger: slog.New(slog.DiscardHandler), ProbeInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ln := testutil.Listen(t)
	adminLn, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on every interface: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln, adminLn) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = g.Close()
	})
	_, port, _ := net.SplitHostPort(adminLn.Addr().String())
	return "http://" + ln.Addr().String(), "127.0.0.1:" + port
}

func tokenFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(p, []byte(adminTestToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAdminOffLoopbackNeedsAccessControlInProduction(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	c := parse(t, up.URL, "admin: {listen: \"0.0.0.0:9999\"}\n")
	_, err := gateway.New(c, gateway.Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "admin.token_file") || !strings.Contains(err.Error(), "test.yaml") {
		t.Fatalf("got %v, want a configuration error naming admin.token_file", err)
	}
	if err := gateway.Check(c); err == nil || !strings.Contains(err.Error(), "admin.token_file") {
		t.Errorf("Check: got %v, want the same error", err)
	}
	// With a token it starts.
	c = parse(t, up.URL, fmt.Sprintf("admin: {listen: \"0.0.0.0:9999\", token_file: %q}\n", tokenFile(t)))
	g, err := gateway.New(c, gateway.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("with a token: %v", err)
	}
	_ = g.Close()
}

func adminRequest(t *testing.T, client *http.Client, method, u string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var req *http.Request
	if body != "" {
		req, _ = http.NewRequest(method, u, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, u, nil)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return do(t, client, req)
}

func TestAdminTokenAndSession(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	c := parse(t, up.URL, fmt.Sprintf("admin: {listen: \"0.0.0.0:9999\", token_file: %q}\n", tokenFile(t)))
	_, admin := startPublicAdmin(t, c)
	base := "http://" + admin
	bearer := map[string]string{"Authorization": "Bearer " + adminTestToken}

	// Health checks are open; everything else needs credentials.
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, _ := adminRequest(t, nil, "GET", base+p, "", nil); resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("%s: got 401, want it open", p)
		}
	}
	for _, p := range []string{"/", "/ui/app.js", "/ui/app.css"} {
		if resp, _ := adminRequest(t, nil, "GET", base+p, "", nil); resp.StatusCode != 200 {
			t.Errorf("the admin page's %s: got %d, want it open (it signs in)", p, resp.StatusCode)
		}
	}
	if resp, _ := adminRequest(t, nil, "GET", base+"/ui/other.js", "", nil); resp.StatusCode != 401 {
		t.Errorf("a path under /ui/ that is not the page's: got %d, want 401", resp.StatusCode)
	}
	for _, p := range []string{"/events", "/events/stream", "/stats", "/metrics", "/login-locks?user=a", "/debug/pprof/"} {
		resp, body := adminRequest(t, nil, "GET", base+p, "", nil)
		if resp.StatusCode != 401 || strings.TrimSpace(body) != `{"error":"admin token required"}` || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s without a token: got %d %q", p, resp.StatusCode, body)
		}
		resp, _ = adminRequest(t, nil, "GET", base+p, "", map[string]string{"Authorization": "Bearer wrong-token-wrong-token"})
		if resp.StatusCode != 401 {
			t.Errorf("%s with a wrong token: got %d", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/events", "/stats", "/metrics", "/"} {
		if resp, body := adminRequest(t, nil, "GET", base+p, "", bearer); resp.StatusCode != 200 {
			t.Errorf("%s with the token: got %d %s", p, resp.StatusCode, body)
		}
	}
	if resp, _ := adminRequest(t, nil, "POST", base+"/reload", "", bearer); resp.StatusCode != http.StatusConflict {
		t.Errorf("POST /reload with the token: got %d, want 409 (no file to reload)", resp.StatusCode)
	}

	// A browser exchanges the token for a cookie.
	resp, body := adminRequest(t, nil, "POST", base+"/session", "token=wrong", nil)
	if resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token: got %d %s", resp.StatusCode, body)
	}
	resp, body = adminRequest(t, nil, "POST", base+"/session", "token="+adminTestToken,
		map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site login: got %d %s", resp.StatusCode, body)
	}
	resp, body = adminRequest(t, nil, "POST", base+"/session", "token="+adminTestToken,
		map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != 200 {
		t.Fatalf("POST /session: got %d %s", resp.StatusCode, body)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "rampart_admin" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.MaxAge != 12*3600 || ck.Path != "/" {
		t.Fatalf("cookie: got %+v", ck)
	}
	if strings.Contains(ck.Value, adminTestToken) {
		t.Error("the cookie holds the token")
	}
	withCookie := func(extra map[string]string) map[string]string {
		m := map[string]string{"Cookie": "rampart_admin=" + ck.Value}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, p := range []string{"/events", "/stats", "/metrics"} {
		if resp, body := adminRequest(t, nil, "GET", base+p, "", withCookie(nil)); resp.StatusCode != 200 {
			t.Errorf("%s with the cookie: got %d %s", p, resp.StatusCode, body)
		}
	}
	if resp, _ := adminRequest(t, nil, "GET", base+"/events", "", map[string]string{"Cookie": "rampart_admin=" + ck.Value[:len(ck.Value)-2] + "AA"}); resp.StatusCode != 401 {
		t.Errorf("forged cookie: got %d, want 401", resp.StatusCode)
	}
	// A state-changing request on the cookie must come from the page.
	for name, hdr := range map[string]map[string]string{
		"no origin":  nil,
		"cross-site": {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
		"same-site":  {"Origin": "http://other.localhost:1", "Sec-Fetch-Site": "same-site"},
		"null":       {"Origin": "null"},
	} {
		if resp, body := adminRequest(t, nil, "POST", base+"/login-locks/unlock?user=alice", "", withCookie(hdr)); resp.StatusCode != 403 {
			t.Errorf("cookie POST, %s: got %d %s, want 403", name, resp.StatusCode, body)
		}
	}
	if resp, body := adminRequest(t, nil, "POST", base+"/reload", "", withCookie(map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"})); resp.StatusCode != http.StatusConflict {
		t.Errorf("same-origin cookie POST /reload: got %d %s, want 409 (authorised; no file)", resp.StatusCode, body)
	}
	// Logging out clears the cookie.
	resp, _ = adminRequest(t, nil, "DELETE", base+"/session", "", withCookie(map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"}))
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "rampart_admin" && c.MaxAge < 0)
	}
	if resp.StatusCode != 200 || !cleared {
		t.Errorf("DELETE /session: got %d, cookie cleared %v", resp.StatusCode, cleared)
	}
	resp, _ = adminRequest(t, nil, "POST", base+"/session/logout", "", nil)
	if resp.StatusCode != 200 {
		t.Errorf("POST /session/logout: got %d", resp.StatusCode)
	}
}

// TestAdminOnLoopbackReadsOpen keeps the loopback default: reads need no
// token, state changes keep their own rule.
func TestAdminOnLoopbackReadsOpen(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, fmt.Sprintf("admin: {token_file: %q}\n", tokenFile(t))))
	for _, p := range []string{"/events", "/stats", "/metrics"} {
		if resp, body := get(t, h.admin+p); resp.StatusCode != 200 {
			t.Errorf("%s on loopback: got %d %s", p, resp.StatusCode, body)
		}
	}
	if resp, _ := adminRequest(t, nil, "POST", h.admin+"/reload", "", nil); resp.StatusCode != 401 {
		t.Errorf("POST /reload without the token: got %d, want 401", resp.StatusCode)
	}
	// The dashboard, under its own CSP.
	resp, body := get(t, h.admin+"/")
	if resp.StatusCode != 200 || !strings.Contains(body, "Rampart dashboard") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("GET /: got %d %q, CSP %q", resp.StatusCode, body, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestAdminMutualTLS(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	pki := testutil.NewPKI(t)
	caFile, certFile, keyFile, caPool, clientCert := pki.CAFile, pki.ServerCertFile, pki.ServerKeyFile, pki.CAPool, pki.Client
	c := parse(t, up.URL, fmt.Sprintf("admin: {listen: \"0.0.0.0:9999\", cert_file: %q, key_file: %q, client_ca: %q}\n", certFile, keyFile, caFile))
	_, admin := startPublicAdmin(t, c)
	base := "https://" + admin
	noCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool}}}
	withCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool, Certificates: []tls.Certificate{clientCert}}}}
	if resp, _ := adminRequest(t, noCert, "GET", base+"/healthz", "", nil); resp.StatusCode != 200 {
		t.Errorf("/healthz without a certificate: got %d", resp.StatusCode)
	}
	if resp, body := adminRequest(t, noCert, "GET", base+"/events", "", nil); resp.StatusCode != 401 {
		t.Errorf("/events without a certificate: got %d %s", resp.StatusCode, body)
	}
	if resp, body := adminRequest(t, withCert, "GET", base+"/events", "", nil); resp.StatusCode != 200 {
		t.Errorf("/events with a client certificate: got %d %s", resp.StatusCode, body)
	}
	if resp, body := adminRequest(t, withCert, "POST", base+"/reload", "", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("POST /reload with a client certificate: got %d %s, want 409 (authorised; no file)", resp.StatusCode, body)
	}
	// A certificate from another CA is refused in the handshake.
	stranger := testutil.NewPKI(t).Client
	bad := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool, Certificates: []tls.Certificate{stranger}}}}
	if resp, err := bad.Get(base + "/events"); err == nil {
		resp.Body.Close()
		t.Errorf("a certificate of another CA: got %d, want the handshake refused", resp.StatusCode)
	}
	// Plain HTTP to the TLS admin listener gets nothing useful.
	if resp, err := http.Get("http://" + admin + "/events"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served the events")
		}
	}
}
