package scan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/gateway"
	"github.com/rampartsec/rampart/internal/testutil"
	"github.com/rampartsec/rampart/scan"
)

// startGateway runs zero-config Rampart over TLS in front of upstream, in
// this process, and returns its https URL.
func startGateway(t *testing.T, upstream, certFile, keyFile string) string {
	t.Helper()
	cfg, err := config.Parse("zero-config", fmt.Appendf(nil, "upstream: %q\ntls: {cert: %q, key: %q}\n", upstream, certFile, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln := testutil.Listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
		_ = g.Close()
	})
	return "https://" + ln.Addr().String()
}

// TestExpress scans the three sites of the checklist's story, each over
// TLS: a bare Express app, the same app with helmet, cors and an error
// handler, and zero-config Rampart in front of the bare app. The bare app
// fails, helmet improves it, and Rampart passes every header and leakage
// check. Each scan takes under 5 seconds.
func TestExpress(t *testing.T) {
	t.Parallel()
	dir := testutil.NodeAppsDir(t)
	certFile, keyFile, pool := testutil.SelfSignedCert(t, t.TempDir())
	tlsEnv := []string{"TLS_CERT=" + certFile, "TLS_KEY=" + keyFile, "NODE_ENV=development"}
	bare := testutil.StartNode(t, dir, "app.js", append([]string{"MODE=bare"}, tlsEnv...)...)
	helmet := testutil.StartNode(t, dir, "app.js", append([]string{"MODE=helmet-cors"}, tlsEnv...)...)
	// The gateway's upstream is the same bare app, over plain HTTP.
	upstream := testutil.StartNode(t, dir, "app.js", "MODE=bare", "NODE_ENV=development")
	rampart := startGateway(t, upstream.URL, certFile, keyFile)

	headerChecks := []string{"csp", "hsts", "x-content-type-options", "frame-options", "referrer-policy",
		"cross-origin-resource-policy", "cross-origin-opener-policy", "subresource-integrity", "x-powered-by", "server-version"}
	leakChecks := []string{"leak-not-found", "leak-malformed-json", "leak-banner"}
	corsChecks := []string{"cors-arbitrary-origin", "cors-null-origin", "cors-lookalike-origin", "cors-credentials"}

	scanIt := func(t *testing.T, url string) *scan.Report {
		t.Helper()
		start := time.Now()
		rep := run(t, scan.Config{URL: url, RootCAs: pool, HTTPPort: closedPort(t)})
		if took := time.Since(start); took >= 5*time.Second {
			t.Errorf("scan took %s, want under 5s", took)
		}
		if rep.Requests > scan.DefaultMaxRequests {
			t.Errorf("%d requests, over the default budget", rep.Requests)
		}
		t.Logf("%s: score %d (%s), %d requests, %s", url, rep.Observatory.Score, rep.Observatory.Grade, rep.Requests, rep.Duration)
		return rep
	}
	scores := map[string]int{}

	t.Run("bare express fails", func(t *testing.T) {
		rep := scanIt(t, fmt.Sprintf("https://127.0.0.1:%d/", bare.Port))
		scores["bare"] = rep.Observatory.Score
		expect(t, rep, map[string]scan.Status{
			"csp": scan.Fail, "hsts": scan.Fail, "frame-options": scan.Fail, "x-content-type-options": scan.Warn,
			"cross-origin-opener-policy": scan.Warn, "x-powered-by": scan.Warn,
			"leak-not-found": scan.Pass, "leak-malformed-json": scan.Fail,
			"https": scan.Pass, "tls-certificate": scan.Pass, "tls-version": scan.Pass,
		})
		if c, _ := rep.Check("leak-malformed-json"); !strings.Contains(c.Detail, "node-stack") || !strings.Contains(c.Detail, "JSON.parse") {
			t.Errorf("leak-malformed-json: got %q, want the node stack quoted", c.Detail)
		}
		if c, _ := rep.Check("x-powered-by"); !strings.Contains(c.Detail, "X-Powered-By: Express") {
			t.Errorf("x-powered-by: got %q", c.Detail)
		}
		for _, id := range corsChecks {
			expect(t, rep, map[string]scan.Status{id: scan.Pass})
		}
	})

	t.Run("helmet, cors and an error handler improve it", func(t *testing.T) {
		rep := scanIt(t, fmt.Sprintf("https://127.0.0.1:%d/", helmet.Port))
		scores["helmet"] = rep.Observatory.Score
		for _, id := range append(append(slicesOf(headerChecks), leakChecks...), corsChecks...) {
			expect(t, rep, map[string]scan.Status{id: scan.Pass})
		}
	})

	t.Run("rampart in front passes every header and leakage check", func(t *testing.T) {
		rep := scanIt(t, rampart+"/")
		scores["rampart"] = rep.Observatory.Score
		for _, id := range append(append(slicesOf(headerChecks), leakChecks...), corsChecks...) {
			expect(t, rep, map[string]scan.Status{id: scan.Pass})
		}
		// The shield replaced Express's stack page: same status, neutral
		// body.
		if c, _ := rep.Check("leak-malformed-json"); !strings.Contains(c.Detail, "answered 400") {
			t.Errorf("leak-malformed-json: got %q, want the 400 kept", c.Detail)
		}
	})

	if !(scores["bare"] < scores["helmet"] && scores["helmet"] <= scores["rampart"]) {
		t.Errorf("scores: bare %d, helmet %d, rampart %d; want bare < helmet <= rampart", scores["bare"], scores["helmet"], scores["rampart"])
	}

	t.Run("session cookies as express sets them", func(t *testing.T) {
		rep := scanIt(t, fmt.Sprintf("https://127.0.0.1:%d/session", bare.Port))
		expect(t, rep, map[string]scan.Status{
			"cookie-secure": scan.Fail, "cookie-httponly": scan.Fail, "cookie-samesite": scan.Warn, "cookie-prefix": scan.Warn, "cookie-expiry": scan.Warn,
		})
		for id, sub := range map[string]string{
			"cookie-secure":   "connect.sid, remember_me",
			"cookie-httponly": "remember_me",
			"cookie-expiry":   "remember_me (3650 days)",
		} {
			if c, _ := rep.Check(id); !strings.Contains(c.Detail, sub) {
				t.Errorf("%s: got %q, want it to contain %q", id, c.Detail, sub)
			}
		}
	})

	t.Run("an unthrottled login", func(t *testing.T) {
		rep := run(t, scan.Config{URL: fmt.Sprintf("https://127.0.0.1:%d/", bare.Port), RootCAs: pool, HTTPPort: closedPort(t), LoginPath: "/login"})
		c, _ := rep.Check("login-rate-limit")
		if c.Status != scan.Fail || !strings.Contains(c.Detail, "20 POSTs to /login in a row (answers 20×401)") {
			t.Errorf("login-rate-limit: got %s %q, want fail after 20 POSTs", c.Status, c.Detail)
		}
		if rep.Requests > scan.DefaultMaxRequests {
			t.Errorf("%d requests, over the budget", rep.Requests)
		}
	})
}

func slicesOf(s []string) []string { return append([]string(nil), s...) }
