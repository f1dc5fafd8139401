package gateway_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/internal/observatory"
	"github.com/rampartsec/rampart/internal/testutil"
)

// helmetHeaders are a few of helmet's defaults every response must carry.
var helmetHeaders = map[string]string{
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "SAMEORIGIN",
	"Strict-Transport-Security":  "max-age=31536000; includeSubDomains",
	"Cross-Origin-Opener-Policy": "same-origin",
	"Referrer-Policy":            "strict-origin-when-cross-origin",
}

// TestHeadersOnEveryResponse: proxied responses and every response Rampart
// makes itself carry the security headers, and leaking headers never do.
func TestHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "Express")
		w.Header().Set("Server", "nginx/1.18.0")
		w.Header().Set("X-Frame-Options", "ALLOWALL")
		switch r.URL.Path {
		case "/api/fail":
			w.WriteHeader(500)
			fmt.Fprint(w, "Error: boom\n    at /app/server.js:10:5")
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, `limits: {max_body_bytes: 10}
allow: {deny_ips: [192.0.2.0/24]}
routes:
  - match: "/api/{path...}"
  - match: "/private/{path...}"
    allow_ips: [10.0.0.0/8]
`))
	down := start(t, parse(t, "http://"+testutil.FreeAddr(t), ""))
	tests := []struct {
		name   string
		url    string
		method string
		body   string
		want   int
	}{
		{"proxied 200", h.url + "/api/x", "GET", "", 200},
		{"shielded upstream 500", h.url + "/api/fail", "GET", "", 500},
		{"route 404", h.url + "/nope", "GET", "", 404},
		{"route 405", h.url + "/api/x", "TRACE", "", 405},
		{"access 403", h.url + "/private/x", "GET", "", 403},
		{"canonical 400", h.url + "/api/a%2fb", "GET", "", 400},
		{"body 413", h.url + "/api/x", "POST", "01234567890", 413},
		{"upstream down 502", down.url + "/", "GET", "", 502},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
			resp, body := do(t, nil, req)
			if resp.StatusCode != tc.want {
				t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, tc.want, body)
			}
			for k, want := range helmetHeaders {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("CSP: got %q", csp)
			}
			for _, k := range []string{"X-Powered-By", "Server"} {
				if v := resp.Header.Get(k); v != "" {
					t.Errorf("leaking header %s: %q", k, v)
				}
			}
			if strings.Contains(body, "server.js") {
				t.Errorf("stack trace reached the client: %s", body)
			}
		})
	}
}

// TestShieldedErrorIsLogged: an upstream stack trace is replaced by the
// neutral page and found in the log under the incident id.
func TestShieldedErrorIsLogged(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(500)
		fmt.Fprint(w, "<pre>TypeError: Cannot read properties of undefined (reading 'id')<br>    at /srv/app/routes/notes.js:42:17</pre>")
	}))
	t.Cleanup(up.Close)
	h := start(t, parse(t, up.URL, ""))
	req, _ := http.NewRequest("GET", h.url+"/notes/1", nil)
	req.Header.Set("Accept", "text/html")
	resp, body := do(t, nil, req)
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 500 || strings.Contains(body, "notes.js") || !strings.Contains(body, id) {
		t.Fatalf("got %d %q, want a neutral page with incident %s", resp.StatusCode, body, id)
	}
	if !testutil.WaitFor(3*time.Second, func() bool {
		for _, l := range h.logs.Lines() {
			if strings.Contains(l, id) && strings.Contains(l, "notes.js") {
				return true
			}
		}
		return false
	}) {
		t.Errorf("incident %s with its excerpt not in the log:\n%s", id, h.logs)
	}
}

func TestRouteHeaderOverride(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, `routes:
  - match: "GET /widget"
    headers:
      remove: [X-Frame-Options]
      csp: {frame-ancestors: ["https://partner.example"]}
  - match: "GET /{$}"
`))
	resp, _ := get(t, h.url+"/widget")
	if v := resp.Header.Get("X-Frame-Options"); v != "" {
		t.Errorf("widget X-Frame-Options: got %q, want none", v)
	}
	if csp := resp.Header.Values("Content-Security-Policy"); len(csp) != 1 || !strings.Contains(csp[0], "frame-ancestors https://partner.example") {
		t.Errorf("widget CSP: got %q", csp)
	}
	resp, _ = get(t, h.url+"/")
	if v := resp.Header.Get("X-Frame-Options"); v != "SAMEORIGIN" {
		t.Errorf("other route X-Frame-Options: got %q, want SAMEORIGIN", v)
	}
}

func TestRampartEndpointsNotProxied(t *testing.T) {
	t.Parallel()
	up := echoUpstream(t)
	h := start(t, parse(t, up.URL, ""))
	resp, body := get(t, h.url+"/.rampart/anything")
	assertNeutral(t, resp, body, 404)
	req, _ := http.NewRequest("POST", h.url+"/.rampart/csp-report", strings.NewReader(
		`{"csp-report":{"document-uri":"https://app.example/","violated-directive":"script-src","blocked-uri":"inline"}}`))
	req.Header.Set("Content-Type", "application/csp-report")
	resp, _ = do(t, nil, req)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("csp report: got %d, want 204", resp.StatusCode)
	}
	_, metrics := get(t, h.admin+"/metrics")
	if !strings.Contains(metrics, `rampart_csp_reports_total{outcome="accepted"} 1`) {
		t.Errorf("report not counted:\n%s", grep(metrics, "csp"))
	}
}

// TestObservatoryScoreThroughGateway: zero-config Rampart in front of a bare
// Express app scores at least as high on the MDN HTTP Observatory's scoring
// as the same app with helmet(), and the strict preset scores higher.
func TestObservatoryScoreThroughGateway(t *testing.T) {
	t.Parallel()
	dir := testutil.NodeAppsDir(t)
	helmetApp := testutil.StartNode(t, dir, "app.js", "MODE=helmet", "NODE_ENV=production")
	bareApp := testutil.StartNode(t, dir, "app.js", "MODE=bare", "NODE_ENV=production")
	certFile, keyFile, pool := testutil.SelfSignedCert(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := fmt.Sprintf("tls: {cert: %q, key: %q}\n", certFile, keyFile)

	score := func(name string, httpsPort int) int {
		// Plain HTTP redirects to HTTPS the same way for every candidate.
		plain := testutil.Listen(t)
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://localhost:"+strconv.Itoa(httpsPort)+r.URL.RequestURI(), http.StatusMovedPermanently)
		})}
		go func() { _ = srv.Serve(plain) }()
		t.Cleanup(func() { _ = srv.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		site, err := observatory.Retrieve(ctx, observatory.Target{Hostname: "localhost",
			HTTPPort: plain.Addr().(*net.TCPAddr).Port, HTTPSPort: httpsPort, Roots: pool})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res := observatory.Score(site)
		t.Logf("%s: %d (%s)", name, res.Score, res.Grade)
		return res.Score
	}
	// Express with helmet(), served over TLS by a plain Go proxy.
	helmetLn := tls.NewListener(testutil.Listen(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	helmetSrv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(helmetApp.URL + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})}
	go func() { _ = helmetSrv.Serve(helmetLn) }()
	t.Cleanup(func() { _ = helmetSrv.Close() })
	helmet := score("express with helmet()", helmetLn.Addr().(*net.TCPAddr).Port)

	zero := start(t, parse(t, bareApp.URL, tlsCfg))
	zeroPort, _ := strconv.Atoi(zero.url[strings.LastIndex(zero.url, ":")+1:])
	got := score("zero-config rampart + bare express", zeroPort)
	if got < helmet {
		t.Errorf("zero-config rampart scored %d, below helmet()'s %d", got, helmet)
	}
	strict := start(t, parse(t, bareApp.URL, tlsCfg+"headers: {preset: strict}\n"))
	strictPort, _ := strconv.Atoi(strict.url[strings.LastIndex(strict.url, ":")+1:])
	if s := score("strict rampart + bare express", strictPort); s <= helmet {
		t.Errorf("strict preset scored %d, not above helmet()'s %d", s, helmet)
	}
}
